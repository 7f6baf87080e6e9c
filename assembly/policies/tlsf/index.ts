// tlsf: two-level segregated fit, block for block as Matthew Conte's TLSF 3 (rules in tlsf.ts).
// Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import {
  tlsfCreate, tlsfAlloc, tlsfFree, tlsfRealloc, tlsfTrim, tlsfDestroy, tlsfUserAddress, tlsfSample, tlsfCheck,
  tlsfEngineBytes, tlsfRecordBytes,
} from "./tlsf";

registerPolicy({
  name: "tlsf",
  // slot order: TLSF_POOL_BYTES, TLSF_ZERO_SIZE
  params: "poolBytes,zeroSizeRequest",
  // counter order: C_USED_BYTES .. C_MEM_ADDRESS
  counters: "usedBytes,highWater,poolBytes,usedBlocks,frontierBytes,zeroSizeNulls,noFitNulls,reallocsInPlace," +
    "reallocsMoved,memAddress",
  stackable: false,
  recordBytes: tlsfRecordBytes(),
  create: tlsfCreate,
  alloc: tlsfAlloc,
  free: tlsfFree,
  realloc: tlsfRealloc,
  trim: tlsfTrim,
  destroy: tlsfDestroy,
  userAddress: tlsfUserAddress,
  sample: tlsfSample,
  check: tlsfCheck,
  engineBytes: tlsfEngineBytes,
});
