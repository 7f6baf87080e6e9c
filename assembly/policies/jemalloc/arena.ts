// === jemalloc model: arenas, bins and slabs, large allocations, decay triggers (arena.c, large.c) ===
//
// Small requests (≤ 14 KiB) are regions of a slab: each of the 36 bins has a current slab and a
// set of non-full slabs ordered by (serial number, address). A region comes from the current slab
// (its lowest free region); when that is full, the lowest non-full slab becomes current; when
// there is none, a new slab is taken from the page allocator. Freeing a region of a slab that was
// full makes the slab current if it is lower than the current one (the current one goes back to
// the set), else puts it in the set; a slab whose last region is freed goes back to the page
// allocator (dirty), whatever it is.
//
// Large requests get an extent of their size class plus one page (opt.cache_oblivious: the block
// starts at a random cache line of the first page). Requests at or above oversize_threshold go to
// the huge arena, created on first use with decay time 0 unless a decay time is −1 or 0.
//
// Deferred work: after pages go back to the dirty cache, a dirty decay time of 0 purges the whole
// cache. Otherwise purging runs on "decay ticks": every allocator operation on an arena ticks a
// per-thread countdown that restarts at 1000 × t / 61, t drawn from a table of 64 values
// (a geometric distribution around 1000); when it runs out the arena's decay advances by the clock.

import {
  PAGE, LARGE_MINCLASS, LARGE_PAD, CACHELINE, LG_PAGE, HUGEPAGE, LARGE_MAXCLASS, alignCeil, lgFloor,
  size2index, index2size, psz2ind, binRegSize, binSlabBytes, binNregs, geomEntry, prngLgRange,
  tickerGeomBits, tickerGeomMul,
} from "./sizes";
import {
  eAddr, eSize, eSzind, eNfree, setNfree, setUserOffset, bitmapClear, bitmapTakeFirst, bitmapRelease, takeRegionsInto,
  setInsert, setRemove, setFirst, snadLess, newAlloc, freeAlloc, allocExt, allocReg, eArena, eUserOffset, ALLOC_LARGE, setRes,
} from "./records";
import {
  AB, DB, HB, BINB, arenaSlot, heapOfArena, ld64, st64, ld32, st32, add64, SLOT_A0, SLOT_HUGE,
  A_CREATED, A_IND, A_GROW_NEXT, A_GROW_LIMIT, A_ALLOC_SMALL, A_ALLOC_LARGE, A_OVERSIZE, A_ADDR, A_NLARGE,
  CACHE_DIRTY, CACHE_MUZZY, H_DIRTY_MS, H_MUZZY_MS, H_OVERSIZE, H_HUGE_ENABLED, H_PRNG, H_TICK, H_NOW, H_NARENAS,
} from "./state";
import { baseNew, baseAlloc } from "./base";
import { decayReinit, decayMs, maybeAdvanceEpoch, npagesLimit } from "./decay";
import { initCache, paAlloc, paDalloc, paExpand, paShrink, decayAll, decayToLimit, cacheNpages } from "./extent";

export const ARENA_T_BYTES: u64 = 87016;     // arena.c: sizeof(arena_t) + 36 × sizeof(bin_t), measured
const NTICKS_PER_UPDATE: i64 = 1000;          // arena_types.h: ARENA_DECAY_NTICKS_PER_UPDATE
// The decay objects sit inside arena_t; their addresses seed the deadline jitter. Offsets inside
// the struct (not published; only the jitter depends on them, which wall time makes unrepeatable
// anyway): nominal values.
const DECAY_DIRTY_OFFSET: u64 = 0x2a40;
const DECAY_MUZZY_OFFSET: u64 = 0x3340;

// ---------------------------------------------------------------- arenas

// arena_new: the arena_t from the arena's base (arena 0: base 0; others: a base of their own).
export function arenaCreate(h: i32, slot: i32): bool {
  const a = arenaSlot(h, slot);
  const ab = AB(a);
  if (slot != SLOT_A0 && !baseNew(a, h)) return false;
  const addr = baseAlloc(a, h, ARENA_T_BYTES, CACHELINE);
  if (!addr) return false;
  st64(ab + A_ADDR, addr);
  st32(ab + A_IND, slot == SLOT_A0 ? 0 : <u32>ld64(HB(h) + H_NARENAS));
  st32(ab + A_GROW_NEXT, psz2ind(HUGEPAGE));       // exp_grow.c: the series starts at one huge page
  st32(ab + A_GROW_LIMIT, psz2ind(LARGE_MAXCLASS));
  st64(ab + A_OVERSIZE, ld64(HB(h) + H_OVERSIZE));
  initCache(a, CACHE_DIRTY);
  initCache(a, CACHE_MUZZY);
  initCache(a, 2);
  const now = ld64(HB(h) + H_NOW);
  decayReinit(DB(a, false), now, load<i64>(HB(h) + H_DIRTY_MS), addr + DECAY_DIRTY_OFFSET);
  decayReinit(DB(a, true), now, load<i64>(HB(h) + H_MUZZY_MS), addr + DECAY_MUZZY_OFFSET);
  st32(ab + A_CREATED, 1);
  return true;
}

