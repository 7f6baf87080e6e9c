// first-fit: address-ordered first fit with boundary tags (rules in first-fit.ts). Registered by
// one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  ffCreate, ffAlloc, ffFree, ffRealloc, ffTrim, ffDestroy, ffUserAddress, ffSample, ffCheck, ffEngineBytes,
  ffRecordBytes, ffAllocInline, ffFreeInline,
} from "./first-fit";

// The per-op calls of the engine's batch loop made for first-fit (kit/policy.ts `batch`, heaps.ts Dispatch).
class FfOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return ffAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return ffAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { ffFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return ffRealloc(h, handle, size); }
}

registerPolicy({
  name: "first-fit",
  // slot order: FF_DECOMMIT_BLOCK_BYTES .. FF_LARGE_BLOCK_BYTES
  params: "decommitBlockBytes,decommitTotalBytes,segmentReserveBytes,segmentCommitBytes,largeBlockBytes",
  // counter order: C_DECOMMITS, C_DECOMMITTED_BYTES, C_TRIMMED_BYTES
  counters: "decommits,decommittedBytes,trimmedBytes",
  stackable: false,
  recordBytes: <u32>ffRecordBytes(),
  create: ffCreate,
  alloc: ffAlloc,
  free: ffFree,
  realloc: ffRealloc,
  trim: ffTrim,
  destroy: ffDestroy,
  userAddress: ffUserAddress,
  sample: ffSample,
  check: ffCheck,
  engineBytes: ffEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<FfOps>(from, count),
});
