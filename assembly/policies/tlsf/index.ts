// tlsf: two-level segregated fit, block for block as Matthew Conte's TLSF 3 (rules in tlsf.ts).
// Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  tlsfCreate, tlsfAlloc, tlsfFree, tlsfRealloc, tlsfTrim, tlsfDestroy, tlsfUserAddress, tlsfSample, tlsfCheck,
  tlsfEngineBytes, tlsfRecordBytes,
  tlsfAllocInline, tlsfFreeInline,
} from "./tlsf";

// The per-op calls of the engine's batch loop made for tlsf (kit/policy.ts `batch`, heaps.ts Dispatch).
class TlsfOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return tlsfAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return tlsfAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { tlsfFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return tlsfRealloc(h, handle, size); }
}

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
  batch: (from: i32, count: i32): i32 => batchOf<TlsfOps>(from, count),
});
