// === jemalloc model: extents, extent caches and the page allocator (extent.c, eset.c, pac.c) ===
//
// An arena's pages are extents: runs of whole pages inside one mapping. Active extents back slabs
// and large allocations; unused ones wait in three caches, by state:
//   dirty     freed, pages still resident; reused first
//   muzzy     purged lazily (MADV_FREE); only when muzzy_decay_ms is not 0 (Debian: 0)
//   retained  purged (MADV_DONTNEED), address space kept mapped (opt.retain)
// Each cache files its extents by page-size class (the size rounded down to "class + one page")
// in ordered sets by (serial number, address), and keeps them in age order (LRU) for purging.
//
// Finding pages for a request of `size` bytes (pac_alloc_real): first fit in the dirty cache, then
// the muzzy cache, then the retained cache, else a new mapping. First fit: among the size classes
// that can hold the request (size + alignment − page, rounded up to a class + page), the extent
// with the lowest (serial number, address) over all those classes; in the dirty cache a class may
// not exceed the request by more than 2^lg_extent_max_active_fit (64×). The chosen extent is split:
// an alignment lead and the trailing rest go back to the same cache, unmerged.
// A new mapping (extent_grow_retained) has the next size of a geometric series, 2 MiB, 2.5, 3,
// 3.5, 4, 5, … MiB (one page-size class further each time, skipping ahead when the request needs
// more); what the request does not use goes to the retained cache. Each mapping gets the next
// serial number; pieces keep it, so older mappings are preferred.
//
// Freeing pages (extent_record): the extent goes to the dirty cache. There it is merged with free
// neighbours in the same state (never across a mapping's start) only when it is at least 16 KiB,
// one neighbour at a time until none is left; smaller ones are merged later, when purging picks
// them. A dirty extent of at least oversize_threshold (8 MiB) is purged at once unless a decay
// time is −1. Purged extents go to the retained cache and merge fully with retained neighbours.
//
// Purging (pac_decay_to_limit): take least recently used extents (merging each with one neighbour
// at a time first, in the dirty cache) until the cache holds no more than the limit, then purge
// them: to muzzy (MADV_FREE) when muzzy decay is on and this is not a full purge, else to retained.
//
// Descriptors (edata_t) come from a per-arena cache that asks the arena's base for a new one only
// when none is free; the model counts them so the base grows exactly as jemalloc's does.

import { vmPurge, vmDecommit } from "../../vm/space";
import {
  PAGE, LARGE_MINCLASS, alignCeil, pageCeil, psz2ind, pind2sz, quantizeCeil, quantizeFloor, NPSIZES, LARGE_MAXCLASS,
} from "./sizes";
import {
  newExt, freeExt, eAddr, eSize, eEnd, eSn, eState, eIsHead, eArena, ePrev, eNext, eLruNext, eLruPrev,
  setAddr, setSize, setSn, setState, setPrev, setNext, setLruPrev, setLruNext, setSzind, setFlags, eFlags,
  setInsert, setRemove, setFirst, setLeftOf, setRightOf, snadLess, ST_ACTIVE, ST_DIRTY, ST_MUZZY, ST_RETAINED, F_HEAD, F_SLAB, SZIND_NONE,
} from "./records";
import {
  AB, EB, DB, HB, heapOfArena, ld64, st64, ld32, st32, add64, ESET_BINS, E_STATE, E_DELAY, E_NPAGES,
  E_LRU_HEAD, E_LRU_TAIL, E_NEXTENTS, E_BITS, E_ROOTS, E_MINS, CACHE_DIRTY, CACHE_MUZZY, CACHE_RETAINED,
  A_NACTIVE, A_PAC_MAPPED, A_SN_NEXT, A_GROW_NEXT, A_GROW_LIMIT, A_EDATA_USED, A_EDATA_TOTAL, A_OVERSIZE, A_MAPPINGS,
  H_RETAIN, H_LG_MAX_FIT, H_PURGES,
} from "./state";
import { baseAlloc, ensureLeaf, touchLeafEntry, mapPages, EDATA_BYTES } from "./base";
import { decayMs, isPurging, setPurging } from "./decay";

const LG_PTR_BITS: u64 = 64;   // sc.h: SC_PTR_BITS (no fit limit outside the dirty cache)