// arena_choose_huge: the huge arena, created on demand with eager purging.
function hugeArena(h: i32): i32 {
  const a = arenaSlot(h, SLOT_HUGE);
  if (!ld32(AB(a) + A_CREATED)) {
    if (!arenaCreate(h, SLOT_HUGE)) return -1;
    const now = ld64(HB(h) + H_NOW);
    const addr = ld64(AB(a) + A_ADDR);
    if (load<i64>(HB(h) + H_DIRTY_MS) > 0) {
      decayReinit(DB(a, false), now, 0, addr + DECAY_DIRTY_OFFSET);
      decayAll(a, CACHE_DIRTY, false);
    }
    if (load<i64>(HB(h) + H_MUZZY_MS) > 0) {
      decayReinit(DB(a, true), now, 0, addr + DECAY_MUZZY_OFFSET);
      decayAll(a, CACHE_MUZZY, false);
    }
  }
  return a;
}

// arena_choose_maybe_huge (with no arena given): the huge arena for `size` ≥ oversize_threshold.
export function chooseArena(h: i32, size: u64): i32 {
  if (ld32(HB(h) + H_HUGE_ENABLED) && size >= ld64(HB(h) + H_OVERSIZE)) return hugeArena(h);
  return arenaSlot(h, SLOT_A0);
}

export function arenaCreated(a: i32): bool { return ld32(AB(a) + A_CREATED) != 0; }

// ---------------------------------------------------------------- decay triggers

// One arena's decay as an allocator call runs it (arena_decay with all = false).
function arenaDecayStep(a: i32, c: i32): void {
  const d = DB(a, c == CACHE_MUZZY);
  const ms = decayMs(d);
  if (ms <= 0) {
    if (ms == 0) decayToLimit(a, c, false, 0, cacheNpages(a, c));
    return;
  }
  const current = cacheNpages(a, c);
  if (maybeAdvanceEpoch(d, ld64(HB(heapOfArena(a)) + H_NOW), current)) {
    const limit = npagesLimit(d);
    if (current > limit) decayToLimit(a, c, false, limit, current - limit);
  }
}

// arena_decay: dirty, then muzzy (unless it has no pages and no decay time). `all`: a full purge.
export function arenaDecay(a: i32, all: bool): void {
  if (all) decayAll(a, CACHE_DIRTY, true);
  else arenaDecayStep(a, CACHE_DIRTY);
  if (cacheNpages(a, CACHE_MUZZY) == 0 && decayMs(DB(a, true)) <= 0) return;
  if (all) decayAll(a, CACHE_MUZZY, true);
  else arenaDecayStep(a, CACHE_MUZZY);
}

// arena_decay_ticks: `n` ticks of the thread's geometric countdown.
export function decayTicks(a: i32, n: u32): void {
  const hb = HB(heapOfArena(a));
  const tick = load<i64>(hb + H_TICK) - <i64>n;
  if (tick >= 0) { store<i64>(hb + H_TICK, tick); return; }
  const idx = <u32>prngLgRange(hb + H_PRNG, tickerGeomBits());
  store<i64>(hb + H_TICK, NTICKS_PER_UPDATE * <i64>geomEntry(idx) / <i64>tickerGeomMul());
  arenaDecay(a, false);
}
// @ts-ignore: decorator
@inline export function decayTick(a: i32): void { decayTicks(a, 1); }

// arena_handle_deferred_work: after pages went to the dirty cache.
export function handleDeferred(a: i32): void {
  if (decayMs(DB(a, false)) == 0) decayAll(a, CACHE_DIRTY, true);
}

// ---------------------------------------------------------------- slabs and bins

// @ts-ignore: decorator
@inline function slabcurOf(a: i32, b: u32): u32 { return ld32(BINB(a, b)); }
// @ts-ignore: decorator
@inline function setSlabcur(a: i32, b: u32, e: u32): void { st32(BINB(a, b), e); }
// @ts-ignore: decorator
@inline function nonfullRoot(a: i32, b: u32): usize { return BINB(a, b) + 4; }

