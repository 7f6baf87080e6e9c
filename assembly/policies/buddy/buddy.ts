// === buddy: the binary buddy system (Knowlton 1965; Knuth TAOCP 2.5, Algorithms R and S) ===
//
// Memory comes in arenas of arenaBytes (a power of two, one VM reservation each). Every block is
// 2^k bytes at an offset from its arena's base that is a multiple of 2^k; its buddy is the block
// at offset XOR 2^k.
//   request     block bytes = max(n, 1) + 16 (header), plus (alignment - 16) for an aligned request
//               (the user pointer is aligned inside the block); k = the smallest order whose 2^k
//               holds that, at least log2(minBlockBytes)
//   alloc (R)   take the head of the first non-empty free list of order j >= k (a new arena when
//               there is none); while j > k: halve it, the upper half goes on list j - 1
//   free (S)    while the buddy is a free block of the same order (and k is below the arena's
//               order): take it off its list and merge; the result goes at the head of its list
//   lists       one per order, LIFO, as Knuth's AVAIL[k]
//   large       requests above arenaBytes get their own reservation, released on free
//   realloc     a block whose order still fits keeps its place: a smaller order gives its upper
//               halves back (each goes on its list); a larger one moves (allocate, copy, free)
//   pages       a block's pages are committed when it is handed out; a free block keeps its first
//               page committed (Knuth keeps TAG, KVAL and the list links in the block's first words)
//   trim        releases every arena that is one whole free block, and decommits every page of a
//               free block but its first; the pad is not used
//
// ╒═══ block record (REC_BYTES = 24) ══════════════════════════════════════╕
// │ 0 addr u64 │ 8 next u32 │ 12 prev u32 │ 16 flags u32 │ 20 arena u32 │
// ╘═════════════════════════════════════════════════════════════════════════╛
//   flags: FREE | LARGE, bits 8..15 log2(alignment), bits 16..23 order, bits 24..31 heap.
//   An arena block's size is 2^order (not stored). A large block is on no list: its bytes are the
//   u64 over next and prev (destroy and check find large blocks through the pool).
//   Free blocks are found by address in one hash table (addr -> record) shared by every buddy heap.
//
// Invariants (buddyCheck returns the number of the first that fails):
//   B1 the blocks of each arena tile it; every block lies at an offset that is a multiple of its size
//   B2 each list holds free blocks of its order only, links agree, counts equal; the hash table
//      holds exactly the free blocks
//   B3 no free block's buddy is a free block of the same order (they would have merged)
//   B4 counters equal a recount; busy blocks lie in committed pages, free blocks' first page too

import { resize } from "../../mem";
import {
  Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS,
  K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage,
} from "../../abi";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, recordAt, poolBytes, reserveForHint } from "../../kit/records";
import { paramInt, PARAM_INVALID } from "../../kit/params";
import { counterAdd, putSlot } from "../../kit/counters";
import { PAGE_SIZE_BYTES, PAGE_SHIFT, alignUp, alignDown, KiB, MiB } from "../../vm/constants";
import {
  vmReserve, vmCommit, vmRecommit, vmDecommit, vmRelease, touchPages, vmIsCommitted, vmRegionAt, vmRegionCommittedPages,
} from "../../vm/space";
import { HEADER_BYTES, neededBytes, userAddressOf, keptAlign } from "../textbook/geometry";
import { sortByKey } from "../../kit/sort";


// Parameters (slot index in the HEAP_CREATE params block; NaN = default).
export const BUDDY_MIN_BLOCK_BYTES = 0;   // default 32: smallest block (a power of two, header included)
export const BUDDY_ARENA_BYTES = 1;       // default 16 MiB: the largest block and one reservation
export const BUDDY_PARAM_COUNT = 2;
const DEFAULT_MIN_BLOCK_BYTES: u64 = 32;
const DEFAULT_ARENA_BYTES: u64 = 16 * MiB;
const MIN_ARENA_BYTES: u64 = 64 * KiB;     // one VM allocation granule
const MAX_ARENA_BYTES: u64 = 1024 * MiB;

