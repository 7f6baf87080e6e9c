// ptmalloc: glibc 2.36 malloc, x86-64: main arena, thread arenas, a tcache per thread (rules in
// ptmalloc.ts). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  ptCreate, ptAlloc, ptCalloc, ptFree, ptRealloc, ptTrim, ptDestroy, ptUserAddress, ptSample, ptCheck,
  ptEngineBytes, ptRecordBytes, ptThreadEnd, ptAllocInline, ptFreeInline,
} from "./ptmalloc";

// What malloc_trim(0) could give back and what lies below the highest chunk in use, for the
// host's diagnosis (src/policies/ptmalloc/detail.ts).
export { ptPurgeableBytes, ptPinnedBelowBytes } from "./ptmalloc";
// The address of a chunk's record, for the invariant check's own tests only.
export { ptChunkRecord } from "./ptmalloc";

// The per-op calls of the engine's batch loop made for ptmalloc (kit/policy.ts `batch`, heaps.ts
// Dispatch): malloc's and free's bodies inline in the loop (heap 0: enter() with a constant heap).
class PtOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return ptAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return ptCalloc(h, size); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { ptFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return ptRealloc(h, handle, size); }
}

registerPolicy({
  name: "ptmalloc",
  // glibc's own names, slot order PT_TCACHE_COUNT .. PT_CORES
  params: "tcache_count,tcache_max,mxfast,trim_threshold,mmap_threshold,top_pad,mmap_max,tcache_unsorted_limit,arena_max,arena_test,cores",
  // counter order: S_ARENA .. S_FREE_ARENAS (mallinfo2's fields, then ours)
  counters: "arena,ordblks,smblks,hblks,hblkhd,usmblks,fsmblks,uordblks,fordblks,keepcost,tcacheBytes,mmapThreshold,arenaCount,arenaHeaps,arenaLimit,freeArenas",
  stackable: false,
  recordBytes: <u32>ptRecordBytes(),
  create: ptCreate,
  alloc: ptAlloc,
  calloc: ptCalloc,
  hasCalloc: true,
  free: ptFree,
  realloc: ptRealloc,
  trim: ptTrim,
  destroy: ptDestroy,
  userAddress: ptUserAddress,
  sample: ptSample,
  check: ptCheck,
  engineBytes: ptEngineBytes,
  threadEnd: ptThreadEnd,
  batch: (from: i32, count: i32): i32 => batchOf<PtOps>(from, count),
});
