// === The dispatch heaps.ts had before the policy registry: a switch on the policy id ===
//
// Not part of the engine. bench/baseline/build.ts copies assembly/ into a git-ignored folder,
// renames heaps.ts there to heaps-registry.ts and puts this file in its place, then compiles that
// tree with the release target of asconfig.json. The result is today's engine, byte for byte the
// same policies, kit and VM, except that the calls made for every op (alloc, calloc, free,
// realloc, the address query of the read-ahead) go through a switch with direct calls, as
// heaps.ts did until the registry (commit 70a63df: one case per policy of that time, first-fit,
// nt, pool and ptmalloc), instead of through the PolicyDef of the heap's policy.
// bench/dispatch.bench.ts runs both builds on the same ops. Policies added since then take the
// registry path here too (the switch's default); the bench measures first-fit and ptmalloc.
//
// The ids are the order of assembly/policies/registry.ts; the bench checks them against the
// host's registry before it runs.
import {
  heapPolicy,
  heapAlloc as registryAlloc, heapCalloc as registryCalloc, heapFree as registryFree,
  heapRealloc as registryRealloc, heapUserAddress as registryUserAddress,
} from "./heaps-registry";
import { ffAlloc, ffFree, ffRealloc, ffUserAddress } from "./policies/first-fit/first-fit";
import { ntAlloc, ntFree, ntRealloc, ntUserAddress } from "./policies/nt/nt";
import { poolAlloc, poolFree, poolRealloc, poolUserAddress } from "./policies/pool/pool";
import { ptAlloc, ptCalloc, ptFree, ptRealloc, ptUserAddress } from "./policies/ptmalloc/ptmalloc";

export {
  heapPolicy, heapParent, heapChildren, heapRoot, heapCreate, heapDestroy, heapTrim, heapSample, heapCheck,
  heapThreadEnd, policyEngineBytes, layerAlloc, layerFree, layerRealloc, layerUserAddress, heldBytes, heldBlocks,
  layerRequested, layerLive, layerAllocs, layerFrees, layerFailedAllocs, layersCheck, heapBatch,
} from "./heaps-registry";

// The engine's per-op calls for policies without their own batch loop (heaps.ts Dispatch), here
// through the switch below.
export class Dispatch {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return heapAlloc(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return heapCalloc(h, size); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { heapFree(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return heapRealloc(h, handle, size); }
}

const FIRST_FIT: i32 = 1;
const NT: i32 = 2;
const POOL: i32 = 3;
const PTMALLOC: i32 = 4;

export function heapAlloc(h: i32, size: u64, alignLog2: u32): u32 {
  switch (heapPolicy(h)) {
    case FIRST_FIT: return ffAlloc(h, size, alignLog2);
    case PTMALLOC: return ptAlloc(h, size, alignLog2);
    case POOL: return poolAlloc(h, size, alignLog2);
    case NT: return ntAlloc(h, size, alignLog2);
    default: return registryAlloc(h, size, alignLog2);
  }
}

export function heapCalloc(h: i32, size: u64): u32 {
  switch (heapPolicy(h)) {
    case PTMALLOC: return ptCalloc(h, size);
    case FIRST_FIT: return ffAlloc(h, size, 0);
    case POOL: return poolAlloc(h, size, 0);
    case NT: return ntAlloc(h, size, 0);
    default: return registryCalloc(h, size);
  }
}

export function heapFree(h: i32, handle: u32): void {
  switch (heapPolicy(h)) {
    case FIRST_FIT: ffFree(h, handle); break;
    case PTMALLOC: ptFree(h, handle); break;
    case POOL: poolFree(h, handle); break;
    case NT: ntFree(h, handle); break;
    default: registryFree(h, handle);
  }
}

export function heapRealloc(h: i32, handle: u32, size: u64): u32 {
  switch (heapPolicy(h)) {
    case FIRST_FIT: return ffRealloc(h, handle, size);
    case PTMALLOC: return ptRealloc(h, handle, size);
    case POOL: return poolRealloc(h, handle, size);
    case NT: return ntRealloc(h, handle, size);
    default: return registryRealloc(h, handle, size);
  }
}

export function heapUserAddress(h: i32, handle: u32): u64 {
  switch (heapPolicy(h)) {
    case FIRST_FIT: return ffUserAddress(h, handle);
    case PTMALLOC: return ptUserAddress(h, handle);
    case POOL: return poolUserAddress(h, handle);
    case NT: return ntUserAddress(h, handle);
    default: return registryUserAddress(h, handle);
  }
}
