// === Batch op interpreter ===
//
// The host writes op records (layout in abi.ts) into the ops buffer and calls runBatch(count) once
// per batch: no per-op crossing of the JS/WASM boundary. Counters are sampled into the samples
// buffer every `sampleEvery` events and at every MARK; the host reads them after the call.
//
// Events: each ALLOC, CALLOC, ALIGNED_ALLOC, REALLOC and FREE op is one event, whether it succeeds
// or not; SKIP adds events that produced no op (an unmatched free in a trace). Periodic sample k is
// taken after event k × sampleEvery and carries that event number.
//
// Ids map to (heap, handle) and the requested bytes through the id table (ids.ts): 8 bytes per id,
// in 32 KiB pages allocated as id ranges come into use; in the one-instance `.hst` replay, a word of
// the trace ledger's record of the id (ids.ts idShareRecords). handle FAILED_HANDLE = the program holds the
// block but the policy could not place it (a failed allocation in replay mode): the program's live
// bytes count it, the heap's do not; its free succeeds, a realloc of it tries a fresh allocation.

import { resize, u64Add as hAdd, u64Get as hGet } from "./mem";
import {
  MAX_ID, ID_PAGE_IDS, ID_PAGE_SHIFT, idReserve, idEntry, idInTable, idPageOf, idEntryForWrite, idRequested, idSetLive, idClear, idPageCount, idPageBase,
  idSlot, idFreeEntryClean, idIsBig, idBigCount, idsShared, OwnIds, SharedIds, AnyIds,
} from "./ids";
import { CHECKS } from "./checks";
import {
  Op, Status, OP_SIZE_BYTES, MAX_HEAPS, SAMPLE_SLOTS, SAMPLE_HEADER_SLOTS, VM_SLOTS, HEAP_SLOTS,
  H_EVENT, H_MARK, H_TICK, H_HEAPS, H_FAILED_OPS, K_RESERVED, K_COMMITTED, K_RESIDENT, K_REQUESTED,
  K_LIVE_BLOCKS, K_ALLOCS, K_FREES, K_FAILED_ALLOCS, K_PEAK_COMMITTED, K_PEAK_BUSY, K_PARENT,
  K_EXTRAS_AT, K_EXTRAS_COUNT,
  RUN_BASE, RUN_HEAP_SLOTS, R_LIVE_BYTES, R_LIVE_BLOCKS, R_LIVE_PEAK, R_LIVE_PEAK_EVENT, R_HEAPS_COMMITTED,
  R_HEAPS_COMMITTED_PEAK, R_HEAPS_COMMITTED_PEAK_EVENT, R_HEAPS_RESIDENT, R_HEAPS_RESIDENT_PEAK,
  R_HEAPS_RESIDENT_PEAK_EVENT, R_PROCESS_COMMITTED_PEAK, R_PROCESS_COMMITTED_PEAK_EVENT, R_PROCESS_RESIDENT_PEAK,
  R_PROCESS_RESIDENT_PEAK_EVENT, R_FAILED_ALLOCS, R_FAILED_BYTES, R_FIRST_FAIL_EVENT, R_FIRST_FAIL_BYTES,
  R_FIRST_FAIL_REASON, R_FIRST_FAIL_HEAP, R_IMPLICIT_FREES, R_AT_PEAK_LIVE, R_AT_PEAK_RESIDENT, R_HEAP_PEAKS, P_COMMITTED, P_COMMITTED_EVENT, P_RESIDENT,
  P_RESIDENT_EVENT, P_RESERVED, P_RESERVED_EVENT, P_REQUESTED, P_REQUESTED_EVENT, FailReason,
} from "./abi";
import { extrasUsed, extrasReset, extrasPtr } from "./kit/extras";
import { setHintLiveBlocks } from "./kit/hint";
import { clockEvents, clockNs, clockAddEvents, clockNextEvent, clockAddNs, clockThread, clockSetThread } from "./kit/clock";
import { threadSwitch, threadSlotOf, threadRelease, MAX_THREADS } from "./threads";
import {
  vmInit, vmSample, vmOwnerReserved, vmOwnerCommitted, vmOwnerResident, vmCheck, touchPages, vmCommittedBytes,
  vmResidentBytes, vmHeapsCommittedBytes, vmHeapsResidentBytes, vmNoAddressSpaceCount, vmGrowthCount,
} from "./vm/space";
import {
  heapPolicy, heapParent, heapRoot, heapCreate, heapDestroy, heapAlloc, heapFree, heapRealloc,
  heapTrim, heapSample, heapCheck, heapUserAddress, heapCalloc, heapThreadEnd, layerRequested, layerLive, layerAllocs, layerFrees,
  layerFailedAllocs, layersCheck, heldBytes, Dispatch, heapBatch,
} from "./heaps";

const HANDLE_BITS: u32 = 29;
const HEAP_MASK: u32 = (1 << (32 - HANDLE_BITS)) - 1;
const FAILED_HANDLE: u32 = (1 << HANDLE_BITS) - 1;
const MAX_HANDLE: u32 = FAILED_HANDLE - 1;
const PARAM_SLOTS: i32 = 64;
const MAX_ALIGN_LOG2: u32 = 28;   // ALIGNED_ALLOC's largest alignment, 256 MiB: a larger one is BAD_PARAM
if (<u32>MAX_HEAPS > HEAP_MASK + 1) ERROR("heap index does not fit the id entry");

let opsBuf: usize = 0;
let opsCap: i32 = 0;
let samplesBuf: usize = 0;
let samplesCap: i32 = 0;
let sampleCount: i32 = 0;
const paramsBuf = memory.data(PARAM_SLOTS * 8);

let sampleEvery: u64 = 0;
// The event number of the next periodic sample, NO_SAMPLE when periodic samples are off (so that
// "does this event complete a sample" is one compare). quietBefore: min(nextSampleAt - 1,
// MAX_EXACT_COUNT), the bound below which an op of one event completes no sample and keeps the
// counters exact (oneEventFits: one compare); set with nextSampleAt by setNextSample.
const NO_SAMPLE: u64 = u64.MAX_VALUE;
let nextSampleAt: u64 = NO_SAMPLE;
let quietBefore: u64 = 0;
let failedOps: u64 = 0;
let batchFailed: i32 = 0;
let firstFailOp: i32 = -1;
let firstFailStatus: i32 = 0;
let curOp: i32 = -1;       // op being executed, for the host's trap report
export function currentOp(): i32 { return curOp; }