// ---------------------------------------------------------------- extent descriptors (edata_cache.c)

// edata_cache_get: a descriptor from the arena's cache, or a new one from the arena's base.
function edataGet(a: i32): bool {
  const ab = AB(a);
  const used = ld64(ab + A_EDATA_USED);
  if (used == ld64(ab + A_EDATA_TOTAL)) {
    if (!baseAlloc(a, heapOfArena(a), EDATA_BYTES, EDATA_BYTES)) return false;
    add64(ab + A_EDATA_TOTAL, 1);
  }
  st64(ab + A_EDATA_USED, used + 1);
  return true;
}
// @ts-ignore: decorator
@inline function edataPut(a: i32): void { add64(AB(a) + A_EDATA_USED, -1); }

// ---------------------------------------------------------------- radix tree entries

// emap_register_boundary: the first and last page of the extent get entries.
function registerBoundary(a: i32, e: u32): bool {
  const h = heapOfArena(a);
  if (!ensureLeaf(h, eAddr(e)) || !ensureLeaf(h, eEnd(e) - PAGE)) return false;
  touchLeafEntry(h, eAddr(e));
  touchLeafEntry(h, eEnd(e) - PAGE);
  return true;
}

// ---------------------------------------------------------------- extent caches (eset.c)

// @ts-ignore: decorator
@inline function cacheState(c: i32): u8 { return c == CACHE_DIRTY ? ST_DIRTY : c == CACHE_MUZZY ? ST_MUZZY : ST_RETAINED; }
// @ts-ignore: decorator
@inline function binOf(size: u64): u32 { return psz2ind(quantizeFloor(size)); }

export function initCache(a: i32, c: i32): void {
  const eb = EB(a, c);
  st32(eb + E_STATE, <u32>cacheState(c));
  st32(eb + E_DELAY, c == CACHE_DIRTY ? 1 : 0);   // pac.c: only the dirty cache delays coalescing
}

export function cacheNpages(a: i32, c: i32): u64 { return ld64(EB(a, c) + E_NPAGES); }
export function cacheNextents(a: i32, c: i32): u64 { return ld64(EB(a, c) + E_NEXTENTS); }
export function cacheLruHead(a: i32, c: i32): u32 { return ld32(EB(a, c) + E_LRU_HEAD); }

function esetInsert(a: i32, c: i32, e: u32): void {
  const eb = EB(a, c);
  const bin = binOf(eSize(e));
  const root = eb + E_ROOTS + (<usize>bin << 2);
  const minp = eb + E_MINS + (<usize>bin << 2);
  if (!ld32(root)) {
    const w = eb + E_BITS + (<usize>(bin >> 6) << 3);
    st64(w, ld64(w) | (<u64>1 << <u64>(bin & 63)));
    st32(minp, e);
  } else if (snadLess(e, ld32(minp))) {
    st32(minp, e);
  }
  setInsert(root, e);
  // newest at the tail of the age list
  const tail = ld32(eb + E_LRU_TAIL);
  setLruPrev(e, tail);
  setLruNext(e, 0);
  if (tail) setLruNext(tail, e); else st32(eb + E_LRU_HEAD, e);
  st32(eb + E_LRU_TAIL, e);
  add64(eb + E_NPAGES, <i64>(eSize(e) >> 12));
  add64(eb + E_NEXTENTS, 1);
}

function esetRemove(a: i32, c: i32, e: u32): void {
  const eb = EB(a, c);
  const bin = binOf(eSize(e));
  const root = eb + E_ROOTS + (<usize>bin << 2);
  setRemove(root, e);
  if (!ld32(root)) {
    const w = eb + E_BITS + (<usize>(bin >> 6) << 3);
    st64(w, ld64(w) & ~(<u64>1 << <u64>(bin & 63)));
    st32(eb + E_MINS + (<usize>bin << 2), 0);
  } else if (ld32(eb + E_MINS + (<usize>bin << 2)) == e) {
    st32(eb + E_MINS + (<usize>bin << 2), setFirst(root));
  }
  const p = eLruPrev(e), n = eLruNext(e);
  if (p) setLruNext(p, n); else st32(eb + E_LRU_HEAD, n);
  if (n) setLruPrev(n, p); else st32(eb + E_LRU_TAIL, p);
  setLruPrev(e, 0); setLruNext(e, 0);
  add64(eb + E_NPAGES, -<i64>(eSize(e) >> 12));
  add64(eb + E_NEXTENTS, -1);
}