export function binSlabcur(a: i32, b: u32): u32 { return slabcurOf(a, b); }
export function binNonfullRoot(a: i32, b: u32): usize { return nonfullRoot(a, b); }
export function binCurregs(a: i32, b: u32): u64 { return ld64(BINB(a, b) + 8); }

// arena_slab_alloc
function slabAlloc(a: i32, b: u32): u32 {
  const e = paAlloc(a, binSlabBytes(b), PAGE, true, b);
  if (!e) return 0;
  setNfree(e, binNregs(b));
  bitmapClear(e);
  setRes(e, 0, 0, 0); // no run of resident pages known yet (jemalloc.ts touchRegion)
  return e;
}

// arena_slab_dalloc
function slabDalloc(a: i32, slab: u32): void {
  paDalloc(a, slab);
  handleDeferred(a);
}

// arena_bin_refill_slabcur_no_fresh_slab: the lowest non-full slab becomes current.
function refillSlabcur(a: i32, b: u32): bool {
  const root = nonfullRoot(a, b);
  const s = setFirst(root);
  if (s) setRemove(root, s);
  setSlabcur(a, b, s);
  return s != 0;
}

// A region of the current slab (lowest free one); the slab's free count drops (arenaMallocSmall's;
// the fill takes its regions in one run, records.ts takeRegionsInto).
// @ts-ignore: decorator
@inline function takeRegion(slab: u32, b: u32): u32 {
  const reg = bitmapTakeFirst(slab, binNregs(b));
  setNfree(slab, eNfree(slab) - 1);
  return reg;
}

function countRegions(a: i32, b: u32, n: i64): void {
  add64(BINB(a, b) + 8, n);
  add64(AB(a) + A_ALLOC_SMALL, n * <i64>binRegSize(b));
}

// arena_malloc_small: one region (its allocation record; 0 when out of memory).
export function arenaMallocSmall(a: i32, b: u32): u32 {
  let cur = slabcurOf(a, b);
  if (!cur || !eNfree(cur)) {
    if (!refillSlabcur(a, b)) {
      const fresh = slabAlloc(a, b);
      if (!fresh) return 0;
      setSlabcur(a, b, fresh);
    }
    cur = slabcurOf(a, b);
  }
  const reg = takeRegion(cur, b);
  countRegions(a, b, 1);
  decayTick(a);
  return newAlloc(cur, reg);
}

// arena_cache_bin_fill_small: up to `nfill` regions into out[0..), lowest first. Returns the count.
export function arenaFillSmall(a: i32, b: u32, nfill: u32, out: usize): u32 {
  let filled: u32 = 0;
  let fresh: u32 = 0;
  let progress = true;
  while (true) {
    let retry = false;
    while (filled < nfill) {
      const cur = slabcurOf(a, b);
      const nfree = cur ? eNfree(cur) : 0;
      if (nfree) {
        const cnt = min(nfill - filled, nfree);
        takeRegionsInto(cur, binNregs(b), cnt, out + (<usize>filled << 2));
        setNfree(cur, nfree - cnt);
        filled += cnt;
        progress = true;
        continue;
      }
      if (refillSlabcur(a, b)) continue;
      if (fresh) { setSlabcur(a, b, fresh); fresh = 0; continue; }
      if (progress) retry = true;
      break;
    }
    if (!retry) break;
    fresh = slabAlloc(a, b);
    progress = false;
  }
  countRegions(a, b, filled);
  if (fresh) slabDalloc(a, fresh);
  decayTick(a);
  return filled;
}

// arena_bin_lower_slab: a slab that has a free region again.
function lowerSlab(a: i32, b: u32, slab: u32): void {
  const cur = slabcurOf(a, b);
  if (cur && snadLess(slab, cur)) {
    if (eNfree(cur)) setInsert(nonfullRoot(a, b), cur);
    setSlabcur(a, b, slab);
  } else {
    setInsert(nonfullRoot(a, b), slab);
  }
}

// arena_dalloc_bin_locked_step: region `reg` of `slab` is free. True when the slab became empty
// (it has been taken out of the bin; the caller gives it back to the page allocator). Inline in the
// flush's loop; the slab's moves out of line.
// @ts-ignore: decorator
@inline export function binDallocStep(a: i32, slab: u32, reg: u32): bool {
  const b = <u32>eSzind(slab);
  bitmapRelease(slab, reg);
  const nfree = eNfree(slab) + 1;
  setNfree(slab, nfree);
  countRegions(a, b, -1);
  const nregs = binNregs(b);
  if (nfree == nregs) {
    if (slab == slabcurOf(a, b)) setSlabcur(a, b, 0);
    else if (nregs != 1) setRemove(nonfullRoot(a, b), slab);
    return true;
  }
  if (nfree == 1 && slab != slabcurOf(a, b)) lowerSlab(a, b, slab);
  return false;
}

