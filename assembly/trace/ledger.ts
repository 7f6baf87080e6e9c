// === Trace ledger, inside the engine ===
//
// What src/trace/ledger.ts keeps for a trace read on the host, kept here for traces decoded inside
// WASM (trace/hst.ts): one record per block id and the running counts every report uses. The rules
// are the host ledger's, word for word (its tests and the differential tests hold the two to the
// same results): an allocation larger than MAX_REQUEST_BYTES, or one that would take the live bytes
// beyond it, is a failed allocation (a skip) counted as oversize; events are numbered from 1.
//
// ╒═══ id record (32 bytes) ════════════════════════════════════════════════════════╕
// │ 0 u64 requested bytes │ 8 u64 birth event │ 16 i32 caller (file index, -1 none)  │
// │ 20 u8 state (0 never used, 1 live, 2 freed) │ 21..31 unused                        │
// ╘════════════════════════════════════════════════════════════════════════════════╛
// Records live in pages of PAGE_IDS ids, made when an id of their range is first used, under a
// directory covering every id up to MAX_BLOCK_ID: memory follows the id ranges in use, never the
// largest id alone (the host ledger's bound, docs/trace-format.md).

import { SKIP_REASON_COUNT, SKIP_FAILED_ALLOC } from "./events";

export const MAX_BLOCK_ID: u64 = (1 << 27) - 1;       // src/trace/ledger.ts MAX_BLOCK_ID
export const MAX_REQUEST_BYTES: u64 = 1 << 47;        // x64's user space (vm/constants.ts USER_HIGH_X64)
export const NO_CALLER: i32 = -1;

const STATE_LIVE: u8 = 1;
const STATE_FREED: u8 = 2;
const REC_BYTES: usize = 32;
const REC_SIZE: usize = 0;
const REC_BIRTH: usize = 8;
const REC_CALLER: usize = 16;
const REC_STATE: usize = 20;
const PAGE_SHIFT: u32 = 12;
const PAGE_IDS: u32 = 1 << PAGE_SHIFT;
const PAGE_MASK: u32 = PAGE_IDS - 1;
const PAGE_BYTES: usize = <usize>PAGE_IDS * REC_BYTES;
const PAGES: u32 = (<u32>MAX_BLOCK_ID >> PAGE_SHIFT) + 1;
const directory = memory.data(<i32>PAGES * 4);        // page address per id range, 0 = none yet

// Counts (read by the host through ledgerCounts).
export let events: u64 = 0;
export let allocs: u64 = 0;
export let callocs: u64 = 0;
export let alignedAllocs: u64 = 0;
export let reallocs: u64 = 0;
export let frees: u64 = 0;
export let marks: u64 = 0;
export let ticks: u64 = 0;
export let liveBlocks: u64 = 0;
export let liveBytes: u64 = 0;
export let peakLiveBytes: u64 = 0;
export let peakEvent: u64 = 0;
export let idHighWater: u64 = 0;
export let oversizeRequests: u64 = 0;
export const skips = memory.data(<i32>SKIP_REASON_COUNT * 8);

// Forgets every record and count (a new trace in the same engine).
export function ledgerReset(): void {
  for (let i: u32 = 0; i < PAGES; i++) {
    const p = load<usize>(directory + (<usize>i << 2));
    if (p) { heap.free(p); store<usize>(directory + (<usize>i << 2), 0); }
  }
  events = 0; allocs = 0; callocs = 0; alignedAllocs = 0; reallocs = 0; frees = 0; marks = 0; ticks = 0;
  liveBlocks = 0; liveBytes = 0; peakLiveBytes = 0; peakEvent = 0; idHighWater = 0; oversizeRequests = 0;
  memory.fill(skips, 0, <usize>SKIP_REASON_COUNT * 8);
}

// The record of `id` (any value), 0 when its page was never made.
// @ts-ignore: decorator
@inline function recordOf(id: u64): usize {
  if (id > MAX_BLOCK_ID) return 0;
  const p = load<usize>(directory + (<usize>(<u32>id >> PAGE_SHIFT) << 2));
  return p ? p + <usize>(<u32>id & PAGE_MASK) * REC_BYTES : 0;
}

// The record of a valid id (<= MAX_BLOCK_ID), its page made if needed.
function recordMade(id: u32): usize {
  const slot = directory + (<usize>(id >> PAGE_SHIFT) << 2);
  let p = load<usize>(slot);
  if (!p) {
    p = heap.alloc(PAGE_BYTES);
    memory.fill(p, 0, PAGE_BYTES);
    store<usize>(slot, p);
  }
  return p + <usize>(id & PAGE_MASK) * REC_BYTES;
}

