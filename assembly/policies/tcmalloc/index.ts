// tcmalloc: gperftools 2.10 (Debian 12 libtcmalloc-minimal4), x86-64, one thread (rules in
// tcmalloc.ts and the files it lists). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import {
  tcCreate, tcAlloc, tcFree, tcRealloc, tcTrim, tcDestroy, tcUserAddress, tcSample, tcCheck, tcEngineBytes,
  tcRecordBytes,
} from "./tcmalloc";

// For the host and the tests: the size-class table, and a block's usable size.
export { tcClassInfo } from "./sizemap";
export { tcUsableBytes } from "./tcmalloc";

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
});