// Per-heap engine counters (u64 each).
const hRequested = memory.data(MAX_HEAPS * 8);
// Reallocs that kept their block placed (moved or resized: counted as an allocation, no block more).
// A heap's live blocks are allocs - frees - these (liveBlocksOf), not a counter kept per op.
const hKeptReallocs = memory.data(MAX_HEAPS * 8);
const hAllocs = memory.data(MAX_HEAPS * 8);
const hFrees = memory.data(MAX_HEAPS * 8);
const hFailedAllocs = memory.data(MAX_HEAPS * 8);


export function engineInit(arch: i32, every: u32): Status {
  const st = vmInit(arch);
  if (st != Status.OK) return st;
  sampleEvery = every;
  setNextSample(every ? every : NO_SAMPLE);
  return Status.OK;
}

// The replay's size hint (a `.hst` version 3 header: src/trace/formats/hst.ts HstHint), given
// before the heaps are created: the id table makes the pages of ids below `idBound` at once, and
// each policy's create reserves its block records for `liveBlocks` (kit/hint.ts). Any values
// (NaN, negative, huge: the header is not checksummed) are safe: they only size tables.
export function engineReserve(idBound: f64, liveBlocks: f64): void {
  if (idBound >= 1) idReserve(<u32>Math.min(idBound, <f64>MAX_ID));
  setHintLiveBlocks(liveBlocks);
}

export function setSampleEvery(every: u32): void {
  sampleEvery = every;
  setNextSample(every ? (clockEvents() / every + 1) * every : NO_SAMPLE);
}

function setNextSample(at: u64): void {
  nextSampleAt = at;
  quietBefore = at - 1 < MAX_EXACT_COUNT ? at - 1 : MAX_EXACT_COUNT;
}

export function opsPtr(capacity: i32): usize {
  if (capacity > opsCap) {
    opsBuf = resize(opsBuf, <usize>capacity * OP_SIZE_BYTES);
    opsCap = capacity;
  }
  return opsBuf;
}

export function paramsPtr(): usize { return paramsBuf; }
export function paramSlots(): i32 { return PARAM_SLOTS; }
export function samplesPtr(): usize { return samplesBuf; }
export function samplesCount(): i32 { return sampleCount; }
// The batch's sample extras (kit/extras.ts): f64 values; each heap sample says where its own are.
export function samplesExtrasPtr(): usize { return extrasPtr(); }
export function samplesExtrasCount(): u32 { return extrasUsed(); }
export function eventCount(): u64 { return clockEvents(); }
export function failedOpCount(): u64 { return failedOps; }
export function batchFirstFailOp(): i32 { return firstFailOp; }
export function batchFirstFailStatus(): i32 { return firstFailStatus; }

export { idTableBytes } from "./ids";

// Takes a sample now. mark = label index, or -1 for a periodic sample; ev = the event number to record.
export function takeSample(mark: i32, ev: u64): void {
  notePeaksAll(clockEvents()); // what happened outside ops (a profile's regions, heap creation) counts too
  if (sampleCount == samplesCap) {
    samplesCap = samplesCap ? samplesCap * 2 : 16;
    samplesBuf = resize(samplesBuf, <usize>samplesCap * <usize>SAMPLE_SLOTS * 8);
  }
  const out = samplesBuf + <usize>sampleCount * <usize>SAMPLE_SLOTS * 8;
  memory.fill(out, 0, <usize>SAMPLE_SLOTS * 8);
  store<f64>(out + <usize>H_EVENT * 8, <f64>ev);
  store<f64>(out + <usize>H_MARK * 8, <f64>mark);
  store<f64>(out + <usize>H_TICK * 8, <f64>clockNs());
  store<f64>(out + <usize>H_FAILED_OPS * 8, <f64>failedOps);
  vmSample(out + <usize>SAMPLE_HEADER_SLOTS * 8);
  let live: u32 = 0;
  for (let h = 0; h < MAX_HEAPS; h++) {
    if (!heapPolicy(h)) continue;
    live |= 1 << h;
    const o = out + <usize>(SAMPLE_HEADER_SLOTS + VM_SLOTS + h * HEAP_SLOTS) * 8;
    const parent = heapParent(h);
    store<f64>(o + <usize>K_PARENT * 8, <f64>parent);
    if (parent < 0) {
      store<f64>(o + <usize>K_RESERVED * 8, <f64>vmOwnerReserved(<u8>h));
      store<f64>(o + <usize>K_COMMITTED * 8, <f64>vmOwnerCommitted(<u8>h));
      store<f64>(o + <usize>K_RESIDENT * 8, <f64>vmOwnerResident(<u8>h));
    }
    // A parent heap's callers are the program (by id) and the heaps stacked on it (by handle):
    // both count (the layer counters of heaps.ts are 0 for a heap with no children).
    store<f64>(o + <usize>K_REQUESTED * 8, <f64>(hGet(hRequested, h) + layerRequested(h)));
    store<f64>(o + <usize>K_LIVE_BLOCKS * 8, <f64>(liveBlocksOf(h) + layerLive(h)));
    store<f64>(o + <usize>K_ALLOCS * 8, <f64>(hGet(hAllocs, h) + layerAllocs(h)));
    store<f64>(o + <usize>K_FREES * 8, <f64>(hGet(hFrees, h) + layerFrees(h)));
    store<f64>(o + <usize>K_FAILED_ALLOCS * 8, <f64>(hGet(hFailedAllocs, h) + layerFailedAllocs(h)));
    store<f64>(o + <usize>K_PEAK_BUSY * 8, <f64>hGet(pk + P_REQUESTED * MAX_HEAPS * 8, h));
    const extrasAt = extrasUsed();
    heapSample(h, o);
    store<f64>(o + <usize>K_EXTRAS_AT * 8, <f64>extrasAt);
    store<f64>(o + <usize>K_EXTRAS_COUNT * 8, <f64>(extrasUsed() - extrasAt));
    store<f64>(o + <usize>K_PEAK_COMMITTED * 8, <f64>hGet(pk + P_COMMITTED * MAX_HEAPS * 8, h));
  }
  store<f64>(out + <usize>H_HEAPS * 8, <f64>live);
  sampleRun(out + <usize>RUN_BASE * 8);
  sampleCount++;
}

function fail(i: i32, st: Status): void {
  failedOps++;
  batchFailed++;
  if (firstFailOp < 0) { firstFailOp = i; firstFailStatus = st; }
}