// First bin at or above `from` that holds extents (ESET_BINS when none).
function nextBin(eb: usize, from: u32): u32 {
  for (let w = from >> 6; w < ((ESET_BINS + 63) >> 6); w++) {
    let m = ld64(eb + E_BITS + (<usize>w << 3));
    if (w == (from >> 6)) m &= ~((<u64>1 << <u64>(from & 63)) - 1);
    if (m) return (w << 6) + <u32>ctz(m);
  }
  return ESET_BINS;
}

// eset_first_fit
function firstFit(a: i32, c: i32, size: u64, lgMaxFit: u64): u32 {
  const eb = EB(a, c);
  const pind = psz2ind(quantizeCeil(size));
  if (lgMaxFit >= LG_PTR_BITS) lgMaxFit = LG_PTR_BITS - 1;
  let ret: u32 = 0;
  for (let i = nextBin(eb, pind); i < ESET_BINS; i = nextBin(eb, i + 1)) {
    if ((pind2sz(i) >> lgMaxFit) > size) break;
    const m = ld32(eb + E_MINS + (<usize>i << 2));
    if (!ret || snadLess(m, ret)) ret = m;
    if (i == NPSIZES) break;
  }
  return ret;
}

// eset_fit_alignment: for aligned requests no class above could serve, try each class's first
// extent for an aligned spot.
function fitAlignment(a: i32, c: i32, minSize: u64, maxSize: u64, alignment: u64): u32 {
  const eb = EB(a, c);
  const pind = psz2ind(quantizeCeil(minSize));
  const pindMax = psz2ind(quantizeCeil(maxSize));
  for (let i = nextBin(eb, pind); i < pindMax; i = nextBin(eb, i + 1)) {
    const e = ld32(eb + E_MINS + (<usize>i << 2));
    const base = eAddr(e);
    const size = eSize(e);
    const next = alignCeil(base, pageCeil(alignment));
    if (base > next || base + size <= next) continue;
    if (size - (next - base) >= minSize) return e;
  }
  return 0;
}

function esetFit(a: i32, c: i32, esize: u64, alignment: u64, lgMaxFit: u64): u32 {
  const maxSize = esize + pageCeil(alignment) - PAGE;
  if (maxSize < esize) return 0;
  let e = firstFit(a, c, maxSize, lgMaxFit);
  if (alignment > PAGE && !e) e = fitAlignment(a, c, esize, maxSize, alignment);
  return e;
}

// ---------------------------------------------------------------- split and merge

// extent_split_impl: e keeps its first sizeA bytes; a new record (returned, 0 on failure) the rest.
export function splitExt(a: i32, e: u32, sizeA: u64): u32 {
  if (!edataGet(a)) return 0;
  const h = heapOfArena(a);
  const addr = eAddr(e), sizeB = eSize(e) - sizeA;
  // emap_split_prepare looks up (creating leaves) both ends of both halves
  if (!ensureLeaf(h, addr) || !ensureLeaf(h, addr + sizeA - PAGE) || !ensureLeaf(h, addr + sizeA) ||
    !ensureLeaf(h, addr + sizeA + sizeB - PAGE)) { edataPut(a); return 0; }
  const t = newExt(addr + sizeA, sizeB, eSn(e), eState(e), eFlags(e) & ~F_HEAD, eArena(e));
  const n = eNext(e);
  setNext(t, n); setPrev(t, e);
  if (n) setPrev(n, t);
  setNext(e, t);
  setSize(e, sizeA);
  touchLeafEntry(h, addr + sizeA - PAGE);
  touchLeafEntry(h, addr + sizeA);
  return t;
}

// extent_merge_impl: lo absorbs hi (its successor); hi's record and descriptor are freed.
function mergeExt(a: i32, lo: u32, hi: u32): void {
  setState(lo, ST_ACTIVE);
  setSize(lo, eSize(lo) + eSize(hi));
  if (eSn(hi) < eSn(lo)) setSn(lo, eSn(hi));
  const n = eNext(hi);
  setNext(lo, n);
  if (n) setPrev(n, lo);
  freeExt(hi);
  edataPut(a);
}

