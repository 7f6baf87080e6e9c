// jemalloc: jemalloc 5.3.0 as Debian 12 ships it, one thread (the rules: jemalloc.ts and the files
// it lists). Registered by one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  jeCreate, jeAlloc, jeFree, jeAllocInline, jeFreeInline, jeRealloc, jeTrim, jeDestroy, jeUserAddress, jeSample, jeCheck, jeEngineBytes,
} from "./jemalloc";

// The per-op calls of the engine's batch loop made for jemalloc (kit/policy.ts `batch`, heaps.ts Dispatch).
class JeOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return jeAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return jeAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { jeFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return jeRealloc(h, handle, size); }
}

registerPolicy({
  name: "jemalloc",
  // opt.* names where jemalloc has one; slot order JE_TCACHE .. JE_PRNG_SEED
  params: "tcache,dirty_decay_ms,muzzy_decay_ms,retain,oversize_threshold,lg_extent_max_active_fit,narenas," +
    "nsPerEvent,startupAllocBytes,prngSeed",
  // counter order: S_ALLOCATED .. S_PURGES (jemalloc.ts)
  counters: "allocated,active,metadata,resident,mapped,retained,dirtyBytes,muzzyBytes,tcacheBytes,internalBytes," +
    "rtreeLeaves,purges",
  stackable: false,
  recordBytes: 8,   // an allocation record per live block (slabs and large blocks add a 128-byte extent record)
  create: jeCreate,
  alloc: jeAlloc,
  free: jeFree,
  realloc: jeRealloc,
  trim: jeTrim,
  destroy: jeDestroy,
  userAddress: jeUserAddress,
  sample: jeSample,
  check: jeCheck,
  engineBytes: jeEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<JeOps>(from, count),
});