// Bounds of one batch (a bad op fails with BAD_PARAM and counts no event, as any bad op changes
// nothing): at most MAX_SAMPLES_PER_BATCH samples (each SAMPLE_SLOTS × 8 bytes, 4.5 KB: 37 MB at
// most; a SKIP of 2^40 events with a sample every 7 would otherwise ask for 157 billion), and event
// and time counters the host reads exactly as f64 (below 2^53).
const MAX_SAMPLES_PER_BATCH: i32 = 8192;
const MAX_EXACT_COUNT: u64 = (<u64>1 << 53) - 1;

function opFits(opcode: u32, size: u64): bool {
  const ev = clockEvents();
  let n: u64 = 0;           // events the op adds
  let samples: u64 = 0;     // samples it takes
  if (opcode >= <u32>Op.ALLOC && opcode <= <u32>Op.FREE) n = 1;
  else if (opcode == <u32>Op.SKIP) n = size;
  else if (opcode == <u32>Op.MARK) samples = 1;
  else if (opcode == <u32>Op.TICK) return size <= MAX_EXACT_COUNT - clockNs();
  else return true;
  if (n > MAX_EXACT_COUNT - ev) return false;
  // ev + n <= MAX_EXACT_COUNT here, so NO_SAMPLE is never reached.
  if (ev + n >= nextSampleAt) samples += (ev + n - nextSampleAt) / sampleEvery + 1;
  return samples <= <u64>(MAX_SAMPLES_PER_BATCH - sampleCount);
}

// opFits for the ops of one event (allocations, reallocs, frees) that complete no periodic sample
// (the event number stays below quietBefore), at two compares: nearly every op. False only means
// "ask opFits".
// @ts-ignore: decorator
@inline function oneEventFits(opcode: u32): bool {
  if (opcode - <u32>Op.ALLOC > <u32>Op.FREE - <u32>Op.ALLOC) return false;
  return clockEvents() < quietBefore;
}

// @ts-ignore: decorator
@inline function countEvent(n: u64): void {
  const ev = clockEvents() + n;
  clockAddEvents(n);
  if (ev >= nextSampleAt) samplesDue();
}

// The periodic samples the events counted so far completed (countEvent's rare case).
function samplesDue(): void {
  let at = nextSampleAt;
  while (clockEvents() >= at) {
    takeSample(-1, at);
    at += sampleEvery;
  }
  setNextSample(at);
}

// One event on heap h: counted, the peaks after it, then any periodic sample it completes (none
// when `quiet`, a constant: the batch loop's common op, whose event number stays below quietBefore,
// so below nextSampleAt). Nothing in notePeaksOp reads the clock: the event number is read once.
// @ts-ignore: decorator
@inline function opEvent(h: i32, quiet: bool): void {
  const ev = clockNextEvent();
  notePeaksOp(h, ev);
  if (!quiet && ev >= nextSampleAt) samplesDue();
}

// notePeaks after an allocation call, inline: a heap with no parent (nearly every op) raises its
// one requested-bytes peak here; a stacked heap, or an op that named no heap, takes notePeaks.
// @ts-ignore: decorator
@inline function notePeaksOp(h: i32, ev: u64): void {
  if (!NO_PEAKS) {
    if (!load<u8>(rootHeap + (<usize>h & OP_HEAP_MASK))) notePeaks(h, ev);
    else {
      noteLivePeak(ev);
      raise(P_REQUESTED, h, hGet(hRequested, h) + layerRequested(h), ev);
      noteVmGrowth(ev);
    }
  }
}

// A free: it can lower what the program and the heaps hold, never raise it; only a VM that grew
// anyway (a policy that commits on free) is looked at. `quiet` as for opEvent.
// @ts-ignore: decorator
@inline function freeEvent(quiet: bool): void {
  const ev = clockNextEvent();
  if (!NO_PEAKS) {
    const g = vmGrowthCount();
    if (g != vmSeen) { vmSeen = g; noteVmPeaks(ev); }
  }
  if (!quiet && ev >= nextSampleAt) samplesDue();
}

// ---------------------------------------------------------------- exact peaks and program truth

// Byte h: 1 when heap h exists and has no parent (notePeaksOp's case), one entry for every value of
// an op's heap byte (those of no heap stay 0: one load, no range test). Set after every heap create
// and destroy.
const OP_HEAP_MASK: usize = 0xFF;
const rootHeap = memory.data(<i32>OP_HEAP_MASK + 1);
function updateRootHeaps(): void {
  for (let h = 0; h < MAX_HEAPS; h++) store<u8>(rootHeap + <usize>h, heapPolicy(h) && heapParent(h) < 0 ? 1 : 0);
}
if (MAX_HEAPS > <i32>OP_HEAP_MASK + 1) ERROR("rootHeap has one entry per value of the op's heap byte");
//
// Peaks are taken after every op that can raise them (allocations, reallocs, frees, touches, heap
// creation, and before every sample), so a run's peak is the true maximum over its events, not over
// its samples. Each is a compare per counter; the cost is measured in bench/ (peaks on vs compiled
// out with HEAPSIM_NO_PEAKS). Tables: pk + (slot × MAX_HEAPS + heap) × 8, slots P_* of abi.ts.
const pk = memory.data(RUN_HEAP_SLOTS * MAX_HEAPS * 8);
// @ts-ignore: decorator
@inline const NO_PEAKS: bool = isDefined(HEAPSIM_NO_PEAKS);

let liveBytes: u64 = 0;         // the program's: what it asked for and has not freed, under any policy
let liveBlocks: u64 = 0;
let livePeak: u64 = 0;
let livePeakEvent: u64 = 0;
let heapsCommittedPeak: u64 = 0;
let heapsCommittedPeakEvent: u64 = 0;
let atPeakLive: u64 = 0;        // the program's live bytes and the heaps' resident bytes at that peak
let atPeakResident: u64 = 0;
let heapsResidentPeak: u64 = 0;
let heapsResidentPeakEvent: u64 = 0;
let processCommittedPeak: u64 = 0;
let processCommittedPeakEvent: u64 = 0;
let processResidentPeak: u64 = 0;
let processResidentPeakEvent: u64 = 0;
let failedAllocs: u64 = 0;
let failedBytes: u64 = 0;
let firstFailEvent: u64 = 0;
let firstFailBytes: u64 = 0;
let firstFailReason: i32 = FailReason.NONE;
let firstFailHeap: i32 = -1;
let implicitFrees: u64 = 0;

// @ts-ignore: decorator
@inline function peakAt(slot: i32, h: i32): usize { return pk + ((<usize>slot * <usize>MAX_HEAPS + <usize>h) << 3); }

