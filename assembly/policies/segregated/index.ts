// segregated: size-class free lists split from the wilderness, no coalescing (rules in
// segregated.ts). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  segCreate, segAlloc, segFree, segRealloc, segTrim, segDestroy, segUserAddress, segSample, segCheck,
  segEngineBytes, segRecordBytes,
  segAllocInline, segFreeInline,
} from "./segregated";

// The per-op calls of the engine's batch loop made for segregated (kit/policy.ts `batch`, heaps.ts Dispatch).
class SegOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return segAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return segAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { segFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return segRealloc(h, handle, size); }
}

registerPolicy({
  name: "segregated",
  // slot order: SEG_MIN_CLASS_BYTES .. SEG_COMMIT_STEP_BYTES
  params: "minClassBytes,maxClassBytes,classesPerDoubling,segmentReserveBytes,commitStepBytes",
  // counter order: C_CLASSES .. C_LARGEST_CLASS_BYTES
  counters: "classes,listFreeBytes,listFreeBlocks,topCommittedBytes,carvedBytes,reusedBlocks,carvedBlocks," +
    "trimmedBytes,abandonedTopBytes,largestClassBytes",
  stackable: false,
  recordBytes: segRecordBytes(),
  create: segCreate,
  alloc: segAlloc,
  free: segFree,
  realloc: segRealloc,
  trim: segTrim,
  destroy: segDestroy,
  userAddress: segUserAddress,
  sample: segSample,
  check: segCheck,
  engineBytes: segEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<SegOps>(from, count),
});
