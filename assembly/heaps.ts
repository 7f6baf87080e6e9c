// === Heap table and policy dispatch ===
//
// Each heap slot holds the id of its policy (the order of assembly/policies/registry.ts) and its
// parent (the layer it takes memory from: -1 = the VM). Every policy exposes the same small set of
// functions, gathered in its PolicyDef (assembly/kit/policy.ts); this file calls them through the
// def of the heap's policy and never names a policy.
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
import { Status, MAX_HEAPS, K_POLICY } from "./abi";
import { BatchFn, PolicyDef, policyDef, validPolicy } from "./kit/policy";
import { countersClear, countersSample } from "./kit/counters";

const policyOf = memory.data(MAX_HEAPS * 4);   // i32 per heap, 0 = unused
const defOf = memory.data(MAX_HEAPS * 4);      // PolicyDef per heap (the dispatch table)
const parentOf = memory.data(MAX_HEAPS * 4);   // i32 per heap, -1 = VM
const childCount = memory.data(MAX_HEAPS * 4); // i32 per heap
// The calls made for every op (alloc, free, realloc, the address query): the function-table index
// of the heap's policy function, u32 per heap, set by heapCreate. A call is then one load and one
// call_indirect, as cheap as the switch on the policy id this file had before the registry
// (measured by bench/dispatch.bench.ts); the other entries go through the def.
const allocAt = memory.data(MAX_HEAPS * 4);
const freeAt = memory.data(MAX_HEAPS * 4);
const reallocAt = memory.data(MAX_HEAPS * 4);
const addressAt = memory.data(MAX_HEAPS * 4);

// Layer counters (u64 per heap; see the header).
const heldBytesOf = memory.data(MAX_HEAPS * 8);
const heldBlocksOf = memory.data(MAX_HEAPS * 8);
const lRequested = memory.data(MAX_HEAPS * 8);
const lLive = memory.data(MAX_HEAPS * 8);
const lAllocs = memory.data(MAX_HEAPS * 8);
const lFrees = memory.data(MAX_HEAPS * 8);
const lFailed = memory.data(MAX_HEAPS * 8);

// The engine's calls into a heap's policy for its per-op steps (engine.ts traceStepOf): Dispatch
// goes through the heap's def (one load and one call_indirect); a policy's own ops class (its
// index.ts, e.g. PoolOps) calls its functions directly, so that a batch loop instantiated for it
// (engine.ts batchOf, the def's `batch`) has them inlined. Every ops class has these four methods,
// each doing what the def's entry does.
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

// The batch loop made for the policy of heap h (its def's `batch`), null when it has none or the
// heap does not exist.
export function heapBatch(h: i32): BatchFn | null { return heapPolicy(h) ? def(h).batch : null; }

// @ts-ignore: decorator
@inline function def(h: i32): PolicyDef { return changetype<PolicyDef>(load<usize>(defOf + (<usize>h << 2))); }

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
  if (!validPolicy(policy)) return Status.BAD_PARAM;
  const d = policyDef(policy);
  if (parent >= 0 && !d.stackable) return Status.BAD_PARAM; // takes its memory from the VM only
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
  countersClear(h);
  const st = d.create(h, parent, params, count);
  if (st != Status.OK) return st;
  store<i32>(policyOf + (<usize>h << 2), policy);
  store<usize>(defOf + (<usize>h << 2), changetype<usize>(d));
  store<u32>(allocAt + (<usize>h << 2), d.alloc.index);
  store<u32>(freeAt + (<usize>h << 2), d.free.index);
  store<u32>(reallocAt + (<usize>h << 2), d.realloc.index);
  store<u32>(addressAt + (<usize>h << 2), d.userAddress.index);
  if (parent >= 0) store<i32>(childCount + (<usize>parent << 2), heapChildren(parent) + 1);
  return Status.OK;
}

export function heapDestroy(h: i32): Status {
  if (!heapPolicy(h)) return Status.BAD_HEAP;
  if (heapChildren(h)) return Status.HEAP_HAS_CHILDREN;
  def(h).destroy(h);
  const parent = heapParent(h);
  if (parent >= 0) store<i32>(childCount + (<usize>parent << 2), heapChildren(parent) - 1);
  store<i32>(policyOf + (<usize>h << 2), 0);
  store<usize>(defOf + (<usize>h << 2), 0);
  return Status.OK;
}

// Returns a handle (0 = the policy could not satisfy the request).
// @ts-ignore: decorator
@inline export function heapAlloc(h: i32, size: u64, alignLog2: u32): u32 {
  return call_indirect<u32>(load<u32>(allocAt + (<usize>h << 2)), h, size, alignLog2); // def(h).alloc
}

// calloc: policies that treat it differently from malloc (ptmalloc skips its tcache) have their
// own entry; the others allocate as usual.
export function heapCalloc(h: i32, size: u64): u32 {
  const d = def(h);
  return d.hasCalloc ? d.calloc(h, size) : d.alloc(h, size, 0);
}

// @ts-ignore: decorator
@inline export function heapFree(h: i32, handle: u32): void {
  call_indirect<void>(load<u32>(freeAt + (<usize>h << 2)), h, handle); // def(h).free
}

// Returns the (possibly new) handle, or 0 with the old block untouched.
// @ts-ignore: decorator
@inline export function heapRealloc(h: i32, handle: u32, size: u64): u32 {
  return call_indirect<u32>(load<u32>(reallocAt + (<usize>h << 2)), h, handle, size); // def(h).realloc
}

// Returns bytes given back (decommitted or purged).
export function heapTrim(h: i32, padBytes: u64): u64 { return def(h).trim(h, padBytes); }

// @ts-ignore: decorator
@inline export function heapUserAddress(h: i32, handle: u32): u64 {
  return call_indirect<u64>(load<u32>(addressAt + (<usize>h << 2)), h, handle); // def(h).userAddress
}

// The thread the clock names has exited: the heap's policy lets go of what it kept for it.
export function heapThreadEnd(h: i32): void { def(h).threadEnd(h); }

// Fills the policy-owned slots of a heap sample block: the policy id, the heap's counter block
// (kit/counters.ts), then whatever the policy writes.
export function heapSample(h: i32, out: usize): void {
  store<f64>(out + <usize>K_POLICY * 8, <f64>heapPolicy(h));
  countersSample(h, out);
  def(h).sample(h, out);
}

// 0 when the heap's invariants hold, else the policy's invariant number (+ 100 × policy id).
export function heapCheck(h: i32): i32 {
  const r = def(h).check(h);
  return r ? r + 100 * heapPolicy(h) : 0;
}

// Engine bytes of every policy's tables (the memory benchmark).
export function policyEngineBytes(policy: i32): usize { return validPolicy(policy) ? policyDef(policy).engineBytes() : 0; }

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