// @ts-ignore: decorator
@inline function raise(slot: i32, h: i32, now: u64, ev: u64): void {
  const p = peakAt(slot, h);
  if (now > load<u64>(p)) { store<u64>(p, now); store<u64>(peakAt(slot + 1, h), ev); }
}

// The peaks of heap h and every layer below it (an op on h may take memory from them), the heaps
// together, the process and the program, after event `ev`. What the VM holds is looked at only when
// the VM grew since the last look (vmGrowthCount): most ops find their pages already there.
let vmSeen: u32 = 0xFFFFFFFF;
function notePeaks(h: i32, ev: u64): void {
  if (NO_PEAKS) return;
  noteLivePeak(ev);
  // What each layer's callers asked for, and what a stacked layer holds from its parent (none when
  // the op named no heap, or a heap that does not exist: it failed with BAD_HEAP).
  let x = heapPolicy(h) ? h : -1;
  while (x >= 0) {
    const parent = heapParent(x);
    if (parent >= 0) {
      const held = heldBytes(x);
      raise(P_COMMITTED, x, held, ev);
      raise(P_RESERVED, x, held, ev);
    }
    raise(P_REQUESTED, x, hGet(hRequested, x) + layerRequested(x), ev);
    x = parent;
  }
  noteVmGrowth(ev);
}

// The program's live-bytes peak (notePeaks and notePeaksOp).
// @ts-ignore: decorator
@inline function noteLivePeak(ev: u64): void { if (liveBytes > livePeak) { livePeak = liveBytes; livePeakEvent = ev; } }
// The VM's peaks, looked at only when some count grew since the last look (notePeaks and notePeaksOp).
// @ts-ignore: decorator
@inline function noteVmGrowth(ev: u64): void {
  const g = vmGrowthCount();
  if (g != vmSeen) { vmSeen = g; noteVmPeaks(ev); }
}

// The VM's side: the heaps together, the process, and every root heap's own regions.
function noteVmPeaks(ev: u64): void {
  const hc = vmHeapsCommittedBytes();
  const hr = vmHeapsResidentBytes();
  if (hc > heapsCommittedPeak) {
    heapsCommittedPeak = hc; heapsCommittedPeakEvent = ev; atPeakLive = liveBytes; atPeakResident = hr;
  }
  if (hr > heapsResidentPeak) { heapsResidentPeak = hr; heapsResidentPeakEvent = ev; }
  const pc = vmCommittedBytes();
  if (pc > processCommittedPeak) { processCommittedPeak = pc; processCommittedPeakEvent = ev; }
  const pr = vmResidentBytes();
  if (pr > processResidentPeak) { processResidentPeak = pr; processResidentPeakEvent = ev; }
  for (let h = 0; h < MAX_HEAPS; h++) {
    if (!heapPolicy(h) || heapParent(h) >= 0) continue;
    raise(P_COMMITTED, h, vmOwnerCommitted(<u8>h), ev);
    raise(P_RESIDENT, h, vmOwnerResident(<u8>h), ev);
    raise(P_RESERVED, h, vmOwnerReserved(<u8>h), ev);
  }
}

function notePeaksAll(ev: u64): void {
  notePeaks(-1, ev);
  for (let h = 0; h < MAX_HEAPS; h++) if (heapPolicy(h)) notePeaks(h, ev);
}

// The program asked for `size` bytes and the policy of heap h refused: the program's failure.
// noSpaceBefore: vmNoAddressSpaceCount() when the allocation began (the VM ran out of address
// space during it when the count moved).
function programFailed(h: i32, size: u64, noSpaceBefore: u32): void {
  failedAllocs++;
  failedBytes += size;
  if (!firstFailEvent) {
    firstFailEvent = clockEvents() + 1; // the failing op's own event number
    firstFailBytes = size;
    firstFailHeap = h;
    firstFailReason = vmNoAddressSpaceCount() != noSpaceBefore ? FailReason.ADDRESS_SPACE : FailReason.POLICY_LIMIT;
  }
}

// @ts-ignore: decorator
@inline function programAlloc(size: u64): void { liveBytes += size; liveBlocks++; }
// @ts-ignore: decorator
@inline function programFree(size: u64): void { liveBytes -= size; liveBlocks--; }

function sampleRun(out: usize): void {
  store<f64>(out + <usize>R_LIVE_BYTES * 8, <f64>liveBytes);
  store<f64>(out + <usize>R_LIVE_BLOCKS * 8, <f64>liveBlocks);
  store<f64>(out + <usize>R_LIVE_PEAK * 8, <f64>livePeak);
  store<f64>(out + <usize>R_LIVE_PEAK_EVENT * 8, <f64>livePeakEvent);
  store<f64>(out + <usize>R_HEAPS_COMMITTED * 8, <f64>vmHeapsCommittedBytes());
  store<f64>(out + <usize>R_HEAPS_COMMITTED_PEAK * 8, <f64>heapsCommittedPeak);
  store<f64>(out + <usize>R_HEAPS_COMMITTED_PEAK_EVENT * 8, <f64>heapsCommittedPeakEvent);
  store<f64>(out + <usize>R_HEAPS_RESIDENT * 8, <f64>vmHeapsResidentBytes());
  store<f64>(out + <usize>R_HEAPS_RESIDENT_PEAK * 8, <f64>heapsResidentPeak);
  store<f64>(out + <usize>R_HEAPS_RESIDENT_PEAK_EVENT * 8, <f64>heapsResidentPeakEvent);
  store<f64>(out + <usize>R_PROCESS_COMMITTED_PEAK * 8, <f64>processCommittedPeak);
  store<f64>(out + <usize>R_PROCESS_COMMITTED_PEAK_EVENT * 8, <f64>processCommittedPeakEvent);
  store<f64>(out + <usize>R_PROCESS_RESIDENT_PEAK * 8, <f64>processResidentPeak);
  store<f64>(out + <usize>R_PROCESS_RESIDENT_PEAK_EVENT * 8, <f64>processResidentPeakEvent);
  store<f64>(out + <usize>R_FAILED_ALLOCS * 8, <f64>failedAllocs);
  store<f64>(out + <usize>R_FAILED_BYTES * 8, <f64>failedBytes);
  store<f64>(out + <usize>R_FIRST_FAIL_EVENT * 8, <f64>firstFailEvent);
  store<f64>(out + <usize>R_FIRST_FAIL_BYTES * 8, <f64>firstFailBytes);
  store<f64>(out + <usize>R_FIRST_FAIL_REASON * 8, <f64>firstFailReason);
  store<f64>(out + <usize>R_FIRST_FAIL_HEAP * 8, <f64>firstFailHeap);
  store<f64>(out + <usize>R_IMPLICIT_FREES * 8, <f64>implicitFrees);
  store<f64>(out + <usize>R_AT_PEAK_LIVE * 8, <f64>atPeakLive);
  store<f64>(out + <usize>R_AT_PEAK_RESIDENT * 8, <f64>atPeakResident);
  for (let h = 0; h < MAX_HEAPS; h++) {
    const o = out + <usize>(R_HEAP_PEAKS + h * RUN_HEAP_SLOTS) * 8;
    for (let k = 0; k < RUN_HEAP_SLOTS; k++) store<f64>(o + (<usize>k << 3), <f64>load<u64>(peakAt(k, h)));
  }
}