// The neighbour after / before e that may merge with it in state `st` (emap_try_acquire_edata_neighbor):
// adjacent, in that state, and the higher of the two not the start of a mapping.
function forwardNeighbour(e: u32, st: u8): u32 {
  const n = eNext(e);
  return n && eAddr(n) == eEnd(e) && eState(n) == st && !eIsHead(n) ? n : 0;
}
function backwardNeighbour(e: u32, st: u8): u32 {
  const p = ePrev(e);
  return p && eEnd(p) == eAddr(e) && eState(p) == st && !eIsHead(e) ? p : 0;
}

let coalesced = false;

// extent_try_coalesce_impl. With delayed coalescing (the dirty cache) it stops after one merge
// and says so in `coalesced`.
function tryCoalesce(a: i32, c: i32, e: u32): u32 {
  const eb = EB(a, c);
  const st = <u8>ld32(eb + E_STATE);
  const delay = ld32(eb + E_DELAY) != 0;
  coalesced = false;
  let again: bool;
  do {
    again = false;
    const n = forwardNeighbour(e, st);
    if (n) {
      esetRemove(a, c, n);
      mergeExt(a, e, n);
      if (delay) { coalesced = true; return e; }
      again = true;
    }
    const p = backwardNeighbour(e, st);
    if (p) {
      esetRemove(a, c, p);
      mergeExt(a, p, e);
      e = p;
      if (delay) { coalesced = true; return e; }
      again = true;
    }
  } while (again);
  return e;
}

// ---------------------------------------------------------------- recording freed extents

function deactivate(a: i32, c: i32, e: u32): void {
  setState(e, cacheState(c));
  esetInsert(a, c, e);
}

// extent_record: put an active extent (not in any cache) into cache c, merging as the cache does.
export function extentRecord(a: i32, c: i32, e: u32): void {
  const eb = EB(a, c);
  if (!ld32(eb + E_DELAY)) {
    e = tryCoalesce(a, c, e);
  } else if (eSize(e) >= LARGE_MINCLASS) {
    do { e = tryCoalesce(a, c, e); } while (coalesced);
    if (eSize(e) >= ld64(AB(a) + A_OVERSIZE) && mayForceDecay(a)) {
      // pac.c / extent.c: an oversize extent is purged at once
      const size = eSize(e);
      dallocWrapper(a, e);
      add64(AB(a) + A_PAC_MAPPED, -<i64>size);
      return;
    }
  }
  deactivate(a, c, e);
}

// extent_may_force_decay: neither decay time is −1.
function mayForceDecay(a: i32): bool {
  return decayMs(DB(a, false)) != -1 && decayMs(DB(a, true)) != -1;
}

// extent_dalloc_wrapper: give the pages back. With opt.retain the mapping stays: the pages are
// purged (MADV_DONTNEED; decommit fails under overcommit) and the extent is retained. Without it
// the pages are unmapped (here: decommitted, the region stays reserved until its last piece goes).
export function dallocWrapper(a: i32, e: u32): void {
  const h = heapOfArena(a);
  add64(HB(h) + H_PURGES, 1);
  if (ld32(HB(h) + H_RETAIN)) {
    vmPurge(eAddr(e), eSize(e));
    setState(e, ST_ACTIVE);
    extentRecord(a, CACHE_RETAINED, e);
    return;
  }
  vmDecommit(eAddr(e), eSize(e));
  if (eIsHead(e)) add64(AB(a) + A_MAPPINGS, -1);
  const p = ePrev(e), n = eNext(e);
  if (p) setNext(p, n);
  if (n) setPrev(n, p);
  freeExt(e);
  edataPut(a);
}

// ---------------------------------------------------------------- taking extents from a cache

// extent_recycle: an extent of exactly `size` bytes at `alignment` from cache c (0 when none).
// With `expand`, only the free extent right after `expand` will do (in-place growth).
export function extentRecycle(a: i32, c: i32, expand: u32, size: u64, alignment: u64): u32 {
  const eb = EB(a, c);
  const st = <u8>ld32(eb + E_STATE);
  let e: u32;
  if (expand) {
    e = forwardNeighbour(expand, st);
    if (e && eSize(e) < size) e = 0;
  } else {
    const lgMaxFit = ld32(eb + E_DELAY) ? ld64(HB(heapOfArena(a)) + H_LG_MAX_FIT) : LG_PTR_BITS;
    e = esetFit(a, c, size, alignment, lgMaxFit);
  }
  if (!e) return 0;
  esetRemove(a, c, e);
  setState(e, ST_ACTIVE);
  return splitInterior(a, c, e, size, alignment, false);
}