// Policy counters (kit/counters.ts; names in index.ts, same order). 3..6 are counted where they
// happen, the others computed at sample time.
const C_ARENAS = 0;
const C_ARENA_BYTES = 1;
const C_LARGEST_FREE_ORDER = 2;   // -1 (written as 0 - 1) when no block is free
const C_SPLITS = 3;               // halvings, cumulative
const C_MERGES = 4;               // buddy merges, cumulative
const C_RELEASED_ARENAS = 5;      // by trim, cumulative
const C_TRIMMED_BYTES = 6;        // decommitted or released by trim, cumulative
const C_FREE_BLOCK_BYTES = 7;     // bytes of free blocks, committed or not

const FL_FREE: u32 = 1;
const FL_LARGE: u32 = 2;
const FL_ALIGN_SHIFT: u32 = 8;
const FL_ORDER_SHIFT: u32 = 16;
const FL_HEAP_SHIFT: u32 = 24;
const DEAD: u32 = 0xFFFFFFFF;
const MAX_ORDER: u32 = 30;
const NO_ARENA: u64 = 0;

// ---------------------------------------------------------------- records

@unmanaged class Blk {
  addr: u64;
  next: u32;      // free list link; a large block: low half of its bytes
  prev: u32;      // free list link; a large block: high half of its bytes
  flags: u32;
  arena: u32;

  // The block's bytes: 2^order for an arena block, the stored bytes for a large one.
  // @ts-ignore: decorator
  @inline get size(): u64 {
    const f = this.flags;
    return f & FL_LARGE ? load<u64>(changetype<usize>(this), LARGE_BYTES_OFFSET) : <u64>1 << ((f >> FL_ORDER_SHIFT) & 0xFF);
  }
}
const REC_BYTES: usize = 24;
// A large block's bytes, over next and prev (a u64 at offset 8: records are 8-byte aligned).
const LARGE_BYTES_OFFSET: usize = 8;
if (offsetof<Blk>("next") != LARGE_BYTES_OFFSET || offsetof<Blk>("prev") != LARGE_BYTES_OFFSET + 4) ERROR("buddy large bytes");
if (offsetof<Blk>() != REC_BYTES) ERROR("buddy record layout");

// Every buddy heap's block records, one kit pool (dropped records link through next).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>offsetof<Blk>("next"), 4096);
// Records per live block the pool is sized for from the replay's hint (kit/hint.ts): each busy
// block and a free buddy beside it.
const RECORDS_PER_LIVE_BLOCK: u32 = 2;

// @ts-ignore: decorator
@inline function B(n: u32): Blk { return changetype<Blk>(recBase + <usize>n * REC_BYTES); }
// RECS.base kept in a global: read from the pool in memory, it is a load per record access that
// the compiler cannot keep across the stores between them. The pool moves only where records are
// taken (newRec) and where a heap is created (reserveForHint): both set it again.
let recBase: usize = 0;
// @ts-ignore: decorator
@inline function orderOf(n: u32): u32 { return (B(n).flags >> FL_ORDER_SHIFT) & 0xFF; }

// @ts-ignore: decorator
@inline function newRec(addr: u64, flags: u32, arena: u32): u32 {
  const n = takeRecord(RECS);
  recBase = RECS.base;
  const b = B(n);
  b.addr = addr; b.next = 0; b.prev = 0; b.flags = flags; b.arena = arena;
  return n;
}

// @ts-ignore: decorator
@inline function dropRec(n: u32): void {
  B(n).flags = DEAD;
  dropRecord(RECS, n);
}

export function buddyRecordBytes(): u32 { return <u32>REC_BYTES; }

// ---------------------------------------------------------------- free blocks by address

// Open addressing with linear probing; key 0 = empty (no block lives at address 0); deletion
// shifts the following entries back, so no tombstones. Grows at half full.
let mapKeys: usize = 0;    // u64 per slot
let mapVals: usize = 0;    // u32 per slot
let mapBits: u32 = 0;
let mapCount: u32 = 0;

