// best-fit: address-ordered best fit over the boundary-tag heap of ../textbook/fit.ts (rules in
// best-fit.ts and fit.ts). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  fitAlloc, fitFree, fitRealloc, fitTrim, fitDestroy, fitUserAddress, fitSample, fitCheck, fitEngineBytes, fitRecordBytes,
  fitAllocOf, fitFreeOf, RULE_BEST,
} from "../textbook/fit";
import { bestFitCreate } from "./best-fit";

// The per-op calls of the engine's batch loop made for best-fit (kit/policy.ts `batch`, heaps.ts
// Dispatch): heap 0 is a best-fit heap there, so the rule is a constant.
class BfOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return fitAllocOf(h, size, alignLog2, RULE_BEST); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return fitAllocOf(h, size, 0, RULE_BEST); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { fitFreeOf(h, handle, RULE_BEST); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return fitRealloc(h, handle, size); }
}

registerPolicy({
  name: "best-fit",
  // slot order: FIT_SEGMENT_RESERVE_BYTES, FIT_COMMIT_STEP_BYTES
  params: "segmentReserveBytes,commitStepBytes",
  // counter order: C_TOP_COMMITTED_BYTES .. C_ABANDONED_BYTES (textbook/fit.ts)
  counters: "topCommittedBytes,carvedBlocks,reusedBlocks,splits,coalesces,trimmedBytes,abandonedTopBytes",
  stackable: false,
  recordBytes: fitRecordBytes(),
  create: bestFitCreate,
  alloc: fitAlloc,
  free: fitFree,
  realloc: fitRealloc,
  trim: fitTrim,
  destroy: fitDestroy,
  userAddress: fitUserAddress,
  sample: fitSample,
  check: fitCheck,
  // the records of best-fit and next-fit heaps share one pool: counted once, under best-fit
  engineBytes: fitEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<BfOps>(from, count),
});