export function slabRelease(a: i32, slab: u32): void { slabDalloc(a, slab); }

// arena_dalloc_small: region of allocation record `r` is free (the record is released).
export function arenaDallocSmall(r: u32): void {
  const slab = allocExt(r);
  const a = arenaOfExt(slab);
  if (binDallocStep(a, slab, allocReg(r))) slabDalloc(a, slab);
  freeAlloc(r);
  decayTick(a);
}

// The arena slot of an extent (its record keeps it).
// @ts-ignore: decorator
@inline export function arenaOfExt(e: u32): i32 { return <i32>eArena(e); }

// ---------------------------------------------------------------- large allocations (large.c)

// The statistics class of a large allocation of usable size `usize`.
// @ts-ignore: decorator
@inline function largeClassBytes(usize: u64): u64 { return index2size(size2index(usize < LARGE_MINCLASS ? LARGE_MINCLASS : usize)); }

// large_palloc in arena `a`: `usize` bytes at `alignment`; returns an allocation record or 0.
export function largeMallocIn(a: i32, usize: u64, alignment: u64): u32 {
  const e = paAlloc(a, usize + LARGE_PAD, alignment, false, size2index(usize));
  if (!e) return 0;
  add64(AB(a) + A_ALLOC_LARGE, <i64>largeClassBytes(usize));
  add64(AB(a) + A_NLARGE, 1);
  if (alignment < PAGE) {
    // arena_cache_oblivious_randomize: a random cache line of the first page
    const lgRange = LG_PAGE - lgFloor(alignCeil(alignment, CACHELINE));
    const r = prngLgRange(HB(heapOfArena(a)) + H_PRNG, lgRange);
    setUserOffset(e, r << (LG_PAGE - lgRange));
  } else {
    setUserOffset(e, 0);
  }
  decayTick(a);
  return newAlloc(e, ALLOC_LARGE);
}

// @ts-ignore: decorator
@inline export function largeUsize(e: u32): u64 { return index2size(<u32>eSzind(e)); }

// large_dalloc
export function largeDalloc(r: u32): void {
  const e = allocExt(r);
  const a = arenaOfExt(e);
  largeDallocPrep(a, e);
  largeDallocFinish(a, e);
  freeAlloc(r);
  decayTick(a);
}
export function largeDallocPrep(a: i32, e: u32): void {
  add64(AB(a) + A_ALLOC_LARGE, -<i64>largeClassBytes(largeUsize(e)));
  add64(AB(a) + A_NLARGE, -1);
}
export function largeDallocFinish(a: i32, e: u32): void {
  paDalloc(a, e);
  handleDeferred(a);
}

// large_ralloc_no_move: resize allocation record r's extent in place. True when done.
export function largeResizeInPlace(r: u32, usize: u64): bool {
  const e = allocExt(r);
  const a = arenaOfExt(e);
  const old = largeUsize(e);
  let ok = false;
  if (usize > old) {
    ok = paExpand(a, e, usize + LARGE_PAD, size2index(usize));
  } else if (usize == old) {
    ok = true;
  } else {
    ok = paShrink(a, e, usize + LARGE_PAD, size2index(usize));
    if (ok) handleDeferred(a);
  }
  if (!ok) return false;
  if (usize != old) {
    add64(AB(a) + A_ALLOC_LARGE, <i64>largeClassBytes(usize) - <i64>largeClassBytes(old));
  }
  decayTick(a);
  return true;
}

// The program's address of an allocation record.
// @ts-ignore: decorator
@inline export function allocAddress(r: u32): u64 {
  const e = allocExt(r);
  const reg = allocReg(r);
  if (reg == ALLOC_LARGE) return eAddr(e) + eUserOffset(e);
  return eAddr(e) + <u64>reg * binRegSize(<u32>eSzind(e));
}

// Usable size of an allocation record.
// @ts-ignore: decorator
@inline export function allocUsize(r: u32): u64 {
  const e = allocExt(r);
  return allocReg(r) == ALLOC_LARGE ? largeUsize(e) : binRegSize(<u32>eSzind(e));
}

export function arenaAllocated(a: i32): u64 { return ld64(AB(a) + A_ALLOC_SMALL) + ld64(AB(a) + A_ALLOC_LARGE); }
export function arenaLargeCount(a: i32): u64 { return ld64(AB(a) + A_NLARGE); }
export function arenaIndex(a: i32): u32 { return ld32(AB(a) + A_IND); }