function resetHeapPeaks(h: i32): void {
  for (let k = 0; k < RUN_HEAP_SLOTS; k++) store<u64>(peakAt(k, h), 0);
}

// Inlined at its one call site (traceStepOf, itself inlined into the batch loops): a call less per op.
// @ts-ignore: decorator
@inline function doAlloc<P, I>(ops: P, h: i32, id: u32, size: u64, alignLog2: u32, zeroed: bool, heapKnown: bool): Status {
  const ids = changetype<I>(0);
  if (!heapKnown && !heapPolicy(h)) return Status.BAD_HEAP;
  let known: usize = 0; // the id's entry when its page exists
  if (idInTable(id)) { // below MAX_ID
    const page = idPageOf(id);
    if (page) { known = ids.entryIn(page, id); if (load<u32>(known)) return Status.ID_IN_USE; }
  } else if (id >= MAX_ID) return Status.ID_OUT_OF_RANGE;
  const noSpaceBefore = vmNoAddressSpaceCount();
  let handle: u32;
  if (zeroed) handle = ops.calloc(h, size);
  else handle = ops.alloc(h, size, alignLog2);
  if (!handle) return allocRefused(h, id, known, size, noSpaceBefore); // out of line: one test here
  const slot = known ? known : idEntryForWrite(id);
  programAlloc(size);
  if (handle > MAX_HANDLE) unreachable(); // a policy ran out of handle bits: engine limit
  ids.setLive(slot, id, (handle << (32 - HANDLE_BITS)) | <u32>h, size);
  hAdd(hRequested, h, <i64>size);
  hAdd(hAllocs, h, 1);
  return Status.OK;
}

// doAlloc's policy refused (handle 0): C semantics, the caller got NULL and the id stays free; in
// replay mode the id becomes the program's block, unplaced (FAILED_HANDLE). `known`: the id's
// entry when its page existed before the call, else 0.
function allocRefused(h: i32, id: u32, known: usize, size: u64, noSpaceBefore: u32): Status {
  if (!replayMode) return callFailed(h, size, noSpaceBefore);
  const slot = known ? known : idEntryForWrite(id);
  programAlloc(size);
  idSetLive(slot, id, (FAILED_HANDLE << (32 - HANDLE_BITS)) | <u32>h, size);
  return allocFailed(h, slot, size, noSpaceBefore);
}

// Blocks the program holds placed in heap h.
// @ts-ignore: decorator
@inline function liveBlocksOf(h: i32): u64 { return hGet(hAllocs, h) - hGet(hFrees, h) - hGet(hKeptReallocs, h); }

// The policy refused and the caller sees NULL (the engine's default, C semantics): counted, nothing kept.
function callFailed(h: i32, size: u64, noSpaceBefore: u32): Status {
  hAdd(hFailedAllocs, h, 1);
  programFailed(h, size, noSpaceBefore);
  return Status.OUT_OF_MEMORY;
}

// Replay mode (setReplayMode): an op stream recorded or generated as if every call succeeded. A
// failed allocation stays the program's block (FAILED_HANDLE) so the program's counters do not
// depend on the policy and its later free or realloc replays as the program lived it.
let replayMode: bool = false;
export function setReplayMode(on: i32): void { replayMode = on != 0; }
/** Whether the engine runs in replay mode (the one-instance replay shares id records only then). */
export function inReplayMode(): bool { return replayMode; }

// The policy refused: the id stays the program's (FAILED_HANDLE), the op reports OUT_OF_MEMORY.
function allocFailed(h: i32, slot: usize, size: u64, noSpaceBefore: u32): Status {
  hAdd(hFailedAllocs, h, 1);
  programFailed(h, size, noSpaceBefore);
  store<u32>(slot, (FAILED_HANDLE << (32 - HANDLE_BITS)) | <u32>h);
  return Status.OUT_OF_MEMORY;
}

// Whether the entry word `e` is a live id's in heap h (nonzero, its heap h). For h = 0 (a constant
// in the batch loop's common path) one rotate and compare: the word rotated right by the heap bits
// is the handle plus the heap above it, live in heap 0 from 1 to FAILED_HANDLE.
// @ts-ignore: decorator
@inline function isLiveIn(e: u32, h: i32): bool {
  if (h == 0) return rotr<u32>(e, 32 - HANDLE_BITS) - 1 < FAILED_HANDLE;
  return e != 0 && <i32>(e & HEAP_MASK) == h;
}

// Entry address of `id` when it is live in heap h, else 0.
// @ts-ignore: decorator
@inline function liveSlot(h: i32, id: u32): usize {
  const slot = idEntry(id);
  if (!slot) return 0;
  const e = load<u32>(slot);
  if (!e || <i32>(e & HEAP_MASK) != h) return 0;
  return slot;
}

// heapKnown: heap h exists (an own batch loop's heap 0), so its policy is not looked up.
// `given`: the FREE op's size, the block's requested bytes when the producer of the op keeps the
// id records the engine shares (ids.ts idTake: read only then; 0 from any other producer).
// @ts-ignore: decorator
@inline function doFree<P, I>(ops: P, h: i32, id: u32, given: u64, heapKnown: bool): Status {
  const ids = changetype<I>(0);
  if (!heapKnown && !heapPolicy(h)) return Status.BAD_HEAP;
  if (!idInTable(id)) return Status.UNKNOWN_ID;
  const page = idPageOf(id);
  if (!page) return Status.UNKNOWN_ID;
  const slot = ids.entryIn(page, id);
  const e = load<u32>(slot); // read once: the entry word names the heap and the handle
  if (!isLiveIn(e, h)) return Status.UNKNOWN_ID;
  const handle = e >> (32 - HANDLE_BITS);
  const req = ids.take(slot, id, given);
  programFree(req);
  if (handle == FAILED_HANDLE) return Status.OK; // never placed: nothing to give the heap
  ops.free(h, handle);
  hAdd(hRequested, h, -<i64>req);
  hAdd(hFrees, h, 1);
  return Status.OK;
}

