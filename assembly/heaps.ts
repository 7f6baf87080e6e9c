// === Heap table and policy dispatch ===
//
// Each heap slot holds a policy id and its parent (the layer it takes memory from: -1 = the VM).
// Every policy exposes the same small set of functions (see assembly/policies/README.md); this file
// is the only place that switches on the policy id. Adding a policy = one file + one case per switch.
//
// Layers (the seed's "layers combined or omitted"): a stackable policy may take its memory from a
// parent heap instead of the VM. It then calls layerAlloc/layerFree/layerRealloc/layerUserAddress
// below, never the parent's functions directly, so that both sides of every layer are counted:
//   per child:  heldBytes / heldBlocks  what the child holds from its parent right now
//   per parent: layerRequested / layerLive / layerAllocs / layerFrees / layerFailedAllocs
//               what child heaps asked the parent for (the engine adds these to the parent's
//               K_REQUESTED, K_LIVE_BLOCKS, K_ALLOCS, K_FREES, K_FAILED_ALLOCS: a parent's
//               "requested" is what all its callers asked for, the program by id and the heaps
//               stacked on it by handle; see engine.ts takeSample).
// The blocks a child holds are internal: they never enter the engine's id table, so the program
// cannot free or realloc them; only the child can, through these functions.

import { u64Add as lAdd, u64Get as lGet } from "./mem";
import { Status, Policy, MAX_HEAPS, K_POLICY } from "./abi";
import { ffCreate, ffAlloc, ffFree, ffRealloc, ffTrim, ffDestroy, ffSample, ffCheck, ffUserAddress } from "./policies/first-fit";
import { ptCreate, ptAlloc, ptCalloc, ptFree, ptRealloc, ptTrim, ptDestroy, ptSample, ptCheck, ptUserAddress } from "./policies/ptmalloc";
import {
  poolCreate, poolAlloc, poolFree, poolRealloc, poolTrim, poolDestroy, poolSample, poolCheck, poolUserAddress,
} from "./policies/pool";
import { miCreate, miAlloc, miFree, miRealloc, miTrim, miDestroy, miSample, miCheck, miUserAddress } from "./policies/mimalloc/mimalloc";
import { ntCreate, ntAlloc, ntFree, ntRealloc, ntTrim, ntDestroy, ntSample, ntCheck, ntUserAddress } from "./policies/nt";

const policyOf = memory.data(MAX_HEAPS * 4);   // i32 per heap, 0 = unused
const parentOf = memory.data(MAX_HEAPS * 4);   // i32 per heap, -1 = VM
const childCount = memory.data(MAX_HEAPS * 4); // i32 per heap

// Layer counters (u64 per heap; see the header).
const heldBytesOf = memory.data(MAX_HEAPS * 8);
const heldBlocksOf = memory.data(MAX_HEAPS * 8);
const lRequested = memory.data(MAX_HEAPS * 8);
const lLive = memory.data(MAX_HEAPS * 8);
const lAllocs = memory.data(MAX_HEAPS * 8);
const lFrees = memory.data(MAX_HEAPS * 8);
const lFailed = memory.data(MAX_HEAPS * 8);


// Policies that can take their memory from another heap.
export function policyStackable(policy: i32): bool {
  return policy == Policy.POOL;
}

export function heapPolicy(h: i32): i32 {
  return h >= 0 && h < MAX_HEAPS ? load<i32>(policyOf + (<usize>h << 2)) : 0;
}
export function heapParent(h: i32): i32 { return load<i32>(parentOf + (<usize>h << 2)); }
export function heapChildren(h: i32): i32 { return load<i32>(childCount + (<usize>h << 2)); }

// The heap whose VM regions hold `h`'s memory (the bottom of its stack of layers).
export function heapRoot(h: i32): i32 {
  while (heapParent(h) >= 0) h = heapParent(h);
  return h;
}