// extent_split_interior + what follows: the aligned middle is returned, the lead and the trail
// go back to cache c (recordPieces: through extent_record, as after growing a mapping).
function splitInterior(a: i32, c: i32, e: u32, size: u64, alignment: u64, recordPieces: bool): u32 {
  const addr = eAddr(e);
  const lead = alignCeil(addr, pageCeil(alignment)) - addr;
  const trailSize = eSize(e) - lead - size;
  let leadExt: u32 = 0, trailExt: u32 = 0;
  if (lead) {
    leadExt = e;
    e = splitExt(a, leadExt, lead);
    if (!e) { deactivateOrRecord(a, c, leadExt, recordPieces); return 0; }
  }
  if (trailSize) {
    trailExt = splitExt(a, e, size);
    if (!trailExt) {
      deactivateOrRecord(a, c, e, recordPieces);
      if (leadExt) deactivateOrRecord(a, c, leadExt, recordPieces);
      return 0;
    }
  }
  if (leadExt) deactivateOrRecord(a, c, leadExt, recordPieces);
  if (trailExt) deactivateOrRecord(a, c, trailExt, recordPieces);
  return e;
}

function deactivateOrRecord(a: i32, c: i32, e: u32, record: bool): void {
  if (record) extentRecord(a, c, e); else deactivate(a, c, e);
}

// extent_grow_retained: a new mapping of the next size in the series that can hold the request.
function growRetained(a: i32, size: u64, alignment: u64): u32 {
  const ab = AB(a);
  const allocMin = size + pageCeil(alignment) - PAGE;
  if (allocMin < size) return 0;
  const next = ld32(ab + A_GROW_NEXT);
  const top = psz2ind(LARGE_MAXCLASS);
  let skip: u32 = 0;
  let allocSize = pind2sz(next);
  while (allocSize < allocMin) {
    skip++;
    if (next + skip >= top) return 0;
    allocSize = pind2sz(next + skip);
  }
  if (!edataGet(a)) return 0;
  const addr = mapPages(heapOfArena(a), allocSize, PAGE);
  if (!addr) { edataPut(a); return 0; }
  const sn = <u32>ld64(ab + A_SN_NEXT);
  st64(ab + A_SN_NEXT, <u64>sn + 1);
  const e = newExt(addr, allocSize, sn, ST_ACTIVE, F_HEAD, <u8>a);
  add64(ab + A_MAPPINGS, 1);
  if (!registerBoundary(a, e)) { extentRecord(a, CACHE_RETAINED, e); return 0; }
  const r = splitInterior(a, CACHE_RETAINED, e, size, alignment, true);
  if (!r) return 0;
  // exp_grow_size_commit
  const limit = ld32(ab + A_GROW_LIMIT);
  st32(ab + A_GROW_NEXT, next + skip + 1 <= limit ? next + skip + 1 : limit);
  return r;
}

// Without opt.retain: a fresh mapping of exactly `size` bytes (extent_alloc_wrapper).
function allocWrapper(a: i32, size: u64, alignment: u64): u32 {
  const ab = AB(a);
  if (!edataGet(a)) return 0;
  const addr = mapPages(heapOfArena(a), size, alignCeil(alignment, PAGE));
  if (!addr) { edataPut(a); return 0; }
  const sn = <u32>ld64(ab + A_SN_NEXT);
  st64(ab + A_SN_NEXT, <u64>sn + 1);
  const e = newExt(addr, size, sn, ST_ACTIVE, F_HEAD, <u8>a);
  add64(ab + A_MAPPINGS, 1);
  if (!registerBoundary(a, e)) { dallocWrapper(a, e); return 0; }
  return e;
}

