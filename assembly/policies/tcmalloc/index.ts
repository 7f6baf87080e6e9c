// tcmalloc: gperftools 2.10 (Debian 12 libtcmalloc-minimal4), x86-64, one thread (rules in
// tcmalloc.ts and the files it lists). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  tcCreate, tcAlloc, tcFree, tcAllocInline, tcFreeInline, tcRealloc, tcTrim, tcDestroy, tcUserAddress, tcSample, tcCheck, tcEngineBytes,
  tcRecordBytes,
} from "./tcmalloc";

// For the host and the tests: the size-class table, and a block's usable size.
export { tcClassInfo } from "./sizemap";
export { tcUsableBytes } from "./tcmalloc";

// The per-op calls of the engine's batch loop made for tcmalloc (kit/policy.ts `batch`, heaps.ts Dispatch).
class TcOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return tcAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return tcAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { tcFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return tcRealloc(h, handle, size); }
}

registerPolicy({
  name: "tcmalloc",
  // slot order: TC_RELEASE_RATE .. TC_MAX_TOTAL_THREAD_CACHE (tcmalloc.ts)
  params: "release_rate,aggressive_decommit,max_total_thread_cache_bytes",
  // counter order: S_HEAP_SIZE .. S_OVERALL (tcmalloc.ts)
  counters: "heapSize,pageheapFree,pageheapUnmapped,centralFree,transferFree,threadFree,currentAllocated," +
    "metadataBytes,scavenges,releaseCountdownPages,threadCacheMaxBytes,maxTotalThreadCacheBytes",
  stackable: false,
  recordBytes: <u32>tcRecordBytes(),
  create: tcCreate,
  alloc: tcAlloc,
  free: tcFree,
  realloc: tcRealloc,
  trim: tcTrim,
  destroy: tcDestroy,
  userAddress: tcUserAddress,
  sample: tcSample,
  check: tcCheck,
  engineBytes: tcEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<TcOps>(from, count),
});