// @ts-ignore: decorator
@inline function slotOf(key: u64): u32 { return <u32>(((key >> 4) * 0x9E3779B97F4A7C15) >> (64 - <u64>mapBits)); }

function mapGrow(): void {
  const oldKeys = mapKeys, oldVals = mapVals, oldCap: u32 = mapBits ? <u32>1 << mapBits : 0;
  mapBits = mapBits ? mapBits + 1 : 12;
  const cap = <u32>1 << mapBits;
  mapKeys = heap.alloc(<usize>cap * 8);
  mapVals = heap.alloc(<usize>cap * 4);
  memory.fill(mapKeys, 0, <usize>cap * 8);
  mapCount = 0;
  for (let i: u32 = 0; i < oldCap; i++) {
    const k = load<u64>(oldKeys + (<usize>i << 3));
    if (k) mapInsert(k, load<u32>(oldVals + (<usize>i << 2)));
  }
  if (oldKeys) { heap.free(oldKeys); heap.free(oldVals); }
}

// @ts-ignore: decorator
@inline function mapPut(key: u64, v: u32): void {
  if (!mapBits || (mapCount + 1) * 2 > (<u32>1 << mapBits)) mapGrow();
  mapInsert(key, v);
}

// mapPut without the growth test (the table has room).
// @ts-ignore: decorator
@inline function mapInsert(key: u64, v: u32): void {
  const mask = (<u32>1 << mapBits) - 1;
  let i = slotOf(key);
  while (load<u64>(mapKeys + (<usize>i << 3))) i = (i + 1) & mask;
  store<u64>(mapKeys + (<usize>i << 3), key);
  store<u32>(mapVals + (<usize>i << 2), v);
  mapCount++;
}

// @ts-ignore: decorator
@inline function mapGet(key: u64): u32 {
  if (!mapBits) return 0;
  const mask = (<u32>1 << mapBits) - 1;
  let i = slotOf(key);
  while (true) {
    const k = load<u64>(mapKeys + (<usize>i << 3));
    if (!k) return 0;
    if (k == key) return load<u32>(mapVals + (<usize>i << 2));
    i = (i + 1) & mask;
  }
  return 0;
}

// @ts-ignore: decorator
@inline function mapDelete(key: u64): void {
  const mask = (<u32>1 << mapBits) - 1;
  let i = slotOf(key);
  while (load<u64>(mapKeys + (<usize>i << 3)) != key) i = (i + 1) & mask;
  // Backward shift: move later entries of the probe run into the hole when their home allows.
  let j = i;
  while (true) {
    j = (j + 1) & mask;
    const k = load<u64>(mapKeys + (<usize>j << 3));
    if (!k) break;
    const home = slotOf(k);
    // k may move to i when i lies cyclically in [home, j).
    if (((j - home) & mask) >= ((j - i) & mask)) {
      store<u64>(mapKeys + (<usize>i << 3), k);
      store<u32>(mapVals + (<usize>i << 2), load<u32>(mapVals + (<usize>j << 2)));
      i = j;
    }
  }
  store<u64>(mapKeys + (<usize>i << 3), 0);
  mapCount--;
}

// Engine bytes of the records and the hash table (all buddy heaps).
export function buddyEngineBytes(): usize { return poolBytes(RECS) + (mapBits ? (<usize>1 << mapBits) * 12 : 0); }

// ---------------------------------------------------------------- heap state

@unmanaged class BuddyHeap {
  arenas: usize;        // u64 base per arena (NO_ARENA = released slot)
  arenaCap: u32;
  arenaCount: u32;      // slots used
  liveArenas: u32;
  minOrder: u32;
  maxOrder: u32;
  pad: u32;
  busyBytes: u64;       // arena blocks in use
  busyBlocks: u64;
  freeBytes: u64;       // arena blocks free (committed or not)
  freeBlocks: u64;
  largeBytes: u64;
  largeBlocks: u64;
}
const HEAP_BYTES: usize = offsetof<BuddyHeap>();
const LISTS_BYTES: usize = <usize>(MAX_ORDER + 1) * 4;   // head per order
const COUNTS_BYTES: usize = <usize>(MAX_ORDER + 1) * 8;  // free blocks per order
const STATE_BYTES: usize = HEAP_BYTES + LISTS_BYTES + COUNTS_BYTES;