function doRealloc<P, I>(ops: P, h: i32, id: u32, size: u64, heapKnown: bool): Status {
  const ids = changetype<I>(0);
  if (!heapKnown && !heapPolicy(h)) return Status.BAD_HEAP;
  const slot = ids.entry(id);
  if (!slot) return Status.UNKNOWN_ID;
  const e = load<u32>(slot);
  if (!e || <i32>(e & HEAP_MASK) != h) return Status.UNKNOWN_ID;
  const old = ids.requested(slot, id);
  const noSpaceBefore = vmNoAddressSpaceCount();
  const oldHandle = e >> (32 - HANDLE_BITS);
  const handle: u32 = oldHandle == FAILED_HANDLE ? 0 : ops.realloc(h, oldHandle, size);
  if (!handle && !replayMode) return callFailed(h, size, noSpaceBefore); // C semantics: the old block stays
  programFree(old);
  programAlloc(size);
  ids.setRequested(slot, id, size);
  if (oldHandle == FAILED_HANDLE) return reallocUnplaced(h, slot, size, noSpaceBefore);
  if (!handle) {
    // The program got its new block (the trace or workload goes on with it); the simulated heap
    // could not place it. The old block is gone for the program, so the heap frees it.
    ops.free(h, oldHandle);
    hAdd(hRequested, h, -<i64>old);
    hAdd(hFrees, h, 1);
    return allocFailed(h, slot, size, noSpaceBefore);
  }
  if (handle > MAX_HANDLE) unreachable();
  store<u32>(slot, (handle << (32 - HANDLE_BITS)) | <u32>h);
  hAdd(hRequested, h, <i64>size - <i64>old);
  hAdd(hAllocs, h, 1);
  hAdd(hKeptReallocs, h, 1);
  return Status.OK;
}

// Realloc of a block the heap never placed (its allocation failed): a fresh allocation of the new size.
function reallocUnplaced(h: i32, slot: usize, size: u64, noSpaceBefore: u32): Status {
  const handle = heapAlloc(h, size, 0);
  if (!handle) return allocFailed(h, slot, size, noSpaceBefore);
  if (handle > MAX_HANDLE) unreachable();
  store<u32>(slot, (handle << (32 - HANDLE_BITS)) | <u32>h);
  hAdd(hRequested, h, <i64>size);
  hAdd(hAllocs, h, 1);
  return Status.OK;
}

// The program writes `size` bytes from the start of a live block (capped at what it requested).
function doTouch(h: i32, id: u32, size: u64): Status {
  if (!heapPolicy(h)) return Status.BAD_HEAP;
  const slot = liveSlot(h, id);
  if (!slot) return Status.UNKNOWN_ID;
  const handle = load<u32>(slot) >> (32 - HANDLE_BITS);
  if (handle == FAILED_HANDLE) return Status.OK; // nothing placed to touch
  const req = idRequested(slot, id);
  const n = size < req ? size : req;
  if (n) touchPages(heapUserAddress(h, handle), n, <u8>heapRoot(h));
  return Status.OK;
}

function doHeapCreate(h: i32, policy: i32, parentPlusOne: u32, first: u32, count: u32): Status {
  if (<i64>first + <i64>count > <i64>PARAM_SLOTS) return Status.BAD_PARAM;
  const st = heapCreate(h, policy, <i32>parentPlusOne - 1, paramsBuf + (<usize>first << 3), <i32>count);
  if (st == Status.OK) {
    store<u64>(hRequested + (<usize>h << 3), 0);
    store<u64>(hKeptReallocs + (<usize>h << 3), 0);
    store<u64>(hAllocs + (<usize>h << 3), 0);
    store<u64>(hFrees + (<usize>h << 3), 0);
    store<u64>(hFailedAllocs + (<usize>h << 3), 0);
    resetHeapPeaks(h);
    updateRootHeaps();
    notePeaks(h, clockEvents());
  }
  return st;
}

function doHeapDestroy(h: i32): Status {
  const st = heapDestroy(h);
  if (st != Status.OK) return st;
  updateRootHeaps();
  // Forget the ids that pointed into the heap (rare op: a scan of the id table is fine).
  for (let p: u32 = 0; p < idPageCount(); p++) {
    const base = idPageBase(p);
    if (!base) continue;
    for (let i: u32 = 0; i < ID_PAGE_IDS; i++) {
      const slot = idSlot(base, i);
      const e = load<u32>(slot);
      if (!e || <i32>(e & HEAP_MASK) != h) continue;
      const id = (p << ID_PAGE_SHIFT) + i;
      programFree(idRequested(slot, id));
      idClear(slot, id);
    }
  }
  return Status.OK;
}

// THREAD_END: every heap lets go of what it kept for the thread (children before the heaps they
// take memory from), with the clock on the ending thread; then its slot is free.
function doThreadEnd(id: u64): Status {
  const slot = threadSlotOf(id);
  if (slot == MAX_THREADS) return Status.UNKNOWN_THREAD;
  const current = clockThread();
  clockSetThread(slot);
  for (let h = MAX_HEAPS - 1; h >= 0; h--) if (heapPolicy(h)) heapThreadEnd(h);
  clockSetThread(current);
  threadRelease(id, slot);
  return Status.OK;
}

// One op of the kinds a trace produces (allocation calls, free, mark, tick, skip, thread switch and
// end), applied the same way by runBatch and traceRun; any other opcode is BAD_OPCODE here.
// @ts-ignore: decorator
@inline function traceStep(opcode: u32, h: i32, arg: u32, id: u32, size: u64): Status {
  return traceStepOf<Dispatch, AnyIds>(changetype<Dispatch>(0), opcode, h, arg, id, size, false);
}