// ecache_alloc_grow: the retained cache, else a new mapping (not when expanding in place).
function allocGrow(a: i32, expand: u32, size: u64, alignment: u64): u32 {
  const e = extentRecycle(a, CACHE_RETAINED, expand, size, alignment);
  if (e) return e;
  const retain = ld32(HB(heapOfArena(a)) + H_RETAIN) != 0;
  if (expand) {
    // Without opt.retain jemalloc tries a mapping right after the extent (mmap with that address
    // as a hint), taking a descriptor first; the kernel places mappings top-down, so the address
    // is taken and the try fails. The model counts the descriptor and fails.
    if (!retain && edataGet(a)) edataPut(a);
    return 0;
  }
  if (retain) {
    const g = growRetained(a, size, alignment);
    if (g) return g;
  }
  return allocWrapper(a, size, alignment);
}

// pac_may_have_muzzy
// @ts-ignore: decorator
@inline function mayHaveMuzzy(a: i32): bool { return decayMs(DB(a, true)) != 0; }

// pac_alloc_real: dirty, then muzzy, then retained / new mapping (counted as newly mapped).
function pacAlloc(a: i32, size: u64, alignment: u64): u32 {
  let e = extentRecycle(a, CACHE_DIRTY, 0, size, alignment);
  if (!e && mayHaveMuzzy(a)) e = extentRecycle(a, CACHE_MUZZY, 0, size, alignment);
  if (!e) {
    e = allocGrow(a, 0, size, alignment);
    if (e) add64(AB(a) + A_PAC_MAPPED, <i64>size);
  }
  return e;
}

// ---------------------------------------------------------------- the page allocator interface (pa.c)

// pa_alloc: an active extent of `size` bytes for a slab or a large allocation.
export function paAlloc(a: i32, size: u64, alignment: u64, slab: bool, szind: u32): u32 {
  const e = pacAlloc(a, size, alignment);
  if (!e) return 0;
  add64(AB(a) + A_NACTIVE, <i64>(size >> 12));
  setSzind(e, <u8>szind);
  setFlags(e, slab ? (eFlags(e) | F_SLAB) : (eFlags(e) & ~F_SLAB));
  return e;
}

// pa_dalloc: the extent goes to the dirty cache (the caller then does the deferred work).
export function paDalloc(a: i32, e: u32): void {
  setSzind(e, SZIND_NONE);
  setFlags(e, eFlags(e) & ~F_SLAB);
  add64(AB(a) + A_NACTIVE, -<i64>(eSize(e) >> 12));
  extentRecord(a, CACHE_DIRTY, e);
}

// pa_expand (pac_expand_impl): grow e in place into the free extent after it. False = cannot.
export function paExpand(a: i32, e: u32, newSize: u64, szind: u32): bool {
  const amount = newSize - eSize(e);
  let mappedAdd: u64 = 0;
  let trail = extentRecycle(a, CACHE_DIRTY, e, amount, PAGE);
  if (!trail) trail = extentRecycle(a, CACHE_MUZZY, e, amount, PAGE);
  if (!trail) {
    trail = allocGrow(a, e, amount, PAGE);
    mappedAdd = amount;
  }
  if (!trail) return false;
  mergeExt(a, e, trail);
  add64(AB(a) + A_PAC_MAPPED, <i64>mappedAdd);
  add64(AB(a) + A_NACTIVE, <i64>(amount >> 12));
  setSzind(e, <u8>szind);
  return true;
}

// pa_shrink (pac_shrink_impl): cut e to newSize; the tail goes to the dirty cache.
export function paShrink(a: i32, e: u32, newSize: u64, szind: u32): bool {
  const amount = eSize(e) - newSize;
  const trail = splitExt(a, e, newSize);
  if (!trail) return false;
  extentRecord(a, CACHE_DIRTY, trail);
  add64(AB(a) + A_NACTIVE, -<i64>(amount >> 12));
  setSzind(e, <u8>szind);
  return true;
}

// ---------------------------------------------------------------- purging (pac.c)

// ecache_evict: the least recently used extent of cache c, unless the cache holds no more than
// `npagesMin` pages. In the dirty cache it is first merged with neighbours, one at a time.
function evict(a: i32, c: i32, npagesMin: u64): u32 {
  const eb = EB(a, c);
  const st = <u8>ld32(eb + E_STATE);
  let e: u32;
  while (true) {
    e = ld32(eb + E_LRU_HEAD);
    if (!e) return 0;
    if (ld64(eb + E_NPAGES) <= npagesMin) return 0;
    esetRemove(a, c, e);
    if (!ld32(eb + E_DELAY)) break;
    setState(e, ST_ACTIVE);
    e = tryCoalesce(a, c, e);
    setState(e, st);
    if (!coalesced) break;
    esetInsert(a, c, e);
  }
  setState(e, ST_ACTIVE);
  return e;
}