const states = memory.data(MAX_HEAPS * 4);
let H: BuddyHeap = changetype<BuddyHeap>(0);
let heapNo: u32 = 0;
let owner: u8 = 0;

function use(heapIndex: i32): void {
  H = changetype<BuddyHeap>(<usize>load<u32>(states + (<usize>heapIndex << 2)));
  heapNo = <u32>heapIndex;
  owner = <u8>heapIndex;
}

// @ts-ignore: decorator
@inline function headSlot(k: u32): usize { return changetype<usize>(H) + HEAP_BYTES + (<usize>k << 2); }
// @ts-ignore: decorator
@inline function countSlot(k: u32): usize { return changetype<usize>(H) + HEAP_BYTES + LISTS_BYTES + (<usize>k << 3); }
// @ts-ignore: decorator
@inline function arenaBase(i: u32): u64 { return load<u64>(H.arenas + (<usize>i << 3)); }

// @ts-ignore: decorator
@inline function isPow2(x: i64): bool { return x > 0 && (x & (x - 1)) == 0; }

export function buddyCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  const min = paramInt(params, count, BUDDY_MIN_BLOCK_BYTES, DEFAULT_MIN_BLOCK_BYTES);
  const arena = paramInt(params, count, BUDDY_ARENA_BYTES, DEFAULT_ARENA_BYTES);
  if (!isPow2(min) || min < <i64>(2 * HEADER_BYTES)) return Status.BAD_PARAM;
  if (!isPow2(arena) || arena < <i64>MIN_ARENA_BYTES || arena > <i64>MAX_ARENA_BYTES || arena < min) return Status.BAD_PARAM;
  const st = heap.alloc(STATE_BYTES);
  memory.fill(st, 0, STATE_BYTES);
  store<u32>(states + (<usize>heapIndex << 2), <u32>st);
  use(heapIndex);
  reserveForHint(RECS, RECORDS_PER_LIVE_BLOCK);
  recBase = RECS.base;   // the reservation may have moved the pool
  H.minOrder = 63 - <u32>clz(<u64>min);
  H.maxOrder = 63 - <u32>clz(<u64>arena);
  return Status.OK;
}

export function buddyDestroy(heapIndex: i32): void {
  use(heapIndex);
  for (let k = H.minOrder; k <= H.maxOrder; k++) {
    let n = load<u32>(headSlot(k));
    while (n) { const x = B(n).next; mapDelete(B(n).addr); dropRec(n); n = x; }
  }
  // Large blocks (on no list), then the arenas; busy arena blocks: their records are found through
  // the pool (rare op).
  for (let r: u32 = 1; r < RECS.high; r++) {
    const f = B(r).flags;
    if (f != DEAD && (f >> FL_HEAP_SHIFT) == heapNo && (f & FL_LARGE)) { vmRelease(B(r).addr); dropRec(r); }
  }
  for (let i: u32 = 0; i < H.arenaCount; i++) if (arenaBase(i) != NO_ARENA) vmRelease(arenaBase(i));
  for (let r: u32 = 1; r < RECS.high; r++) {
    const f = B(r).flags;
    if (f != DEAD && (f >> FL_HEAP_SHIFT) == heapNo) dropRec(r);
  }
  if (H.arenas) heap.free(H.arenas);
  heap.free(changetype<usize>(H));
  store<u32>(states + (<usize>heapIndex << 2), 0);
}

// ---------------------------------------------------------------- lists

