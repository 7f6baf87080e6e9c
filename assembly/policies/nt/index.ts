// nt: the Windows NT heap, NT5 back end with the LFH front end (rules in nt.ts, core.ts, lfh.ts).
// Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { ntCreate, ntAlloc, ntFree, ntRealloc, ntTrim, ntDestroy, ntUserAddress, ntSample, ntCheck, ntEngineBytes, ntRecordBytes } from "./nt";

// The heap walk for the host (src/policies/nt/walk.ts).
export { ntWalk, ntWalkBuffer } from "./nt";

registerPolicy({
  name: "nt",
  // slot order: NT_SEGMENT_RESERVE_BYTES .. NT_FREE_LIST_ORDER (nt.ts)
  params: "segmentReserveBytes,segmentCommitBytes,segmentGrowthFactor,segmentReserveMaxBytes," +
    "decommitFreeBlockThreshold,decommitTotalFreeThreshold,virtualMemoryThreshold,lfh,noSerialize," +
    "lfhRandomChunks,virtCorrection,virtLargeUcrBytes,freeListOrder",
  // counter order: the K_POLICY_BASE + i list in nt.ts's header
  counters: "segmentReservedBytes,segmentCommittedBytes,virtBytes,freeWholePageBytes,lfhUserBlocks," +
    "lfhUserBlockBytes,lfhFreeChunkBytes,lfhLiveChunkBytes,decommittedBytes,heapAddress,heapFlags,frontEndHeapType",
  stackable: false,
  recordBytes: <u32>ntRecordBytes(),
  create: ntCreate,
  alloc: ntAlloc,
  free: ntFree,
  realloc: ntRealloc,
  trim: ntTrim,
  destroy: ntDestroy,
  userAddress: ntUserAddress,
  sample: ntSample,
  check: ntCheck,
  engineBytes: ntEngineBytes,
});
