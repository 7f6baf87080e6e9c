// === jemalloc model: the thread cache (tcache.c, cache_bin.h) and thread events (thread_event.c) ===
//
// With opt.tcache (Debian's default) the one thread keeps a stack of freed objects per size class
// up to 32 KiB (41 bins: 36 small, 5 large). Capacity: small bins twice the regions of a slab,
// even, between 20 and 200; large bins 20. Allocation pops the newest object; a miss on a small
// bin fills it from the arena with capacity >> lg_fill_div objects (lowest regions first, the
// first of them returned), a miss on a large bin allocates one object from the arena. Freeing
// pushes; a full bin first sends its oldest half back to the arena.
// Every bin tracks its low-water mark (fewest objects since the last look). Every 64 KiB of
// allocated bytes (and, separately, of freed bytes) the incremental GC looks at the next bin in
// turn: a small bin whose low-water mark L > 0 sends back its L − L/4 oldest objects and halves
// its next fill (lg_fill_div + 1, while the fill stays ≥ 1); a small bin refilled since the last
// look with L = 0 doubles its next fill (down to lg_fill_div 1); a large bin sends back
// L − L/4 oldest objects. The mark is then reset to the current count.
// The cache's stacks are one allocation of jemalloc's own from arena 0 ("internal" metadata).

import { NBINS, PAGE, SMALL_MAXCLASS, binNregs, sa2u, index2size } from "./sizes";
import { allocExt, allocReg, freeAlloc, eArena } from "./records";
import {
  HB, arenaSlot, ld64, st64, ld32, st32, SLOT_A0, TC_NBINS, TC_STACK_MAX, H_TC_BINS, H_TC_STACKS,
  H_TC_LGFILL, H_TC_REFILLED, H_TC_GC_BIN, H_TE_ALLOC, H_TE_ALLOC_NEXT, H_TE_DALLOC, H_TE_DALLOC_NEXT,
  H_TCACHE,
} from "./state";
import {
  arenaFillSmall, binDallocStep, slabRelease, decayTicks, largeMallocIn, largeDallocPrep, largeDallocFinish,
} from "./arena";
import { CACHELINE } from "./sizes";

const NSLOTS_SMALL_MIN: u32 = 20;      // tcache.c: opt_tcache_nslots_small_min
const NSLOTS_SMALL_MAX: u32 = 200;     // tcache.c: opt_tcache_nslots_small_max
const NSLOTS_LARGE: u32 = 20;          // tcache.c: opt_tcache_nslots_large
const LG_NSLOTS_MUL: u32 = 1;          // tcache.c: opt_lg_tcache_nslots_mul
const LG_FLUSH_DIV: u32 = 1;           // tcache.c: opt_lg_tcache_flush_{small,large}_div
const GC_INCR_BYTES: u64 = 65536;      // tcache.c: opt_tcache_gc_incr_bytes (also peak_event.c's wait)
const STACK_ALIGN: u64 = PAGE;         // cache_bin.c: cache_bin_info_compute_alloc alignment

// ---------------------------------------------------------------- bins

// @ts-ignore: decorator
@inline function TB(h: i32, b: u32): usize { return HB(h) + H_TC_BINS + (<usize>b << 3); }
// @ts-ignore: decorator
@inline function ncached(h: i32, b: u32): u32 { return <u32>load<u16>(TB(h, b)); }
// @ts-ignore: decorator
@inline function setNcached(h: i32, b: u32, n: u32): void { store<u16>(TB(h, b), <u16>n); }
// @ts-ignore: decorator
@inline function lowWater(h: i32, b: u32): u32 { return <u32>load<u16>(TB(h, b) + 2); }
// @ts-ignore: decorator
@inline function setLowWater(h: i32, b: u32, n: u32): void { store<u16>(TB(h, b) + 2, <u16>n); }
// @ts-ignore: decorator
@inline export function tcacheMax(h: i32, b: u32): u32 { return <u32>load<u16>(TB(h, b) + 4); }
// stack slot i of bin b: 0 = oldest (next to the empty end), ncached − 1 = newest
// @ts-ignore: decorator
@inline function SLOT(h: i32, b: u32, i: u32): usize { return HB(h) + H_TC_STACKS + (<usize>(b * TC_STACK_MAX + i) << 2); }
// @ts-ignore: decorator
@inline function lgFill(h: i32, b: u32): u32 { return <u32>load<u8>(HB(h) + H_TC_LGFILL + <usize>b); }
// @ts-ignore: decorator
@inline function setLgFill(h: i32, b: u32, v: u32): void { store<u8>(HB(h) + H_TC_LGFILL + <usize>b, <u8>v); }
// @ts-ignore: decorator
@inline function refilled(h: i32, b: u32): bool { return load<u8>(HB(h) + H_TC_REFILLED + <usize>b) != 0; }
// @ts-ignore: decorator
@inline function setRefilled(h: i32, b: u32, v: bool): void { store<u8>(HB(h) + H_TC_REFILLED + <usize>b, v ? 1 : 0); }