// The free block n goes to the head of its order's list (Knuth's S3 and R4): its header is written,
// so its first page is committed: a VM call, or only the call counted (vmRecommit) when the caller
// knows that page is committed (`known`: it lies in a busy block or in the first page of a free one).
// @ts-ignore: decorator
@inline function pushFree(n: u32, k: u32, known: bool): void {
  B(n).flags = FL_FREE | (k << FL_ORDER_SHIFT) | (heapNo << FL_HEAP_SHIFT);
  const h = load<u32>(headSlot(k));
  B(n).next = h;
  B(n).prev = 0;
  if (h) B(h).prev = n;
  store<u32>(headSlot(k), n);
  store<u64>(countSlot(k), load<u64>(countSlot(k)) + 1);
  mapPut(B(n).addr, n);
  H.freeBytes += <u64>1 << k;
  H.freeBlocks++;
  const page = alignDown(B(n).addr, PAGE_SIZE_BYTES);
  if (known) vmRecommit(page, PAGE_SIZE_BYTES);
  else vmCommit(page, PAGE_SIZE_BYTES);
  touchPages(B(n).addr, HEADER_BYTES, owner);
}

// @ts-ignore: decorator
@inline function unlinkFree(n: u32): void {
  const k = orderOf(n);
  const p = B(n).prev, x = B(n).next;
  if (p) B(p).next = x; else store<u32>(headSlot(k), x);
  if (x) B(x).prev = p;
  store<u64>(countSlot(k), load<u64>(countSlot(k)) - 1);
  mapDelete(B(n).addr);
  H.freeBytes -= <u64>1 << k;
  H.freeBlocks--;
}