export function heapCreate(h: i32, policy: i32, parent: i32, params: usize, count: i32): Status {
  if (h < 0 || h >= MAX_HEAPS || heapPolicy(h)) return Status.BAD_HEAP;
  if (parent >= 0 && (parent >= MAX_HEAPS || !heapPolicy(parent) || parent == h)) return Status.BAD_HEAP;
  if (parent >= 0 && !policyStackable(policy)) return Status.BAD_PARAM; // takes its memory from the VM only
  // Parent and layer counters first, so that a policy's create may already use its parent.
  store<i32>(parentOf + (<usize>h << 2), parent);
  store<i32>(childCount + (<usize>h << 2), 0);
  const slot = <usize>h << 3;
  store<u64>(heldBytesOf + slot, 0);
  store<u64>(heldBlocksOf + slot, 0);
  store<u64>(lRequested + slot, 0);
  store<u64>(lLive + slot, 0);
  store<u64>(lAllocs + slot, 0);
  store<u64>(lFrees + slot, 0);
  store<u64>(lFailed + slot, 0);
  let st: Status;
  switch (policy) {
    case Policy.FIRST_FIT: st = ffCreate(h, params, count); break;
    case Policy.POOL: st = poolCreate(h, parent, params, count); break;
    case Policy.PTMALLOC: st = ptCreate(h, params, count); break;
    case Policy.NT: st = ntCreate(h, params, count); break;
    case Policy.MIMALLOC: st = miCreate(h, params, count); break;
    default: return Status.BAD_PARAM;
  }
  if (st != Status.OK) return st;
  store<i32>(policyOf + (<usize>h << 2), policy);
  if (parent >= 0) store<i32>(childCount + (<usize>parent << 2), heapChildren(parent) + 1);
  return Status.OK;
}

export function heapDestroy(h: i32): Status {
  const p = heapPolicy(h);
  if (!p) return Status.BAD_HEAP;
  if (heapChildren(h)) return Status.HEAP_HAS_CHILDREN;
  switch (p) {
    case Policy.FIRST_FIT: ffDestroy(h); break;
    case Policy.PTMALLOC: ptDestroy(h); break;
    case Policy.POOL: poolDestroy(h); break;
    case Policy.NT: ntDestroy(h); break;
    case Policy.MIMALLOC: miDestroy(h); break;
    default: unreachable();
  }
  const parent = heapParent(h);
  if (parent >= 0) store<i32>(childCount + (<usize>parent << 2), heapChildren(parent) - 1);
  store<i32>(policyOf + (<usize>h << 2), 0);
  return Status.OK;
}

// Returns a handle (0 = the policy could not satisfy the request).
export function heapAlloc(h: i32, size: u64, alignLog2: u32): u32 {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: return ffAlloc(h, size, alignLog2);
    case Policy.PTMALLOC: return ptAlloc(h, size, alignLog2);
    case Policy.POOL: return poolAlloc(h, size, alignLog2);
    case Policy.NT: return ntAlloc(h, size, alignLog2);
    case Policy.MIMALLOC: return miAlloc(h, size, alignLog2);
    default: unreachable();
  }
  return 0;
}

// calloc: policies that treat it differently from malloc (ptmalloc skips its tcache) get their
// own entry; the others allocate as usual.
export function heapCalloc(h: i32, size: u64): u32 {
  switch (heapPolicy(h)) {
    case Policy.PTMALLOC: return ptCalloc(h, size);
    default: return heapAlloc(h, size, 0);
  }
}

export function heapFree(h: i32, handle: u32): void {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: ffFree(h, handle); break;
    case Policy.PTMALLOC: ptFree(h, handle); break;
    case Policy.POOL: poolFree(h, handle); break;
    case Policy.NT: ntFree(h, handle); break;
    case Policy.MIMALLOC: miFree(h, handle); break;
    default: unreachable();
  }
}

// Returns the (possibly new) handle, or 0 with the old block untouched.
export function heapRealloc(h: i32, handle: u32, size: u64): u32 {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: return ffRealloc(h, handle, size);
    case Policy.PTMALLOC: return ptRealloc(h, handle, size);
    case Policy.POOL: return poolRealloc(h, handle, size);
    case Policy.NT: return ntRealloc(h, handle, size);
    case Policy.MIMALLOC: return miRealloc(h, handle, size);
    default: unreachable();
  }
  return 0;
}

// Returns bytes given back (decommitted or purged).
export function heapTrim(h: i32, padBytes: u64): u64 {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: return ffTrim(h, padBytes);
    case Policy.PTMALLOC: return ptTrim(h, padBytes);
    case Policy.POOL: return poolTrim(h, padBytes);
    case Policy.NT: return ntTrim(h, padBytes);
    case Policy.MIMALLOC: return miTrim(h, padBytes);
    default: unreachable();
  }
  return 0;
}

export function heapUserAddress(h: i32, handle: u32): u64 {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: return ffUserAddress(handle);
    case Policy.PTMALLOC: return ptUserAddress(handle);
    case Policy.POOL: return poolUserAddress(h, handle);
    case Policy.NT: return ntUserAddress(h, handle);
    case Policy.MIMALLOC: return miUserAddress(handle);
    default: unreachable();
  }
  return 0;
}

