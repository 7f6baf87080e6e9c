// mimalloc: mimalloc 2.0.9 as Debian 12 builds it, x86-64 Linux, one thread (rules in mimalloc.ts
// and docs/mimalloc.md). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  miCreate, miAlloc, miFree, miAllocInline, miFreeInline, miRealloc, miTrim, miDestroy, miUserAddress, miSample, miCheck, miEngineBytes,
  miRecordBytes,
} from "./mimalloc";

// The per-op calls of the engine's batch loop made for mimalloc (kit/policy.ts `batch`, heaps.ts Dispatch).
class MiOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return miAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return miAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { miFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return miRealloc(h, handle, size); }
}

registerPolicy({
  name: "mimalloc",
  // mimalloc's option names, slot order MI_DECOMMIT_DELAY .. MI_EVENT_NS (mimalloc.ts)
  params: "decommit_delay,segment_decommit_delay,decommit_extend_delay,allow_decommit,eager_commit,page_reset,event_ns",
  // counter order: S_CURRENT_COMMIT .. S_LIVE_PAGE_FREE (computed at sample time), then C_RESERVED .. C_CACHE_REUSES
  counters: "current_commit,peak_commit,area_reserved,area_committed,area_used_bytes,area_used_blocks,areas," +
    "retiredPageBytes,pendingDecommitBytes,eagerFreeSliceBytes,cachedSegmentBytes,cachedSegments,pageSlackBytes,livePageFreeBytes," +
    "reservedBytesStat,resetBytes,decommittedBytes,segmentsMapped,segmentsFromCache",
  stackable: false,
  recordBytes: <u32>miRecordBytes(),
  create: miCreate,
  alloc: miAlloc,
  free: miFree,
  realloc: miRealloc,
  trim: miTrim,
  destroy: miDestroy,
  userAddress: miUserAddress,
  sample: miSample,
  check: miCheck,
  engineBytes: miEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<MiOps>(from, count),
});
