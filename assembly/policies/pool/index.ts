// pool: a custom memory manager that keeps what it frees (rules in pool.ts). Stackable: it takes
// its chunks from the VM or from a parent heap. Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  poolCreate, poolAlloc, poolFree, poolRealloc, poolTrim, poolDestroy, poolUserAddress, poolSample, poolCheck,
  poolEngineBytes, poolAllocInline, poolFreeInline,
} from "./pool";

// Per-class detail for the host (src/policies/pool/classes.ts).
export { poolClassStats, POOL_CLASS_FIELDS } from "./pool";

// The per-op calls of the engine's batch loop made for pool (kit/policy.ts `batch`, heaps.ts Dispatch).
class PoolOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return poolAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return poolAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { poolFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return poolRealloc(h, handle, size); }
}

registerPolicy({
  name: "pool",
  // slot order: POOL_MIN_OBJECT_BYTES .. POOL_RELEASE_EMPTY_CHUNKS
  params: "minObjectBytes,maxObjectBytes,chunkBytes,releaseEmptyChunks",
  // counter order: S_CHUNKS .. S_UNCARVED_BYTES, C_PEAK_CHUNKS .. C_IGNORED_TRIMS
  counters: "chunks,chunkBytes,objectBusyBytes,busyObjects,freeObjectBytes,freeObjects,uncarvedBytes," +
    "peakChunks,releasedChunks,reusedObjects,carvedObjects,ignoredTrims",
  stackable: true,
  recordBytes: 0,
  create: poolCreate,
  alloc: poolAlloc,
  free: poolFree,
  realloc: poolRealloc,
  trim: poolTrim,
  destroy: poolDestroy,
  userAddress: poolUserAddress,
  sample: poolSample,
  check: poolCheck,
  engineBytes: poolEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<PoolOps>(from, count),
});