function addArena(): u32 {
  const bytes = <u64>1 << H.maxOrder;
  const base = vmReserve(bytes, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  if (!base) return 0;
  let slot: u32 = 0;
  while (slot < H.arenaCount && arenaBase(slot) != NO_ARENA) slot++;
  if (slot == H.arenaCount) {
    if (H.arenaCount == H.arenaCap) {
      H.arenaCap = H.arenaCap ? H.arenaCap * 2 : 8;
      H.arenas = resize(H.arenas, <usize>H.arenaCap * 8);
    }
    H.arenaCount++;
  }
  store<u64>(H.arenas + (<usize>slot << 3), base);
  H.liveArenas++;
  const n = newRec(base, 0, slot);
  pushFree(n, H.maxOrder, false);   // a new reservation: nothing committed
  return n;
}

// ---------------------------------------------------------------- alloc / free / realloc

// @ts-ignore: decorator
@inline function orderFor(size: u64, alignLog2: u32): u32 {
  const need = neededBytes(size, alignLog2);
  const k: u32 = need <= 1 ? 0 : 64 - <u32>clz(need - 1);
  return k > H.minOrder ? k : H.minOrder;
}

function allocLarge(size: u64, alignLog2: u32): u32 {
  const bytes = alignUp(neededBytes(size, alignLog2), PAGE_SIZE_BYTES);
  const base = vmReserve(bytes, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  if (!base) return 0;
  if (vmCommit(base, bytes) != Status.OK) { vmRelease(base); return 0; }
  const n = newRec(base, FL_LARGE | (keptAlign(alignLog2) << FL_ALIGN_SHIFT) | (heapNo << FL_HEAP_SHIFT), 0);
  store<u64>(changetype<usize>(B(n)), bytes, LARGE_BYTES_OFFSET);
  H.largeBytes += bytes;
  H.largeBlocks++;
  touchPages(base, HEADER_BYTES, owner);
  return n;
}

// Halves free-list-less block n (order j, off the lists) down to order k; the upper halves go on
// their lists. n was a free block, so its first page is committed; a half below a page lies in it.
// @ts-ignore: decorator
@inline function splitDown(n: u32, j: u32, k: u32): void {
  while (j > k) {
    j--;
    const half = <u64>1 << j;
    const u = newRec(B(n).addr + half, 0, B(n).arena);
    pushFree(u, j, half < PAGE_SIZE_BYTES);
    counterAdd(<i32>heapNo, C_SPLITS, 1);
  }
}

// buddyAlloc and buddyFree, inline: their bodies in the batch loop made for this policy (index.ts),
// where a call per op costs V8's frame and spills.
export function buddyAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  return buddyAllocInline(heapIndex, size, alignLog2);
}
export function buddyFree(heapIndex: i32, n: u32): void { buddyFreeInline(heapIndex, n); }

// @ts-ignore: decorator
@inline export function buddyAllocInline(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  use(heapIndex);
  if (size > (<u64>1 << 46) || alignLog2 > 28) return 0;
  const k = orderFor(size, alignLog2);
  if (k > H.maxOrder) return allocLarge(size, alignLog2);
  let j = k;
  while (j <= H.maxOrder && !load<u32>(headSlot(j))) j++;
  let n: u32;
  if (j > H.maxOrder) {
    n = addArena();
    if (!n) return 0;
    j = H.maxOrder;
  } else {
    n = load<u32>(headSlot(j));
  }
  unlinkFree(n);
  splitDown(n, j, k);
  B(n).flags = (k << FL_ORDER_SHIFT) | (keptAlign(alignLog2) << FL_ALIGN_SHIFT) | (heapNo << FL_HEAP_SHIFT);
  B(n).next = 0; B(n).prev = 0;
  const bytes = <u64>1 << k;
  H.busyBytes += bytes;
  H.busyBlocks++;
  const a = B(n).addr, page = alignDown(a, PAGE_SIZE_BYTES);
  // A block of a page or less lies in one page (its offset is a multiple of its size), the first
  // page of the free block it came from: committed (B4), so only the call is counted.
  if (bytes <= PAGE_SIZE_BYTES) vmRecommit(page, PAGE_SIZE_BYTES);
  else vmCommit(page, alignUp(a + bytes, PAGE_SIZE_BYTES) - page);
  touchPages(a, HEADER_BYTES, owner);
  return n;
}

function freeLarge(n: u32): void {
  H.largeBytes -= B(n).size;
  H.largeBlocks--;
  vmRelease(B(n).addr);
  dropRec(n);
}

// Knuth's Algorithm S: merge with the buddy while it is free and of the same order.
// @ts-ignore: decorator
@inline function release(n: u32, k: u32): void {
  const base = arenaBase(B(n).arena);
  while (k < H.maxOrder) {
    const off = B(n).addr - base;
    const b = mapGet(base + (off ^ (<u64>1 << k)));
    if (!b || orderOf(b) != k) break;
    unlinkFree(b);
    if (B(b).addr < B(n).addr) B(n).addr = B(b).addr;
    dropRec(b);
    k++;
    counterAdd(<i32>heapNo, C_MERGES, 1);
  }
  // n starts where the busy block did (all its pages committed) or where a free buddy did (its
  // first page committed).
  pushFree(n, k, true);
}

// @ts-ignore: decorator
@inline export function buddyFreeInline(heapIndex: i32, n: u32): void {
  use(heapIndex);
  if (B(n).flags & FL_LARGE) { freeLarge(n); return; }
  const k = orderOf(n);
  H.busyBytes -= <u64>1 << k;
  H.busyBlocks--;
  release(n, k);
}

export function buddyRealloc(heapIndex: i32, n: u32, size: u64): u32 {
  use(heapIndex);
  const alignLog2 = (B(n).flags >> FL_ALIGN_SHIFT) & 0xFF;
  if (size > (<u64>1 << 46)) return 0;
  const k = orderFor(size, alignLog2);
  if (B(n).flags & FL_LARGE) {
    if (k > H.maxOrder && alignUp(neededBytes(size, alignLog2), PAGE_SIZE_BYTES) == B(n).size) return n;
  } else {
    const cur = orderOf(n);
    if (k <= cur) {
      // Give the upper halves back: each one's buddy is the busy lower part, so none merges.
      let j = cur;
      while (j > k) {
        j--;
        const half = <u64>1 << j;
        const u = newRec(B(n).addr + half, 0, B(n).arena);
        H.busyBytes -= half;
        pushFree(u, j, true);   // inside the busy block: committed
        counterAdd(<i32>heapNo, C_SPLITS, 1);
      }
      B(n).flags = (B(n).flags & ~(<u32>0xFF << FL_ORDER_SHIFT)) | (k << FL_ORDER_SHIFT);
      return n;
    }
  }
  const m = buddyAlloc(heapIndex, size, alignLog2);
  if (!m) return 0;
  const old = B(n).size - HEADER_BYTES;
  touchPages(buddyUserAddress(heapIndex, m), old < size ? old : size, owner);   // the copy
  buddyFree(heapIndex, n);
  return m;
}

// Releases wholly free arenas; decommits all pages but the first of every other free block.
export function buddyTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  let total: u64 = 0;
  for (let k = H.minOrder; k <= H.maxOrder; k++) {
    let n = load<u32>(headSlot(k));
    while (n) {
      const x = B(n).next;
      const a = B(n).addr, size = B(n).size;
      if (k == H.maxOrder) {
        const r = vmRegionAt(a);
        total += <u64>vmRegionCommittedPages(r) << PAGE_SHIFT;
        unlinkFree(n);
        vmRelease(a);
        store<u64>(H.arenas + (<usize>B(n).arena << 3), NO_ARENA);
        H.liveArenas--;
        counterAdd(<i32>heapNo, C_RELEASED_ARENAS, 1);
        dropRec(n);
      } else if (size > PAGE_SIZE_BYTES) {
        const from = a + PAGE_SIZE_BYTES;
        const r = vmRegionAt(a);
        const before = vmRegionCommittedPages(r);
        vmDecommit(from, a + size - from);
        total += <u64>(before - vmRegionCommittedPages(r)) << PAGE_SHIFT;
      }
      n = x;
    }
  }
  counterAdd(<i32>heapNo, C_TRIMMED_BYTES, <i64>total);
  return total;
}