// traceStep with the calls into heap h's policy made through `ops` (heaps.ts Dispatch: through the
// heap's def; a policy's own ops class when h's policy is known to be that one). heapKnown: heap h
// exists (a constant: true in an own batch loop for heap 0), so the ops skip looking it up.
// @ts-ignore: decorator
@inline function traceStepOf<P, I>(ops: P, opcode: u32, h: i32, arg: u32, id: u32, size: u64, heapKnown: bool): Status {
  if (opcode - <u32>Op.ALLOC <= <u32>Op.FREE - <u32>Op.ALLOC) return eventStepOf<P, I>(ops, opcode, h, arg, id, size, heapKnown, false);
  switch (opcode) {
    case Op.MARK: { takeSample(<i32>arg, clockEvents()); return Status.OK; }
    case Op.TICK: { clockAddNs(size); return Status.OK; }
    case Op.SKIP: { countEvent(size); return Status.OK; }
    case Op.THREAD: return threadSwitch(size);
    case Op.THREAD_END: return doThreadEnd(size);
    default: return Status.BAD_OPCODE;
  }
}

// The ops of one event, ALLOC..FREE (opcode in that range), of traceStepOf; `quiet` (a constant):
// the batch loop's common op (its quiet test), which completes no periodic sample.
// @ts-ignore: decorator
@inline function eventStepOf<P, I>(ops: P, opcode: u32, h: i32, arg: u32, id: u32, size: u64, heapKnown: bool, quiet: bool): Status {
  // As tests, most common first (a switch of the five became a search of four compares in V8).
  if (opcode == Op.FREE) {
    const st = doFree<P, I>(ops, h, id, size, heapKnown);
    if (arg & 1) { if (st == Status.OK) implicitFrees++; } else freeEvent(quiet);
    return st;
  }
  if (opcode == Op.REALLOC) { const st = doRealloc<P, I>(ops, h, id, size, heapKnown); opEvent(h, quiet); return st; }
  // One call site for the three allocation calls, so that doAlloc is inlined once here.
  let alignLog2: u32 = 0;
  let st: Status;
  if (opcode == Op.ALIGNED_ALLOC) alignLog2 = arg;
  if (alignLog2 > MAX_ALIGN_LOG2) st = Status.BAD_PARAM;
  else st = doAlloc<P, I>(ops, h, id, size, alignLog2, opcode == Op.CALLOC, heapKnown);
  opEvent(h, quiet);
  return st;
}

// The ops only a host's own op stream holds (a trace produces none of them): runBatch's rare case.
// @ts-ignore: decorator
@inline function isEngineOp(opcode: u32): bool {
  return opcode - <u32>Op.TRIM <= <u32>Op.TOUCH - <u32>Op.TRIM || opcode == <u32>Op.NOP || opcode == <u32>Op.DEBUG_TRAP;
}

function engineStep(opcode: u32, h: i32, arg: u32, id: u32, size: u64): Status {
  switch (opcode) {
    case Op.TRIM: {
      if (!heapPolicy(h)) return Status.BAD_HEAP;
      heapTrim(h, size); // the policy counts what it gave back
      return Status.OK;
    }
    case Op.HEAP_CREATE: return doHeapCreate(h, <i32>arg, id, <u32>size, <u32>(size >> 32));
    case Op.HEAP_DESTROY: return doHeapDestroy(h);
    case Op.TOUCH: {
      const st = doTouch(h, id, size);
      if (st == Status.OK) notePeaks(h, clockEvents());
      return st;
    }
    case Op.NOP: return Status.OK;
    case Op.DEBUG_TRAP: { if (CHECKS) unreachable(); return Status.BAD_OPCODE; }
    default: return Status.BAD_OPCODE; // not reached: isEngineOp said it is one
  }
}

// Runs `count` ops from the ops buffer. Returns the number of ops that failed in this batch
// (batchFirstFailOp/batchFirstFailStatus tell which first). Samples start afresh at each call.
// The ops run in the batch loop of heap 0's policy (its def's `batch`: batchOf instantiated with
// the policy's ops class), or batchOf<Dispatch> when it has none; after an engine op (a heap may
// have been created or destroyed) the loop returns and the next one is chosen again.
export function runBatch(count: i32): i32 {
  sampleCount = 0;
  extrasReset();
  batchFailed = 0;
  firstFailOp = -1;
  firstFailStatus = 0;
  if (count > opsCap) { fail(0, Status.BAD_PARAM); return batchFailed; }
  let i = 0;
  while (i < count) {
    const own = heapBatch(0);
    i = own ? own(i, count) : dispatchBatch(i, count);
  }
  curOp = -1;
  return batchFailed;
}

/**
 * runBatch's loop over ops [from, count), with the ops of heap 0 calling its policy through `P`,
 * the policy's own ops class: heap 0's policy must be P's, which holds until an engine op, so the
 * loop returns after each. Ops of other heaps take rareStep. Returns the index of the next op to run.
 */
export function batchOf<P>(from: i32, count: i32): i32 {
  return idsShared() ? batchIdsOf<P, SharedIds>(from, count) : batchIdsOf<P, OwnIds>(from, count);
}

// batchOf's loop for one mode of the id table (ids.ts OwnIds, SharedIds: its stride, offsets and
// mode constants, no test of the mode per op): one function each, of which a run uses one.
function batchIdsOf<P, I>(from: i32, count: i32): i32 { return batchLoop<P, I>(from, count, true); }

// The loop when heap 0's policy has none of its own (or heap 0 does not exist): through the defs.
function dispatchBatch(from: i32, count: i32): i32 { return batchLoop<Dispatch, AnyIds>(from, count, false); }

// batchOf's loop; heap0Known (a constant): heap 0 exists for every op it runs (P is its policy's).
// The loop itself holds only the common case, an allocation call or a free on heap 0 that
// completes no sample (eventStepOf, inline: the policy's calls inlined there); every other op
// goes out of line to rareStep, so the rare paths take no registers from the common one.
// @ts-ignore: decorator
@inline function batchLoop<P, I>(from: i32, count: i32, heap0Known: bool): i32 {
  const ops = changetype<P>(0);
  const buf = opsBuf; // the host alone moves it (opsPtr), never during a batch
  for (let i = from; i < count; i++) {
    curOp = i;
    const p = buf + (<usize>i << 4);
    const w0 = load<u32>(p);
    const id = load<u32>(p, 4);
    const size = load<u64>(p, 8);
    // The quiet op: heap 0 (the op's heap byte 0), an opcode ALLOC..FREE (one event): the op's low
    // 16 bits (a heap byte other than 0 puts them out of the range), and an event number below
    // quietBefore (it completes no sample): oneEventFits as two branches (written as one test,
    // binaryen made it an and of the two and V8 two flags, an and and a test).
    let st: Status;
    if ((w0 & 0xFFFF) - <u32>Op.ALLOC <= <u32>Op.FREE - <u32>Op.ALLOC) {
      if (clockEvents() < quietBefore) st = eventStepOf<P, I>(ops, w0 & 0xFF, 0, w0 >> 16, id, size, heap0Known, true);
      else st = rareStep(i, w0, id, size);
    } else st = rareStep(i, w0, id, size);
    if (st != Status.OK) {
      if (st == RARE_ENGINE_OP) return i + 1;
      fail(i, st);
    }
  }
  return count;
}

