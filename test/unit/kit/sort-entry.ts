// AssemblyScript entry for sort.test.ts: the kit heapsort (assembly/kit/sort.ts) instantiated for
// the two shapes the policies use, compiled on its own by the test (not part of the engine).
import { sortByKey } from "../../../assembly/kit/sort";

// Values that are their own key (buddy's packed arena/offset/order keys).
@final @unmanaged class Itself {
  // @ts-ignore: decorator
  @inline key(v: u64): u64 { return v; }
}

// Record indices keyed by a table of u64 (segregated's records by their blocks' addresses).
let keyTable: usize = 0;
@final @unmanaged class ByTable {
  // @ts-ignore: decorator
  @inline key(n: u32): u64 { return load<u64>(keyTable + (<usize>n << 3)); }
}

export function alloc(bytes: usize): usize { return heap.alloc(bytes); }
export function sortValues(p: usize, count: u32): void { sortByKey<u64, Itself>(p, count); }
export function sortIndices(p: usize, count: u32, table: usize): void {
  keyTable = table;
  sortByKey<u32, ByTable>(p, count);
}