export function buddyUserAddress(heapIndex: i32, n: u32): u64 {
  return userAddressOf(B(n).addr, (B(n).flags >> FL_ALIGN_SHIFT) & 0xFF);
}

// ---------------------------------------------------------------- sample

// Committed bytes of the arenas (busy blocks are always wholly committed, so the rest is free).
function arenaCommitted(): u64 {
  let t: u64 = 0;
  for (let i: u32 = 0; i < H.arenaCount; i++) {
    const b = arenaBase(i);
    if (b != NO_ARENA) t += <u64>vmRegionCommittedPages(vmRegionAt(b)) << PAGE_SHIFT;
  }
  return t;
}

export function buddySample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  let top: i32 = -1;
  for (let k = <i32>H.maxOrder; k >= <i32>H.minOrder; k--) if (load<u32>(headSlot(<u32>k))) { top = k; break; }
  putSlot(out, K_BUSY, H.busyBytes + H.largeBytes);
  putSlot(out, K_FREE, arenaCommitted() - H.busyBytes);
  putSlot(out, K_FREE_BLOCKS, H.freeBlocks);
  putSlot(out, K_LARGEST_FREE, top < 0 ? 0 : <u64>1 << <u64>top);
  putSlot(out, K_UNCOMMITTED_RANGES, 0);
  putSlot(out, K_SEGMENTS, H.liveArenas);
  putSlot(out, K_VIRTUAL_BLOCKS, H.largeBlocks);
  putSlot(out, K_VIRTUAL_BYTES, H.largeBytes);
  putSlot(out, K_POLICY_BASE + C_ARENAS, H.liveArenas);
  putSlot(out, K_POLICY_BASE + C_ARENA_BYTES, <u64>1 << H.maxOrder);
  store<f64>(out + (<usize>(K_POLICY_BASE + C_LARGEST_FREE_ORDER) << 3), <f64>top);
  putSlot(out, K_POLICY_BASE + C_FREE_BLOCK_BYTES, H.freeBytes);
}