// @ts-ignore: decorator
@inline export function isLive(id: u64): bool { const r = recordOf(id); return r != 0 && load<u8>(r, REC_STATE) == STATE_LIVE; }
// @ts-ignore: decorator
@inline export function wasFreed(id: u64): bool { const r = recordOf(id); return r != 0 && load<u8>(r, REC_STATE) == STATE_FREED; }
// Requested bytes of a live id.
// @ts-ignore: decorator
@inline export function sizeOf(id: u32): u64 { return load<u64>(recordOf(id), REC_SIZE); }

// False when an allocation of `size` (aligned to `align`) could not be served by any simulated
// architecture, or would take the live bytes beyond the largest address space.
// @ts-ignore: decorator
@inline export function fits(size: u64, align: u64): bool {
  return size <= MAX_REQUEST_BYTES && align <= MAX_REQUEST_BYTES && liveBytes + size <= MAX_REQUEST_BYTES;
}
// Like fits, for resizing live block `id` to `size`.
// @ts-ignore: decorator
@inline export function fitsResize(id: u32, size: u64): bool {
  return size <= MAX_REQUEST_BYTES && liveBytes - sizeOf(id) + size <= MAX_REQUEST_BYTES;
}

// @ts-ignore: decorator
@inline function notePeak(e: u64): void {
  if (liveBytes > peakLiveBytes) { peakLiveBytes = liveBytes; peakEvent = e; }
}

// A new live block (the caller checked fits; `id` <= MAX_BLOCK_ID and not live).
export function born(id: u32, size: u64, caller: i32): void {
  const r = recordMade(id);
  if (<u64>id >= idHighWater) idHighWater = <u64>id + 1;
  const e = ++events;
  store<u64>(r, size, REC_SIZE);
  store<u64>(r, e, REC_BIRTH);
  store<i32>(r, caller, REC_CALLER);
  store<u8>(r, STATE_LIVE, REC_STATE);
  liveBlocks++;
  liveBytes += size;
  notePeak(e);
}

// A live block resized (the caller checked fitsResize).
export function resized(id: u32, size: u64, caller: i32): void {
  const r = recordOf(id);
  const e = ++events;
  liveBytes = liveBytes - load<u64>(r, REC_SIZE) + size;
  store<u64>(r, size, REC_SIZE);
  if (caller != NO_CALLER) store<i32>(r, caller, REC_CALLER);
  notePeak(e);
}

// A live block freed.
export function freed(id: u32): void {
  const r = recordOf(id);
  ++events;
  store<u8>(r, STATE_FREED, REC_STATE);
  liveBlocks--;
  liveBytes -= load<u64>(r, REC_SIZE);
}

// A call that changed nothing: one event.
// @ts-ignore: decorator
@inline export function skipped(reason: u32): void {
  const p = skips + (<usize>reason << 3);
  store<u64>(p, load<u64>(p) + 1);
  ++events;
}

// An allocation no architecture can serve: a failed allocation, counted as oversize.
// @ts-ignore: decorator
@inline export function refused(): void {
  oversizeRequests++;
  skipped(SKIP_FAILED_ALLOC);
}

// ---------------------------------------------------------------- read by the host

// Writes up to `max` live blocks with ids from `from` on, in id order, as (id f64, bytes f64,
// caller f64, birth f64) to `out`; returns how many were written. ledgerNextId() is where to go on.
let nextId: u64 = 0;
export function ledgerLive(from: u32, out: usize, max: i32): i32 {
  let n = 0;
  let id = <u64>from;
  while (id < idHighWater && n < max) {
    const page = load<usize>(directory + (<usize>(<u32>id >> PAGE_SHIFT) << 2));
    if (!page) { id = ((id >> PAGE_SHIFT) + 1) << PAGE_SHIFT; continue; }
    const r = page + <usize>(<u32>id & PAGE_MASK) * REC_BYTES;
    if (load<u8>(r, REC_STATE) == STATE_LIVE) {
      const o = out + (<usize>n << 5);
      store<f64>(o, <f64>id);
      store<f64>(o, <f64>load<u64>(r, REC_SIZE), 8);
      store<f64>(o, <f64>load<i32>(r, REC_CALLER), 16);
      store<f64>(o, <f64>load<u64>(r, REC_BIRTH), 24);
      n++;
    }
    id++;
  }
  nextId = id;
  return n;
}
export function ledgerNextId(): u32 { return <u32>nextId; }

// Pages of id records made (PAGE_BYTES each), for the memory bound.
export function ledgerPages(): i32 {
  let n = 0;
  for (let i: u32 = 0; i < PAGES; i++) if (load<usize>(directory + (<usize>i << 2))) n++;
  return n;
}
export function ledgerPageBytes(): i32 { return <i32>PAGE_BYTES; }
