// segregated: size-class free lists split from the wilderness, no coalescing (rules in
// segregated.ts). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import {
  segCreate, segAlloc, segFree, segRealloc, segTrim, segDestroy, segUserAddress, segSample, segCheck,
  segEngineBytes, segRecordBytes,
} from "./segregated";

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
});
