// === Trace statistics the ledger does not keep (`heapsim stats` only) ===
//
// `heapsim stats` reports, beside the ledger's counts, the requested sizes and the lifetimes of
// freed blocks as power-of-two histograms and the number of distinct requested sizes
// (src/trace/stats.ts StatsCollector, which stays the reference for the JavaScript ledger). When
// the trace is read in WASM (the .hst decoder, trace/hst.ts; the mtrace line loop, trace/text/),
// the trace ledger (trace/ledger.ts) calls countSize and countLifetime here, only while
// `collecting` is on: the host turns it on for `stats` after the reader started the trace
// (ledgerReset turns it off), so a replay pays one untaken branch per event and nothing else. The
// ledger keeps birth events only while `collecting` is on (the lifetimes are their only reader): it
// must be turned on before the trace's first event.
// test/trace/stats-wasm.test.ts holds the results to the JavaScript collector's.

/** On while `heapsim stats` reads a trace into this instance (statsCollect). */
export let collecting: bool = false;

// Bucket 0 holds 0, bucket b >= 1 holds [2^(b-1), 2^b) (src/trace/stats.ts HISTOGRAM_BUCKETS).
const HISTOGRAM_BUCKETS: i32 = 66;
const LAST_BUCKET: u64 = <u64>HISTOGRAM_BUCKETS - 1;
const HISTOGRAM_BYTES: usize = <usize>HISTOGRAM_BUCKETS * 8;
// f64 counts, as the host reads them.
const sizeCounts = memory.data(<i32>HISTOGRAM_BYTES);
const lifetimeCounts = memory.data(<i32>HISTOGRAM_BYTES);

// Distinct requested sizes: an open-addressing set of u64 (linear probing, at most half full).
const EMPTY: u64 = u64.MAX_VALUE;                     // no request is that large (MAX_REQUEST_BYTES)
const INITIAL_SLOTS: u32 = 1 << 10;
const FIBONACCI_MULTIPLIER: u64 = 0x9E3779B97F4A7C15; // 2^64 / golden ratio: spreads nearby sizes
let slots: usize = 0;
let slotCount: u32 = 0;
let slotShift: u64 = 0;                               // 64 - log2(slotCount)
let distinct: u32 = 0;

// The bucket of `v`. The host computes floor(log2(v)) + 1 in doubles, which equals this for every
// value below 2^49 (sizes here are at most MAX_REQUEST_BYTES = 2^47; lifetimes are event counts).
// @ts-ignore: decorator
@inline function bucketOf(v: u64): usize {
  const b = <u64>64 - clz(v);                         // 0 for v = 0
  return <usize>(b < LAST_BUCKET ? b : LAST_BUCKET);
}

// @ts-ignore: decorator
@inline function countIn(table: usize, v: u64): void {
  const p = table + (bucketOf(v) << 3);
  store<f64>(p, load<f64>(p) + 1);
}

function emptySlots(count: u32): usize {
  const bytes = <usize>count << 3;
  const p = heap.alloc(bytes);
  memory.fill(p, 0xFF, bytes);                        // every slot EMPTY
  return p;
}

// @ts-ignore: decorator
@inline function slotOf(v: u64): u32 { return <u32>((v * FIBONACCI_MULTIPLIER) >> slotShift); }

// Puts `v` (not in the set) into the first empty slot of its run.
function place(v: u64): void {
  const mask = slotCount - 1;
  let i = slotOf(v);
  while (load<u64>(slots + (<usize>i << 3)) != EMPTY) i = (i + 1) & mask;
  store<u64>(slots + (<usize>i << 3), v);
}

function grow(): void {
  const old = slots;
  const oldCount = slotCount;
  slotCount = oldCount << 1;
  slotShift--;
  slots = emptySlots(slotCount);
  for (let i: u32 = 0; i < oldCount; i++) {
    const v = load<u64>(old + (<usize>i << 3));
    if (v != EMPTY) place(v);
  }
  heap.free(old);
}

/** A requested size (an allocation, calloc, aligned allocation or realloc the ledger took). */
export function countSize(size: u64): void {
  countIn(sizeCounts, size);
  const mask = slotCount - 1;
  let i = slotOf(size);
  for (;;) {
    const v = load<u64>(slots + (<usize>i << 3));
    if (v == size) return;
    if (v == EMPTY) break;
    i = (i + 1) & mask;
  }
  store<u64>(slots + (<usize>i << 3), size);
  if (++distinct > slotCount >> 1) grow();
}

/** A block freed (by a free or implicitly) `events` events after its allocation. */
export function countLifetime(events: u64): void {
  countIn(lifetimeCounts, events);
}

/** Collecting off, every count forgotten (trace/ledger.ts ledgerReset: a new trace). */
export function statsReset(): void {
  collecting = false;
  memory.fill(sizeCounts, 0, HISTOGRAM_BYTES);
  memory.fill(lifetimeCounts, 0, HISTOGRAM_BYTES);
  if (slots) heap.free(slots);
  slots = 0;
  slotCount = 0;
  distinct = 0;
}

// ---------------------------------------------------------------- host interface

/** Starts collecting for the trace the reader just began (after hstBegin / mtraceBegin). */
export function statsCollect(): void {
  statsReset();
  slotCount = INITIAL_SLOTS;
  slotShift = <u64>64 - <u64>ctz(INITIAL_SLOTS);
  slots = emptySlots(slotCount);
  collecting = true;
}

/** Buckets per histogram. */
export function statsBuckets(): i32 { return HISTOGRAM_BUCKETS; }

/** The size histogram, then the lifetime histogram, as f64 counts at `out` (statsBuckets() each). */
export function statsHistograms(out: usize): void {
  memory.copy(out, sizeCounts, HISTOGRAM_BYTES);
  memory.copy(out + HISTOGRAM_BYTES, lifetimeCounts, HISTOGRAM_BYTES);
}

/** Distinct requested sizes seen. */
export function statsDistinctSizes(): u32 { return distinct; }
