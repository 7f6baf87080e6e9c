// === Heap table and policy dispatch ===
//
// Each heap slot holds a policy id and its parent (the layer it takes memory from: -1 = the VM).
// Every policy exposes the same small set of functions (see assembly/policies/README.md); this file
// is the only place that switches on the policy id. Adding a policy = one file + one case per switch.

import { Status, Policy, MAX_HEAPS, K_POLICY } from "./abi";
import { ffCreate, ffAlloc, ffFree, ffRealloc, ffTrim, ffDestroy, ffSample, ffCheck, ffUserAddress } from "./policies/first-fit";
import { ptCreate, ptAlloc, ptCalloc, ptFree, ptRealloc, ptTrim, ptDestroy, ptSample, ptCheck, ptUserAddress } from "./policies/ptmalloc";

const policyOf = memory.data(MAX_HEAPS * 4);   // i32 per heap, 0 = unused
const parentOf = memory.data(MAX_HEAPS * 4);   // i32 per heap, -1 = VM
const childCount = memory.data(MAX_HEAPS * 4); // i32 per heap

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
  let st: Status;
  switch (policy) {
    case Policy.FIRST_FIT: {
      if (parent >= 0) return Status.BAD_PARAM; // first-fit takes its memory from the VM only
      st = ffCreate(h, params, count);
      break;
    }
    case Policy.PTMALLOC: {
      if (parent >= 0) return Status.BAD_PARAM; // a process's main arena sits on the VM
      st = ptCreate(h, params, count);
      break;
    }
    default: return Status.BAD_PARAM;
  }
  if (st != Status.OK) return st;
  store<i32>(policyOf + (<usize>h << 2), policy);
  store<i32>(parentOf + (<usize>h << 2), parent);
  store<i32>(childCount + (<usize>h << 2), 0);
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
    default: unreachable();
  }
}

// Returns the (possibly new) handle, or 0 with the old block untouched.
export function heapRealloc(h: i32, handle: u32, size: u64): u32 {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: return ffRealloc(h, handle, size);
    case Policy.PTMALLOC: return ptRealloc(h, handle, size);
    default: unreachable();
  }
  return 0;
}

// Returns bytes given back (decommitted or purged).
export function heapTrim(h: i32, padBytes: u64): u64 {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: return ffTrim(h, padBytes);
    case Policy.PTMALLOC: return ptTrim(h, padBytes);
    default: unreachable();
  }
  return 0;
}

export function heapUserAddress(h: i32, handle: u32): u64 {
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: return ffUserAddress(handle);
    case Policy.PTMALLOC: return ptUserAddress(handle);
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
    default: unreachable();
  }
}

// 0 when the heap's invariants hold, else the policy's invariant number (+ 100 × policy id).
export function heapCheck(h: i32): i32 {
  let r = 0;
  switch (heapPolicy(h)) {
    case Policy.FIRST_FIT: r = ffCheck(h); break;
    case Policy.PTMALLOC: r = ptCheck(h); break;
    default: unreachable();
  }
  return r ? r + 100 * heapPolicy(h) : 0;
}
