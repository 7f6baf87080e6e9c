// first-fit: address-ordered first fit with boundary tags (rules in first-fit.ts). Registered by
// one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import {
  ffCreate, ffAlloc, ffFree, ffRealloc, ffTrim, ffDestroy, ffUserAddress, ffSample, ffCheck, ffEngineBytes,
  ffRecordBytes,
} from "./first-fit";

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
});
