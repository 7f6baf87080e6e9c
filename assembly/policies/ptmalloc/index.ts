// ptmalloc: glibc 2.36 malloc, x86-64: main arena, thread arenas, a tcache per thread (rules in
// ptmalloc.ts). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import {
  ptCreate, ptAlloc, ptCalloc, ptFree, ptRealloc, ptTrim, ptDestroy, ptUserAddress, ptSample, ptCheck,
  ptEngineBytes, ptRecordBytes, ptThreadEnd,
} from "./ptmalloc";

// What malloc_trim(0) could give back and what lies below the highest chunk in use, for the
// host's diagnosis (src/policies/ptmalloc/detail.ts).
export { ptPurgeableBytes, ptPinnedBelowBytes } from "./ptmalloc";

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
});