// pac_decay_to_limit: purge extents of cache c (dirty or muzzy) until it holds `npagesLimit`
// pages, purging at most `npagesMax`. `fully`: straight to retained (a full purge).
export function decayToLimit(a: i32, c: i32, fully: bool, npagesLimit: u64, npagesMax: u64): void {
  const d = DB(a, c == CACHE_MUZZY);
  if (isPurging(d) || npagesMax == 0) return;
  setPurging(d, true);
  // stash, oldest first, chained through the age links (free while out of the cache)
  let head: u32 = 0, tail: u32 = 0;
  let nstashed: u64 = 0;
  while (nstashed < npagesMax) {
    const e = evict(a, c, npagesLimit);
    if (!e) break;
    setLruNext(e, 0);
    if (tail) setLruNext(tail, e); else head = e;
    tail = e;
    nstashed += eSize(e) >> 12;
  }
  const tryMuzzy = !fully && mayHaveMuzzy(a);
  let nunmapped: u64 = 0;
  let e = head;
  while (e) {
    const next = eLruNext(e);
    setLruNext(e, 0);
    const pages = eSize(e) >> 12;
    if (c == CACHE_DIRTY && tryMuzzy) {
      // MADV_FREE: the pages stay resident until the kernel needs them
      extentRecord(a, CACHE_MUZZY, e);
    } else {
      dallocWrapper(a, e);
      nunmapped += pages;
    }
    e = next;
  }
  add64(AB(a) + A_PAC_MAPPED, -<i64>(nunmapped << 12));
  setPurging(d, false);
}

// pac_decay_all
export function decayAll(a: i32, c: i32, fully: bool): void {
  decayToLimit(a, c, fully, 0, cacheNpages(a, c));
}

// The largest extent of cache c: the largest in its highest non-empty bin.
export function cacheLargest(a: i32, c: i32): u64 {
  const eb = EB(a, c);
  for (let w: i32 = <i32>((ESET_BINS + 63) >> 6) - 1; w >= 0; w--) {
    const m = ld64(eb + E_BITS + (<usize>w << 3));
    if (!m) continue;
    const bin = (<u32>w << 6) + 63 - <u32>clz(m);
    return largestIn(ld32(eb + E_ROOTS + (<usize>bin << 2)));
  }
  return 0;
}
function largestIn(t: u32): u64 {
  if (!t) return 0;
  const l = largestIn(setLeftOf(t)), r = largestIn(setRightOf(t));
  let best = eSize(t);
  if (l > best) best = l;
  if (r > best) best = r;
  return best;
}

// ---------------------------------------------------------------- invariants (for check())

// Every cached extent is in its cache's set of the right bin, with the right state; the caches'
// page counts and the set minima are right. Returns false on the first problem.
export function cacheConsistent(a: i32, c: i32): bool {
  const eb = EB(a, c);
  const st = <u8>ld32(eb + E_STATE);
  let pages: u64 = 0, n: u64 = 0;
  let prev: u32 = 0;
  for (let e = ld32(eb + E_LRU_HEAD); e; e = eLruNext(e)) {
    if (eState(e) != st || eLruPrev(e) != prev) return false;
    const bin = binOf(eSize(e));
    const m = ld32(eb + E_MINS + (<usize>bin << 2));
    if (!m || snadLess(e, m)) return false;
    pages += eSize(e) >> 12;
    n++;
    prev = e;
  }
  if (prev != ld32(eb + E_LRU_TAIL)) return false;
  if (pages != ld64(eb + E_NPAGES) || n != ld64(eb + E_NEXTENTS)) return false;
  for (let i: u32 = 0; i < ESET_BINS; i++) {
    const root = eb + E_ROOTS + (<usize>i << 2);
    const has = (ld64(eb + E_BITS + (<usize>(i >> 6) << 3)) >> <u64>(i & 63)) & 1;
    if ((ld32(root) != 0) != (has != 0)) return false;
    if (ld32(eb + E_MINS + (<usize>i << 2)) != setFirst(root)) return false;
  }
  return true;
}
