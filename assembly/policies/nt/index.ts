// nt: the Windows NT heap, NT5 back end with the LFH front end (rules in nt.ts, core.ts, lfh.ts).
// Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import { ntCreate, ntAlloc, ntFree, ntRealloc, ntTrim, ntDestroy, ntUserAddress, ntSample, ntCheck, ntEngineBytes, ntRecordBytes,
  ntAllocInline, ntFreeInline } from "./nt";

// The heap walk for the host (src/policies/nt/walk.ts).
export { ntWalk, ntWalkBuffer } from "./nt";

// The per-op calls of the engine's batch loop made for nt (kit/policy.ts `batch`, heaps.ts Dispatch).
class NtOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return ntAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return ntAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { ntFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return ntRealloc(h, handle, size); }
}

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
  batch: (from: i32, count: i32): i32 => batchOf<NtOps>(from, count),
});
