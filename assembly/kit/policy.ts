// === kit: what a policy is, and the table of registered policies ===
//
// A policy is a folder assembly/policies/<name>/ whose index.ts builds one PolicyDef and hands it
// to registerPolicy(); assembly/policies/registry.ts lists the folders, one line each, and that
// order gives the ids (1, 2, ...). Nothing else in the engine names a policy: heaps.ts calls the
// functions of the def, the host learns names, parameters and counters from the module
// (policyCount, policyName, policyParamNames, policyCounterNames below, exported by index.ts).
//
// The per-function contract (also in docs/policy-kit.md):
//   create(heap, parent, params, count)  parent = -1 (the VM) or the heap it takes memory from
//                                        (stackable policies only); params: `count` f64 slots,
//                                        NaN = default (kit/params.ts). Validate first; BAD_PARAM
//                                        without side effects.
//   alloc(heap, sizeBytes, alignLog2)    a handle 1 .. 2^29-1, 0 when the request cannot be met
//   calloc(heap, sizeBytes)              optional (null: alloc with alignLog2 0)
//   free(heap, handle)                   the engine guarantees the handle is live on this heap
//   realloc(heap, handle, sizeBytes)     the (possibly new) handle, or 0 with the old block kept
//   trim(heap, padBytes)                 the library's own "give memory back now": bytes given back
//   destroy(heap)                        give back everything (VM regions or parent blocks)
//   userAddress(heap, handle)            the address the program sees (read-only, called ahead)
//   sample(heap, out)                    the common slots a policy owns and its computed counters
//   check(heap)                          0 or the number of the first failed invariant
//   engineBytes()                        engine bytes of the policy's tables (all its heaps)
//   threadEnd(heap)                      optional: the thread clockThread() names has exited (its
//                                        slot may later serve another thread): flush what the
//                                        policy keeps per thread, as the library does at exit

import { Status } from "../abi";

export type CreateFn = (heap: i32, parent: i32, params: usize, count: i32) => Status;
export type AllocFn = (heap: i32, sizeBytes: u64, alignLog2: u32) => u32;
export type CallocFn = (heap: i32, sizeBytes: u64) => u32;
export type FreeFn = (heap: i32, handle: u32) => void;
export type ReallocFn = (heap: i32, handle: u32, sizeBytes: u64) => u32;
export type TrimFn = (heap: i32, padBytes: u64) => u64;
export type HeapFn = (heap: i32) => void;
export type AddressFn = (heap: i32, handle: u32) => u64;
export type SampleFn = (heap: i32, out: usize) => void;
export type CheckFn = (heap: i32) => i32;
export type BytesFn = () => usize;
/** Runs ops [from, count) of the engine's batch while heap 0 has this policy: the index it stopped at. */
export type BatchFn = (from: i32, count: i32) => i32;

function noCalloc(heap: i32, sizeBytes: u64): u32 { return 0; }
function noBytes(): usize { return 0; }
function noThreadEnd(heap: i32): void {}

export class PolicyDef {
  /** The name users type (`--policy NAME`): lower case, digits and '-'. */
  name: string = "";
  /** Parameter names in slot order, comma-separated (slot i of the HEAP_CREATE params block). */
  params: string = "";
  /** The policy's own counter names, comma-separated: counter i is sample slot K_POLICY_BASE + i. */
  counters: string = "";
  /** May take its memory from another heap (create with parent >= 0, layers of heaps.ts). */
  stackable: bool = false;
  /** Engine bytes of one block record, for the memory benchmark (0 when blocks have none). */
  recordBytes: u32 = 0;
  create!: CreateFn;
  alloc!: AllocFn;
  /** Set when calloc differs from malloc (ptmalloc skips its tcache); hasCalloc says so. */
  calloc: CallocFn = noCalloc;
  hasCalloc: bool = false;
  free!: FreeFn;
  realloc!: ReallocFn;
  trim!: TrimFn;
  destroy!: HeapFn;
  userAddress!: AddressFn;
  sample!: SampleFn;
  check!: CheckFn;
  engineBytes: BytesFn = noBytes;
  /** A thread exited (kit/clock.ts clockThread() is its slot); policies without per-thread state leave it out. */
  threadEnd: HeapFn = noThreadEnd;
  /**
   * Optional: the engine's batch loop instantiated for this policy (engine.ts batchOf with the
   * policy's ops class), so that its alloc and free are direct calls binaryen can inline; null =
   * the generic loop (calls through the def). Speed only: both loops give the same results.
   */
  batch: BatchFn | null = null;
}

export const MAX_POLICIES: i32 = 63;
const defs = new StaticArray<PolicyDef | null>(MAX_POLICIES + 1); // index = id, 0 unused
let registered: i32 = 0;

// Called once per policy, at module start, by the policy's index.ts; returns its id.
export function registerPolicy(def: PolicyDef): i32 {
  if (registered >= MAX_POLICIES) abort("too many policies");
  for (let i = 1; i <= registered; i++) if (unchecked(defs[i])!.name == def.name) abort("policy registered twice");
  registered++;
  unchecked(defs[registered] = def);
  return registered;
}

export function policyCount(): i32 { return registered; }
export function validPolicy(id: i32): bool { return id > 0 && id <= registered; }
// @ts-ignore: decorator
@inline export function policyDef(id: i32): PolicyDef { return changetype<PolicyDef>(unchecked(defs[id])); }

// ---------------------------------------------------------------- the table as the host reads it
// (exported by assembly/index.ts; src/engine/policy-table.ts reads it and the ABI mirror test
// compares it with the host's registry)

export function policyName(id: i32): string { return validPolicy(id) ? policyDef(id).name : ""; }
export function policyParamNames(id: i32): string { return validPolicy(id) ? policyDef(id).params : ""; }
export function policyCounterNames(id: i32): string { return validPolicy(id) ? policyDef(id).counters : ""; }
export function policyStackable(id: i32): i32 { return validPolicy(id) && policyDef(id).stackable ? 1 : 0; }
export function policyRecordBytes(id: i32): u32 { return validPolicy(id) ? policyDef(id).recordBytes : 0; }