// rareStep's answer for an engine op (the loop returns: heap 0 may have changed); not a Status.
const RARE_ENGINE_OP: Status = <Status>0xFFFF;

// Every op the batch loop does not take inline (not quiet): checked by opFits, the engine's
// own ops to engineStep, the rest as traceStep (through the heaps' defs, out of line: the same
// calls as a policy's own ops class makes). Returns the op's status, or RARE_ENGINE_OP after an
// engine op.
function rareStep(i: i32, w0: u32, id: u32, size: u64): Status {
  const opcode = w0 & 0xFF;
  const h = <i32>((w0 >> 8) & 0xFF);
  const arg = w0 >> 16;
  if (!oneEventFits(opcode) && !opFits(opcode, size)) return Status.BAD_PARAM;
  if (isEngineOp(opcode)) {
    const st = engineStep(opcode, h, arg, id, size);
    if (st != Status.OK) fail(i, st);
    return RARE_ENGINE_OP;
  }
  return traceStep(opcode, h, arg, id, size);
}


// ---------------------------------------------------------------- one-instance trace replay
//
// A decoder running in this instance (trace/hst.ts, trace/text/address-map.ts) applies the ops it
// decodes here instead of handing op records to the host for runBatch (direct mode, src/trace/
// formats/hst-wasm.ts and text-wasm.ts). traceBegin() starts a stretch as runBatch starts a batch
// (samples, extras and the batch's failure report afresh); traceRun() applies a run of the op
// records the decoder wrote, in heap 0's batch loop as runBatch does: the same checks and calls in
// the same order (test/trace/hst-direct.test.ts and text-direct.test.ts hold both paths to the same
// run documents).
// A decoder returns to the host at most every 4,096 ops, and each op takes at most one sample, so
// a stretch stays below MAX_SAMPLES_PER_BATCH as a batch does.
export function traceBegin(): void {
  sampleCount = 0;
  extrasReset();
  batchFailed = 0;
  firstFailOp = -1;
  firstFailStatus = 0;
}

/**
 * The op records [from, count) of a stretch that a decoder wrote at `buf` (op i at buf + i ×
 * OP_SIZE_BYTES; the ops a trace produces, heap 0's), applied as runBatch applies a batch: in
 * heap 0's policy's own batch loop when it has one (its calls inlined there, no call through the
 * def per op). Op i of the stretch fails as op i. The decoder applies its ops before it returns to
 * the host and before it changes anything such an op reads (trace/hst.ts applyOps). The host's
 * ops buffer is only lent to the loop for the call.
 */
export function traceRun(buf: usize, from: i32, count: i32): void {
  const hostOps = opsBuf;
  opsBuf = buf;
  let i = from;
  while (i < count) {
    const own = heapBatch(0);
    i = own ? own(i, count) : dispatchBatch(i, count);
  }
  opsBuf = hostOps;
  curOp = -1;
}


// Address the program sees for a live id (0 if the id is not live), and its requested size.
export function idUserAddress(id: u32): u64 {
  const slot = idEntry(id);
  const e = slot ? load<u32>(slot) : 0;
  return e && (e >> (32 - HANDLE_BITS)) != FAILED_HANDLE ? heapUserAddress(<i32>(e & HEAP_MASK), e >> (32 - HANDLE_BITS)) : 0;
}
export function idRequestedBytes(id: u32): u64 {
  const slot = idEntry(id);
  return slot && load<u32>(slot) ? idRequested(slot, id) : 0;
}

// Full invariant check of the VM, the engine's tables, the layers and every heap (debug builds
// check more inside each policy). Returns 0 or the number of the first failed invariant:
//   1..5   VM (vm/space.ts)
//   51     E1 per heap, the live entries of the id table equal the engine's live-block counter
//          (blocks a heap holds from its parent never enter the id table)
//   52     E2 layers: what each parent was asked for by its children equals what they hold
//          (heaps.ts layersCheck)
//   53     E3 the program's live bytes and blocks equal the id table's entries (placed or not)
//   100 × policy id + n   the policy's invariant n
export const CHECK_ID_TABLE: i32 = 51;
export const CHECK_LAYERS: i32 = 52;
export const CHECK_PROGRAM: i32 = 53;
const idCountScratch = memory.data(MAX_HEAPS * 8);
export function checkAll(): i32 {
  const v = vmCheck();
  if (v) return v;
  memory.fill(idCountScratch, 0, MAX_HEAPS * 8);
  let programBytes: u64 = 0, programBlocks: u64 = 0;
  let bigLive: u32 = 0;
  for (let p: u32 = 0; p < idPageCount(); p++) {
    const base = idPageBase(p);
    if (!base) continue;
    for (let i: u32 = 0; i < ID_PAGE_IDS; i++) {
      const slot = idSlot(base, i);
      const e = load<u32>(slot);
      if (!e) {
        if (!idFreeEntryClean(slot)) return CHECK_ID_TABLE; // a free entry keeps no size
        continue;
      }
      programBytes += idRequested(slot, (p << ID_PAGE_SHIFT) + i);
      programBlocks++;
      const h = <i32>(e & HEAP_MASK);
      if (!heapPolicy(h)) return CHECK_ID_TABLE;
      if ((e >> (32 - HANDLE_BITS)) != FAILED_HANDLE) hAdd(idCountScratch, h, 1);
      if (idIsBig(slot)) bigLive++;
    }
  }
  if (bigLive != idBigCount()) return CHECK_ID_TABLE; // every huge request has its exact size
  for (let h = 0; h < MAX_HEAPS; h++) {
    if (heapPolicy(h) && hGet(idCountScratch, h) != liveBlocksOf(h)) return CHECK_ID_TABLE;
  }
  if (layersCheck()) return CHECK_LAYERS;
  if (programBytes != liveBytes || programBlocks != liveBlocks) return CHECK_PROGRAM;
  for (let h = 0; h < MAX_HEAPS; h++) {
    if (!heapPolicy(h)) continue;
    const r = heapCheck(h);
    if (r) return r;
  }
  return 0;
}

