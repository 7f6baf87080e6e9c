// next-fit: first fit from a roving pointer, over the boundary-tag heap of ../textbook/fit.ts
// (rules in next-fit.ts and fit.ts). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  fitAlloc, fitFree, fitRealloc, fitTrim, fitDestroy, fitUserAddress, fitSample, fitCheck, fitRecordBytes,
  fitAllocOf, fitFreeOf, RULE_NEXT,
} from "../textbook/fit";
import { nextFitCreate } from "./next-fit";

// The per-op calls of the engine's batch loop made for next-fit (kit/policy.ts `batch`, heaps.ts
// Dispatch): heap 0 is a next-fit heap there, so the rule is a constant.
class NfOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return fitAllocOf(h, size, alignLog2, RULE_NEXT); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return fitAllocOf(h, size, 0, RULE_NEXT); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { fitFreeOf(h, handle, RULE_NEXT); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return fitRealloc(h, handle, size); }
}

function noEngineBytes(): usize { return 0; }

registerPolicy({
  name: "next-fit",
  // slot order: FIT_SEGMENT_RESERVE_BYTES, FIT_COMMIT_STEP_BYTES
  params: "segmentReserveBytes,commitStepBytes",
  // counter order: C_TOP_COMMITTED_BYTES .. C_WRAPS (textbook/fit.ts)
  counters: "topCommittedBytes,carvedBlocks,reusedBlocks,splits,coalesces,trimmedBytes,abandonedTopBytes,roverAddress,wraps",
  stackable: false,
  recordBytes: fitRecordBytes(),
  create: nextFitCreate,
  alloc: fitAlloc,
  free: fitFree,
  realloc: fitRealloc,
  trim: fitTrim,
  destroy: fitDestroy,
  userAddress: fitUserAddress,
  sample: fitSample,
  check: fitCheck,
  // the records of best-fit and next-fit heaps share one pool: counted once, under best-fit
  engineBytes: noEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<NfOps>(from, count),
});