// tcache_ncached_max_compute
function ncachedMaxOf(b: u32): u32 {
  if (b >= NBINS) return NSLOTS_LARGE;
  let c: u32 = binNregs(b) << LG_NSLOTS_MUL;
  if (c & 1) c++;
  return c <= NSLOTS_SMALL_MIN ? NSLOTS_SMALL_MIN : c <= NSLOTS_SMALL_MAX ? c : NSLOTS_SMALL_MAX;
}

// tcache_boot + tcache_init: capacities, fill divisors.
export function tcacheInit(h: i32): void {
  for (let b: u32 = 0; b < TC_NBINS; b++) {
    store<u16>(TB(h, b) + 4, <u16>ncachedMaxOf(b));
    setNcached(h, b, 0);
    setLowWater(h, b, 0);
    if (b < NBINS) { setLgFill(h, b, 1); setRefilled(h, b, false); }
  }
  st32(HB(h) + H_TC_GC_BIN, 0);
}

// Bytes of the stacks allocation (cache_bin_info_compute_alloc): two guard slots + every slot,
// rounded to its size class at page alignment.
export function tcacheStackBytes(): u64 {
  let slots: u64 = 2;
  for (let b: u32 = 0; b < TC_NBINS; b++) slots += <u64>ncachedMaxOf(b);
  return sa2u(slots * 8, STACK_ALIGN);
}
export function tcacheStackAlignment(): u64 { return STACK_ALIGN; }

export function tcacheEnabled(h: i32): bool { return ld32(HB(h) + H_TCACHE) != 0; }

// Bytes of objects parked in the cache (stats.arenas.<i>.tcache_bytes).
export function tcacheBytes(h: i32): u64 {
  let total: u64 = 0;
  for (let b: u32 = 0; b < TC_NBINS; b++) total += <u64>ncached(h, b) * index2size(b);
  return total;
}

// ---------------------------------------------------------------- allocation

// cache_bin_alloc: pop the newest object (0 when empty); the low-water mark follows.
// @ts-ignore: decorator
@inline function pop(h: i32, b: u32): u32 {
  const n = ncached(h, b);
  if (!n) return 0;
  const r = load<u32>(SLOT(h, b, n - 1));
  setNcached(h, b, n - 1);
  if (n == lowWater(h, b)) setLowWater(h, b, n - 1);
  return r;
}

const fillBuf = memory.data(<i32>TC_STACK_MAX * 4);

// tcache_alloc_small: an allocation record, 0 when out of memory.
// Inline in jemalloc's batch loop (the pop); the fill out of line.
// @ts-ignore: decorator
@inline export function tcacheAllocSmall(h: i32, b: u32): u32 {
  const r = pop(h, b);
  if (r) return r;
  return tcacheFillSmall(h, b);
}

function tcacheFillSmall(h: i32, b: u32): u32 {
  const nfill = tcacheMax(h, b) >> lgFill(h, b);
  const filled = arenaFillSmall(arenaSlot(h, SLOT_A0), b, nfill, fillBuf);
  // the first filled object ends up on top
  for (let j: u32 = 0; j < filled; j++) store<u32>(SLOT(h, b, filled - 1 - j), load<u32>(fillBuf + (<usize>j << 2)));
  setNcached(h, b, filled);
  setRefilled(h, b, true);
  return pop(h, b);
}

// tcache_alloc_large: a cached object, else one new large allocation in arena 0.
export function tcacheAllocLarge(h: i32, b: u32, usize: u64): u32 {
  const r = pop(h, b);
  if (r) return r;
  return largeMallocIn(arenaSlot(h, SLOT_A0), usize, CACHELINE);
}

// ---------------------------------------------------------------- freeing and flushing

const slabBuf = memory.data(<i32>TC_STACK_MAX * 4);

// tcache_bin_flush_bottom: send all but `rem` objects (the oldest ones) back to the arena.
function flush(h: i32, b: u32, rem: u32): void {
  const n = ncached(h, b);
  const nflush = n - rem;
  if (nflush) {
    if (b < NBINS) flushSmall(h, b, nflush);
    else flushLarge(h, b, nflush);
  }
  for (let i: u32 = 0; i < rem; i++) store<u32>(SLOT(h, b, i), load<u32>(SLOT(h, b, nflush + i)));
  setNcached(h, b, rem);
  if (rem < lowWater(h, b)) setLowWater(h, b, rem);
}