// ---------------------------------------------------------------- invariants B1..B4

let scratch: usize = 0;
let scratchCap: u32 = 0;

// B1's keys ((arena, offset, order) packed in a u64, all distinct) sort as themselves.
@final @unmanaged class KeyItself {
  // @ts-ignore: decorator
  @inline key(v: u64): u64 { return v; }
}

export function buddyCheck(heapIndex: i32): i32 {
  use(heapIndex);
  // B2: lists and the hash table.
  let free: u64 = 0, freeBlocks: u64 = 0;
  for (let k = H.minOrder; k <= H.maxOrder; k++) {
    let n = load<u32>(headSlot(k)), back: u32 = 0, c: u64 = 0;
    while (n) {
      if (B(n).flags != (FL_FREE | (k << FL_ORDER_SHIFT) | (heapNo << FL_HEAP_SHIFT)) || B(n).prev != back) return 2;
      if (B(n).size != <u64>1 << k || mapGet(B(n).addr) != n) return 2;
      if (!vmIsCommitted(B(n).addr)) return 4;
      // B3
      const base = arenaBase(B(n).arena);
      if (k < H.maxOrder) {
        const b = mapGet(base + ((B(n).addr - base) ^ (<u64>1 << k)));
        if (b && orderOf(b) == k) return 3;
      }
      free += B(n).size; c++;
      back = n;
      n = B(n).next;
    }
    if (c != load<u64>(countSlot(k))) return 2;
    freeBlocks += c;
  }
  // B1: every arena block of this heap, sorted by (arena, offset), tiles its arena.
  let count: u32 = 0, busy: u64 = 0, busyBlocks: u64 = 0, large: u64 = 0, largeBlocks: u64 = 0;
  for (let r: u32 = 1; r < RECS.high; r++) {
    const f = B(r).flags;
    if (f == DEAD || (f >> FL_HEAP_SHIFT) != heapNo) continue;
    if (f & FL_LARGE) { large += B(r).size; largeBlocks++; continue; }
    if (count == scratchCap) {
      scratchCap = scratchCap ? scratchCap * 2 : 1024;
      scratch = resize(scratch, <usize>scratchCap * 8);
    }
    const base = arenaBase(B(r).arena);
    if (base == NO_ARENA || B(r).addr < base) return 1;
    const off = B(r).addr - base, k = orderOf(r);
    if (B(r).size != <u64>1 << k || (off & (B(r).size - 1)) || off + B(r).size > (<u64>1 << H.maxOrder)) return 1;
    if (!(f & FL_FREE)) {
      busy += B(r).size; busyBlocks++;
      if (!vmIsCommitted(B(r).addr) || !vmIsCommitted(B(r).addr + B(r).size - 1)) return 4;
    }
    store<u64>(scratch + (<usize>count << 3), (<u64>B(r).arena << 37) | (off << 6) | <u64>k);
    count++;
  }
  sortByKey<u64, KeyItself>(scratch, count);
  let arena: u64 = 0xFFFFFFFFFFFFFFFF, expect: u64 = 0, arenas: u32 = 0;
  const arenaSize = <u64>1 << H.maxOrder;
  for (let i: u32 = 0; i < count; i++) {
    const key = load<u64>(scratch + (<usize>i << 3));
    const a = key >> 37, off = (key >> 6) & 0x7FFFFFFF, k = key & 63;
    if (a != arena) {
      if (arena != 0xFFFFFFFFFFFFFFFF && expect != arenaSize) return 1;
      arena = a; expect = 0; arenas++;
    }
    if (off != expect) return 1;
    expect += <u64>1 << k;
  }
  if (count && expect != arenaSize) return 1;
  if (arenas != H.liveArenas) return 1;
  if (free != H.freeBytes || freeBlocks != H.freeBlocks || busy != H.busyBytes || busyBlocks != H.busyBlocks ||
    large != H.largeBytes || largeBlocks != H.largeBlocks) return 4;
  return 0;
}