// Fills the policy-owned slots of a heap sample block.
export function heapSample(h: i32, out: usize): void {
  store<f64>(out + <usize>K_POLICY * 8, <f64>heapPolicy(h));
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: ffSample(h, out); break;
    case Policy.PTMALLOC: ptSample(h, out); break;
    case Policy.POOL: poolSample(h, out); break;
    case Policy.NT: ntSample(h, out); break;
    case Policy.MIMALLOC: miSample(h, out); break;
    default: unreachable();
  }
}

// 0 when the heap's invariants hold, else the policy's invariant number (+ 100 × policy id).
export function heapCheck(h: i32): i32 {
  let r = 0;
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: r = ffCheck(h); break;
    case Policy.PTMALLOC: r = ptCheck(h); break;
    case Policy.POOL: r = poolCheck(h); break;
    case Policy.NT: r = ntCheck(h); break;
    case Policy.MIMALLOC: r = miCheck(h); break;
    default: unreachable();
  }
  return r ? r + 100 * heapPolicy(h) : 0;
}

// ---------------------------------------------------------------- layers: a child heap's calls to its parent

// A block of `size` bytes from the parent of `child` (a handle of the parent, 0 on failure).
export function layerAlloc(child: i32, size: u64, alignLog2: u32): u32 {
  const p = heapParent(child);
  const handle = heapAlloc(p, size, alignLog2);
  if (!handle) { lAdd(lFailed, p, 1); return 0; }
  lAdd(heldBytesOf, child, <i64>size);
  lAdd(heldBlocksOf, child, 1);
  lAdd(lRequested, p, <i64>size);
  lAdd(lLive, p, 1);
  lAdd(lAllocs, p, 1);
  return handle;
}

// Gives back a block `child` holds from its parent; `size` is what it asked for.
export function layerFree(child: i32, handle: u32, size: u64): void {
  const p = heapParent(child);
  heapFree(p, handle);
  lAdd(heldBytesOf, child, -<i64>size);
  lAdd(heldBlocksOf, child, -1);
  lAdd(lRequested, p, -<i64>size);
  lAdd(lLive, p, -1);
  lAdd(lFrees, p, 1);
}

// Resizes a block `child` holds from its parent: the (possibly new) handle, or 0 with the old block kept.
export function layerRealloc(child: i32, handle: u32, oldSize: u64, newSize: u64): u32 {
  const p = heapParent(child);
  const nh = heapRealloc(p, handle, newSize);
  if (!nh) { lAdd(lFailed, p, 1); return 0; }
  const d = <i64>newSize - <i64>oldSize;
  lAdd(heldBytesOf, child, d);
  lAdd(lRequested, p, d);
  lAdd(lAllocs, p, 1);
  return nh;
}

export function layerUserAddress(child: i32, handle: u32): u64 { return heapUserAddress(heapParent(child), handle); }

// What `h` holds from its parent (0 for heaps on the VM).
export function heldBytes(h: i32): u64 { return lGet(heldBytesOf, h); }
export function heldBlocks(h: i32): u64 { return lGet(heldBlocksOf, h); }
// What the heaps stacked on `h` asked it for.
export function layerRequested(h: i32): u64 { return lGet(lRequested, h); }
export function layerLive(h: i32): u64 { return lGet(lLive, h); }
export function layerAllocs(h: i32): u64 { return lGet(lAllocs, h); }
export function layerFrees(h: i32): u64 { return lGet(lFrees, h); }
export function layerFailedAllocs(h: i32): u64 { return lGet(lFailed, h); }

// 0 when both sides of every layer agree, else 1: the bytes and blocks a parent was asked for by
// its children equal the sum of what those children hold from it, and each parent's child count
// is right.
export function layersCheck(): i32 {
  for (let p = 0; p < MAX_HEAPS; p++) {
    if (!heapPolicy(p)) continue;
    let bytes: u64 = 0, blocks: u64 = 0, children = 0;
    for (let c = 0; c < MAX_HEAPS; c++) {
      if (!heapPolicy(c) || heapParent(c) != p) continue;
      bytes += heldBytes(c);
      blocks += heldBlocks(c);
      children++;
    }
    if (bytes != layerRequested(p) || blocks != layerLive(p) || children != heapChildren(p)) return 1;
  }
  return 0;
}
