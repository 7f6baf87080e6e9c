// next-fit: first fit from a roving pointer, over the boundary-tag heap of ../textbook/fit.ts
// (rules in next-fit.ts and fit.ts). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import {
  fitAlloc, fitFree, fitRealloc, fitTrim, fitDestroy, fitUserAddress, fitSample, fitCheck, fitRecordBytes,
} from "../textbook/fit";
import { nextFitCreate } from "./next-fit";

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
});