// The flushed objects are visited from the newest of them to the oldest (jemalloc's pointer
// array order); slabs that become empty are given back after the decay ticks.
function flushSmall(h: i32, b: u32, nflush: u32): void {
  const a = arenaSlot(h, SLOT_A0);
  let nslabs: u32 = 0;
  for (let i: u32 = 0; i < nflush; i++) {
    const r = load<u32>(SLOT(h, b, nflush - 1 - i));
    const slab = allocExt(r);
    if (binDallocStep(<i32>eArena(slab), slab, allocReg(r))) { store<u32>(slabBuf + (<usize>nslabs << 2), slab); nslabs++; }
    freeAlloc(r);
  }
  decayTicks(a, nflush);
  for (let i: u32 = 0; i < nslabs; i++) {
    const slab = load<u32>(slabBuf + (<usize>i << 2));
    slabRelease(<i32>eArena(slab), slab);
  }
}

function flushLarge(h: i32, b: u32, nflush: u32): void {
  const a = arenaSlot(h, SLOT_A0);
  for (let i: u32 = 0; i < nflush; i++) {
    const e = allocExt(load<u32>(SLOT(h, b, nflush - 1 - i)));
    largeDallocPrep(<i32>eArena(e), e);
  }
  for (let i: u32 = 0; i < nflush; i++) {
    const r = load<u32>(SLOT(h, b, nflush - 1 - i));
    const e = allocExt(r);
    largeDallocFinish(<i32>eArena(e), e);
    freeAlloc(r);
  }
  decayTicks(a, nflush);
}

// tcache_dalloc_small / tcache_dalloc_large: push, sending the oldest half back when full.
// Inline in jemalloc's batch loop; the flush out of line.
// @ts-ignore: decorator
@inline export function tcacheDalloc(h: i32, b: u32, r: u32): void {
  const max = tcacheMax(h, b);
  if (ncached(h, b) == max) flush(h, b, max >> LG_FLUSH_DIV);
  const n = ncached(h, b);
  store<u32>(SLOT(h, b, n), r);
  setNcached(h, b, n + 1);
}

// tcache_flush (thread.tcache.flush): every bin empties.
export function tcacheFlushAll(h: i32): void {
  for (let b: u32 = 0; b < TC_NBINS; b++) flush(h, b, 0);
}

// tcache_event: the incremental GC visits one bin.
function tcacheEvent(h: i32): void {
  const b = ld32(HB(h) + H_TC_GC_BIN);
  const lw = lowWater(h, b);
  if (b < NBINS) {
    if (lw > 0) {
      const nflush = lw - (lw >> 2);
      flush(h, b, ncached(h, b) - nflush);
      if ((tcacheMax(h, b) >> (lgFill(h, b) + 1)) >= 1) setLgFill(h, b, lgFill(h, b) + 1);
    } else if (refilled(h, b)) {
      if (lgFill(h, b) > 1) setLgFill(h, b, lgFill(h, b) - 1);
      setRefilled(h, b, false);
    }
  } else if (lw > 0) {
    flush(h, b, ncached(h, b) - lw + (lw >> 2));
  }
  setLowWater(h, b, ncached(h, b));
  st32(HB(h) + H_TC_GC_BIN, b + 1 == TC_NBINS ? 0 : b + 1);
}

// ---------------------------------------------------------------- thread events

export function threadEventsInit(h: i32): void {
  st64(HB(h) + H_TE_ALLOC, 0);
  st64(HB(h) + H_TE_ALLOC_NEXT, GC_INCR_BYTES);
  st64(HB(h) + H_TE_DALLOC, 0);
  st64(HB(h) + H_TE_DALLOC_NEXT, GC_INCR_BYTES);
}

// thread_alloc_event / thread_dalloc_event: count usable bytes; every 64 KiB the GC runs.
// Inline in jemalloc's batch loop (`alloc` a constant there); the GC out of line.
// @ts-ignore: decorator
@inline export function threadEvent(h: i32, usize: u64, alloc: bool): void {
  const hb = HB(h);
  const cnt = alloc ? H_TE_ALLOC : H_TE_DALLOC;
  const nxt = alloc ? H_TE_ALLOC_NEXT : H_TE_DALLOC_NEXT;
  const now = ld64(hb + cnt) + usize;
  st64(hb + cnt, now);
  if (now >= ld64(hb + nxt)) threadEventGc(h, now, nxt);
}

function threadEventGc(h: i32, now: u64, nxt: usize): void {
  st64(HB(h) + nxt, now + GC_INCR_BYTES);
  if (tcacheEnabled(h)) tcacheEvent(h);
}

// ---------------------------------------------------------------- checks

export function tcacheConsistent(h: i32): bool {
  for (let b: u32 = 0; b < TC_NBINS; b++) {
    const n = ncached(h, b);
    if (n > tcacheMax(h, b) || lowWater(h, b) > n) return false;
    for (let i: u32 = 0; i < n; i++) {
      const r = load<u32>(SLOT(h, b, i));
      if (!r) return false;
      if (b < NBINS && allocReg(r) == 0xFFFFFFFF) return false;
    }
  }
  return true;
}

export function tcacheBinCount(h: i32, b: u32): u32 { return ncached(h, b); }
export function tcacheSmallMax(): u64 { return SMALL_MAXCLASS; }
