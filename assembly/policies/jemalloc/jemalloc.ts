// === jemalloc: jemalloc 5.3.0 as Debian 12 ships it (libjemalloc2), x86-64, one thread ===
//
// A model precise enough that the library's own statistics (stats.allocated, active, metadata,
// resident, mapped, retained, and the dirty and muzzy page counts) come out as the real library's
// after the same calls, checked against the installed library by test/oracle/jemalloc-replay.c.
// The rules were read in jemalloc 5.3.0's source (file names below and in docs/jemalloc.md) and
// are restated in our own words in the headers of this folder:
//   sizes.ts   size classes, slab geometry, page-size classes
//   records.ts extent and allocation records, ordered sets
//   base.ts    mappings, the metadata (base) allocator, radix-tree leaves
//   extent.ts  extent caches, first fit, splitting, merging, new mappings, purging
//   decay.ts   the decay curve
//   arena.ts   arenas, bins and slabs, large allocations, decay triggers
//   tcache.ts  the thread cache and its incremental GC
// This file: what one call does, the start state, parameters, statistics and invariants.
//
// The process's start (what the library has done before the program's first call, as the oracle
// observes it): base 0 with its base_t; the thread-cache bin table (tcache_boot); arena 0's
// arena_t (arena_new); the thread's cache stacks (an internal allocation, when the tcache is on:
// the thread's data is set up in malloc_tsd_boot0); the background-thread table
// (background_thread_boot1); the C++ runtime's start-up malloc
// (libstdc++'s emergency exception pool: libjemalloc.so.2 links libstdc++); then the statistics
// tables that the first mallctl() allocates (ctl_init): a fixed table, the totals, and one entry
// per arena index plus two (all arenas, destroyed arenas).
//
// Invariants (jeCheck returns the number of the first that fails):
//   J1 the extents of each mapping are in address order, adjacent, the first one a mapping head
//   J2 each cache's sets, bins, age list and page counts agree (extent.ts cacheConsistent)
//   J3 active pages = the arena's active extents; descriptors in use = the arena's extents
//   J4 slabs: free count = regions not in the bitmap; the current slab and the non-full set are
//      consistent; bin region counts = regions in use
//   J5 pac_mapped = (active + dirty + muzzy) pages
//   J6 the thread cache: counts within capacity, low-water marks within counts
//   J7 allocation records: every live record of the heap points at a live extent of the heap
//   J8 while the VM's residency epoch is a slab's resEpoch, every VM page of its run is resident
//      (touchRegion skips touches there)

import { Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_SEGMENTS, K_VIRTUAL_BLOCKS,
  K_VIRTUAL_BYTES, K_POLICY_BASE } from "../../abi";
import { vmOwnerResident, vmRelease, touchPages, vmResidencyEpoch, vmResidencyHolds, vmAllResident, vmIsResident,
  RESIDENCY_EPOCH_SATURATED } from "../../vm/space";
import { PAGE_SHIFT, PAGE_MASK } from "../../vm/constants";
import { CHECKS } from "../../checks";
import { clockNs, clockEvents } from "../../kit/clock";
import { paramValue } from "../../kit/params";
import {
  initSizes, size2index, index2size, s2u, sa2u, SMALL_MAXCLASS, LARGE_MINCLASS, LARGE_MAXCLASS, NBINS,
  CACHELINE, PAGE, binNregs, binRegSize,
} from "./sizes";
import {
  eAddr, eSize, eState, eArena, eIsHead, eIsSlab, eSzind, eNfree, ePrev, eNext, allocExt, allocReg,
  allocHighWater, allocIsLive, freeAlloc, freeExt, extHighWater, bitmapCount, setFirst, setOrdered,
  setCount, setContains, ST_DEAD, ST_ACTIVE, ALLOC_LARGE, extEngineBytes, allocEngineBytes, EXT_BYTES, allocReserve,
  eResEpoch, eResFrom, eResEnd, setRes,
} from "./records";
import {
  HB, AB, BSB, arenaSlot, clearHeapState, stateBytes, ld64, st64, ld32, st32, add64, SLOT_A0, SLOT_HUGE, ARENA_SLOTS,
  H_CREATED, H_TCACHE, H_RETAIN, H_HUGE_ENABLED, H_DIRTY_MS, H_MUZZY_MS, H_OVERSIZE, H_LG_MAX_FIT, H_NARENAS,
  H_NS_PER_EVENT, H_STARTUP_BYTES, H_PRNG, H_TICK, H_INTERNAL, H_NOW, H_TC_MEM, H_STARTUP, H_PURGES,
  A_NACTIVE, A_PAC_MAPPED, A_EDATA_USED, A_MAPPINGS, A_ALLOC_LARGE, CACHE_DIRTY, CACHE_MUZZY, CACHE_RETAINED, TC_NBINS, BS_NBLOCKS,
} from "./state";
import { baseNew, baseAlloc, baseAllocated, baseResident, baseMapped, baseBlocks, baseBlockAddr, leafCount } from "./base";
import { cacheNpages, cacheNextents, cacheConsistent, cacheLargest } from "./extent";
import {
  arenaCreate, arenaCreated, chooseArena, arenaMallocSmall, arenaDallocSmall, largeMallocIn, largeDalloc,
  largeResizeInPlace, allocAddress, allocUsize, arenaAllocated, arenaLargeCount, arenaDecay, decayTick,
  binSlabcur, binNonfullRoot, binCurregs, arenaOfExt,
} from "./arena";
import {
  tcacheInit, tcacheStackBytes, tcacheStackAlignment, tcacheEnabled, tcacheBytes, tcacheAllocSmall,
  tcacheAllocLarge, tcacheDalloc, tcacheFlushAll, threadEventsInit, threadEvent, tcacheConsistent,
} from "./tcache";

// ---------------------------------------------------------------- constants of the start state

const TCACHE_BIN_INFO_BYTES: u64 = 82;      // tcache.c tcache_boot: 41 bins × sizeof(cache_bin_info_t)
const BG_THREAD_INFO_BYTES: u64 = 832;      // background_thread.c: 4 × sizeof(background_thread_info_t)
const CTL_ARENAS_BYTES: u64 = 32800;        // ctl.c ctl_init: sizeof(ctl_arenas_t)
const CTL_STATS_BYTES: u64 = 720;           // ctl.c ctl_init: sizeof(ctl_stats_t)
const CTL_ARENA_BYTES: u64 = 37856;         // ctl.c arenas_i_impl: ctl_arena_t with its statistics
const TCACHE_MAXCLASS: u64 = 32768;         // tcache.c: opt_tcache_max (tcache_maxclass)
const DEFAULT_STARTUP_BYTES: u64 = 72704;   // libstdc++ 12 eh_alloc.cc: the emergency pool's malloc
const NTICKS_PER_UPDATE: i64 = 1000;        // arena_types.h: ARENA_DECAY_NTICKS_PER_UPDATE
const DIRTY_DECAY_MS_DEFAULT: i64 = 10000;  // arena_types.h: DIRTY_DECAY_MS_DEFAULT
const MUZZY_DECAY_MS_DEFAULT: i64 = 0;      // arena_types.h: MUZZY_DECAY_MS_DEFAULT
const OVERSIZE_THRESHOLD_DEFAULT: u64 = 8 << 20;  // arena_types.h: OVERSIZE_THRESHOLD_DEFAULT
const LG_EXTENT_MAX_ACTIVE_FIT_DEFAULT: u64 = 6;  // extent.h: LG_EXTENT_MAX_ACTIVE_FIT_DEFAULT
const DECAY_MS_MAX: f64 = 18446744073709.0;       // nstime.h: NSTIME_SEC_MAX × 1000 (decay_ms_valid)
const MALLOCX_ARENA_LIMIT: f64 = 4095;            // jemalloc_internal_types.h: MALLOCX_ARENA_LIMIT − 1
// Model defaults (ours): 8 arenas = jemalloc's 4 × CPUs on the 2-CPU machine the oracle runs on
// (only the statistics tables depend on it); 1 µs per allocator call when the trace has no time;
// the thread's PRNG seed stands for its TSD address (only decay ticks and cache-line offsets of
// large blocks depend on it).
const DEFAULT_NARENAS: u64 = 8;
const DEFAULT_NS_PER_EVENT: u64 = 1000;
const DEFAULT_PRNG_SEED: u64 = 0x7ffff7a2d738;
// Model limit (ours): larger requests fail, as an out-of-memory would (the simulated space commits
// every page of a mapping; 64 GiB keeps that bounded).
const MAX_REQUEST_BYTES: u64 = 64 << 30;

// Parameters (slot index in the HEAP_CREATE params block; NaN = default).
export const JE_TCACHE = 0;                  // opt.tcache: 1 on, 0 off
export const JE_DIRTY_DECAY_MS = 1;          // opt.dirty_decay_ms: −1 never, 0 at once
export const JE_MUZZY_DECAY_MS = 2;          // opt.muzzy_decay_ms
export const JE_RETAIN = 3;                  // opt.retain: 1 keep address space, 0 unmap
export const JE_OVERSIZE_THRESHOLD = 4;      // opt.oversize_threshold (bytes; out of range: no huge arena)
export const JE_LG_EXTENT_MAX_ACTIVE_FIT = 5;
export const JE_NARENAS = 6;                 // opt.narenas
export const JE_NS_PER_EVENT = 7;            // simulated ns per call (decay clock)
export const JE_STARTUP_BYTES = 8;           // the runtime's start-up malloc (0: none)
export const JE_PRNG_SEED = 9;               // the thread's PRNG seed
export const JE_PARAM_COUNT = 10;

// Policy counter slots.
const S_ALLOCATED = K_POLICY_BASE + 0;
const S_ACTIVE = K_POLICY_BASE + 1;
const S_METADATA = K_POLICY_BASE + 2;
const S_RESIDENT = K_POLICY_BASE + 3;
const S_MAPPED = K_POLICY_BASE + 4;
const S_RETAINED = K_POLICY_BASE + 5;
const S_DIRTY = K_POLICY_BASE + 6;
const S_MUZZY = K_POLICY_BASE + 7;
const S_TCACHE = K_POLICY_BASE + 8;
const S_INTERNAL = K_POLICY_BASE + 9;
const S_LEAVES = K_POLICY_BASE + 10;
const S_PURGES = K_POLICY_BASE + 11;

// @ts-ignore: decorator
@inline function param(params: usize, count: i32, i: i32): f64 { return paramValue(params, count, i); }
function isInt(v: f64): bool { return v == Math.floor(v); }

// ---------------------------------------------------------------- calls

// The clock: jemalloc reads the wall clock; here the kit's simulated clock. A run with TICK ops
// (a trace with timestamps) has their time; otherwise each event is nsPerEvent ns. Never backwards.
// @ts-ignore: decorator
@inline function enter(h: i32): void {
  const hb = HB(h);
  const ns = clockNs();
  const now = ns ? ns : clockEvents() * ld64(hb + H_NS_PER_EVENT);
  if (now > ld64(hb + H_NOW)) st64(hb + H_NOW, now);
}

// arena_malloc with no arena given: the thread cache, else arena 0 or (for `chooseBy` at or
// above the oversize threshold) the huge arena. Returns an allocation record.
// @ts-ignore: decorator
@inline function mallocUsize(h: i32, usize: u64, chooseBy: u64): u32 {
  const ind = size2index(usize);
  if (tcacheEnabled(h) && usize <= TCACHE_MAXCLASS) {
    return usize <= SMALL_MAXCLASS ? tcacheAllocSmall(h, ind) : tcacheAllocLarge(h, ind, usize);
  }
  return mallocArena(h, usize, ind, chooseBy);
}

function mallocArena(h: i32, usize: u64, ind: u32, chooseBy: u64): u32 {
  const a = chooseArena(h, chooseBy);
  if (a < 0) return 0;
  return usize <= SMALL_MAXCLASS ? arenaMallocSmall(a, ind) : largeMallocIn(a, usize, CACHELINE);
}

// ipalloc with no arena: aligned requests (the thread cache only for small ones).
function mallocAligned(h: i32, usize: u64, alignment: u64): u32 {
  if (usize <= SMALL_MAXCLASS) return mallocUsize(h, usize, usize);
  const a = chooseArena(h, usize);
  if (a < 0) return 0;
  return largeMallocIn(a, usize, alignment <= CACHELINE ? CACHELINE : alignment);
}

// isdalloct: free without the thread-event accounting.
// @ts-ignore: decorator
@inline function dalloc(h: i32, r: u32): void {
  dallocOf(h, r, <u32>eSzind(allocExt(r)), allocReg(r) == ALLOC_LARGE);
}
// dalloc with record r's size class and kind read by the caller.
// @ts-ignore: decorator
@inline function dallocOf(h: i32, r: u32, szind: u32, large: bool): void {
  if (!large) {
    if (tcacheEnabled(h)) tcacheDalloc(h, szind, r); else arenaDallocSmall(r);
  } else {
    if (tcacheEnabled(h) && szind < TC_NBINS) tcacheDalloc(h, szind, r); else largeDalloc(r);
  }
}

// @ts-ignore: decorator
@inline function handOut(h: i32, r: u32): u32 {
  if (r) {
    const e = allocExt(r);
    const reg = allocReg(r);
    if (reg != ALLOC_LARGE) {
      const bytes = binRegSize(<u32>eSzind(e));
      touchRegion(h, e, eAddr(e) + <u64>reg * bytes, bytes);
    } else {
      touchPages(allocAddress(r), allocUsize(r), <u8>h);
    }
  }
  return r;
}

// The program writes the whole region it gets: a touch of [a, a + bytes) in slab e. Each slab keeps
// a run of VM pages it knows resident and the VM's residency epoch it knew them at (records.ts
// eResEpoch): while the epoch holds (no page anywhere has stopped being resident since) a touch
// inside the run changes nothing and is skipped (touchPages' page-table walk costs more, most of
// all, before the VM's leaf cache held them, in the uniform resident slots of a 2 MiB stretch).
// Otherwise the touch is made and noted (touchNote).
// @ts-ignore: decorator
@inline function touchRegion(h: i32, e: u32, a: u64, bytes: u64): void {
  const base = eAddr(e) >> PAGE_SHIFT;
  const first = <u32>((a >> PAGE_SHIFT) - base), end = <u32>(((a + bytes + PAGE_MASK) >> PAGE_SHIFT) - base);
  if (first >= eResFrom(e) && end <= eResEnd(e) && vmResidencyHolds(eResEpoch(e))) {
    if (CHECKS) assert(vmAllResident(a, bytes), "jemalloc: skipped touch of a page not resident");
    return;
  }
  touchNote(h, e, a, bytes, first, end);
}

// touchRegion's touch outside the slab's known run: made, then the run takes the touched pages in
// (joined when they meet or overlap it, else they replace it; a new epoch starts a new run).
function touchNote(h: i32, e: u32, a: u64, bytes: u64, first: u32, end: u32): void {
  touchPages(a, bytes, <u8>h);
  if (CHECKS) assert(end <= <u32>u16.MAX_VALUE, "jemalloc: a slab of more pages than its run counts");
  const epoch = vmResidencyEpoch();
  if (epoch == RESIDENCY_EPOCH_SATURATED) return;
  const from = eResFrom(e), to = eResEnd(e);
  if (eResEpoch(e) != epoch || end < from || first > to) setRes(e, epoch, first, end);
  else setRes(e, epoch, first < from ? first : from, end > to ? end : to);
}

export function jeAlloc(h: i32, size: u64, alignLog2: u32): u32 { return jeAllocInline(h, size, alignLog2); }
export function jeFree(h: i32, r: u32): void { jeFreeInline(h, r); }

// jeAlloc's and jeFree's bodies, inline in jemalloc's batch loop (index.ts JeOps).
// @ts-ignore: decorator
@inline export function jeAllocInline(h: i32, size: u64, alignLog2: u32): u32 {
  enter(h);
  let r: u32, usize: u64;
  if (alignLog2 > 0) {
    // memalign (jemalloc bumps a size of 0 to 1 only for posix_memalign and aligned_alloc)
    usize = sa2u(size, <u64>1 << alignLog2);
    if (!usize || usize > MAX_REQUEST_BYTES) return 0;
    r = mallocAligned(h, usize, <u64>1 << alignLog2);
  } else {
    if (size > MAX_REQUEST_BYTES) return 0;
    usize = index2size(size2index(size));
    r = mallocUsize(h, usize, size);
  }
  if (!r) return 0;
  threadEvent(h, usize, true);
  return handOut(h, r);
}

// @ts-ignore: decorator
@inline export function jeFreeInline(h: i32, r: u32): void {
  enter(h);
  // allocUsize and dalloc's reads, made once: the record's extent, size class and kind
  const szind = <u32>eSzind(allocExt(r));
  const large = allocReg(r) == ALLOC_LARGE;
  const usize = large ? index2size(szind) : binRegSize(szind);
  dallocOf(h, r, szind, large);
  threadEvent(h, usize, false);
}

// realloc. A size of 0 is served as 1: the engine's REALLOC keeps the block (traces record
// jemalloc's realloc(p, 0), which frees, as a free).
export function jeRealloc(h: i32, r: u32, size: u64): u32 {
  enter(h);
  const usize = s2u(size ? size : 1);
  if (!usize || usize > MAX_REQUEST_BYTES) return 0;
  const old = allocUsize(r);
  let n: u32 = 0;
  if (usize <= SMALL_MAXCLASS && old <= SMALL_MAXCLASS && size2index(usize) == size2index(old)) {
    // arena_ralloc_no_move: same small class, nothing moves
    decayTick(arenaOfExt(allocExt(r)));
    n = r;
  } else if (old >= LARGE_MINCLASS && usize >= LARGE_MINCLASS) {
    if (largeResizeInPlace(r, usize)) {
      n = r;
    } else {
      const a = chooseArena(h, usize);
      if (a < 0) return 0;
      n = largeMallocIn(a, usize, CACHELINE);
      if (!n) return 0;
      dalloc(h, r);
    }
  } else {
    n = mallocUsize(h, usize, usize);
    if (!n) return 0;
    dalloc(h, r);
  }
  threadEvent(h, usize, true);
  threadEvent(h, old, false);
  return handOut(h, n);
}

// heapsim's trim of this policy: thread.tcache.flush, then arena.<all>.purge. Returns the
// resident bytes given back.
export function jeTrim(h: i32, padBytes: u64): u64 {
  enter(h);
  const before = vmOwnerResident(<u8>h);
  if (tcacheEnabled(h)) tcacheFlushAll(h);
  for (let s = 0; s < ARENA_SLOTS; s++) {
    const a = arenaSlot(h, s);
    if (arenaCreated(a)) arenaDecay(a, true);
  }
  const after = vmOwnerResident(<u8>h);
  return before > after ? before - after : 0;
}

export function jeUserAddress(h: i32, r: u32): u64 { return allocAddress(r); }
export function jeUsableBytes(r: u32): u64 { return allocUsize(r); }

// ---------------------------------------------------------------- create / destroy

export function jeCreate(h: i32, parent: i32, params: usize, count: i32): Status {
  if (parent >= 0) return Status.BAD_PARAM;
  const tc = param(params, count, JE_TCACHE);
  const dirty = param(params, count, JE_DIRTY_DECAY_MS);
  const muzzy = param(params, count, JE_MUZZY_DECAY_MS);
  const retain = param(params, count, JE_RETAIN);
  const oversize = param(params, count, JE_OVERSIZE_THRESHOLD);
  const lgFit = param(params, count, JE_LG_EXTENT_MAX_ACTIVE_FIT);
  const narenas = param(params, count, JE_NARENAS);
  const nsPerEvent = param(params, count, JE_NS_PER_EVENT);
  const startup = param(params, count, JE_STARTUP_BYTES);
  const seed = param(params, count, JE_PRNG_SEED);
  // Validate everything first (values jemalloc refuses are errors here).
  if (!isNaN(tc) && tc != 0 && tc != 1) return Status.BAD_PARAM;
  if (!isNaN(retain) && retain != 0 && retain != 1) return Status.BAD_PARAM;
  if (!isNaN(dirty) && (!isInt(dirty) || dirty < -1 || dirty > DECAY_MS_MAX)) return Status.BAD_PARAM;
  if (!isNaN(muzzy) && (!isInt(muzzy) || muzzy < -1 || muzzy > DECAY_MS_MAX)) return Status.BAD_PARAM;
  if (!isNaN(oversize) && (!isInt(oversize) || oversize < 0 || oversize > <f64>LARGE_MAXCLASS)) return Status.BAD_PARAM;
  if (!isNaN(lgFit) && (!isInt(lgFit) || lgFit < 0 || lgFit > 64)) return Status.BAD_PARAM;
  if (!isNaN(narenas) && (!isInt(narenas) || narenas < 1 || narenas > MALLOCX_ARENA_LIMIT)) return Status.BAD_PARAM;
  if (!isNaN(nsPerEvent) && (!isInt(nsPerEvent) || nsPerEvent < 0 || nsPerEvent > 1e15)) return Status.BAD_PARAM;
  if (!isNaN(startup) && (!isInt(startup) || startup < 0 || startup > <f64>(1 << 30))) return Status.BAD_PARAM;
  if (!isNaN(seed) && (!isInt(seed) || seed < 0 || seed > 9007199254740991)) return Status.BAD_PARAM;
  initSizes();
  clearHeapState(h);
  const hb = HB(h);
  st32(hb + H_TCACHE, isNaN(tc) || tc == 1 ? 1 : 0);
  st32(hb + H_RETAIN, isNaN(retain) || retain == 1 ? 1 : 0);
  store<i64>(hb + H_DIRTY_MS, isNaN(dirty) ? DIRTY_DECAY_MS_DEFAULT : <i64>dirty);
  store<i64>(hb + H_MUZZY_MS, isNaN(muzzy) ? MUZZY_DECAY_MS_DEFAULT : <i64>muzzy);
  // arena_init_huge: a threshold outside the large classes means no huge arena
  const ov = isNaN(oversize) ? OVERSIZE_THRESHOLD_DEFAULT : <u64>oversize;
  const huge = ov >= LARGE_MINCLASS && ov <= LARGE_MAXCLASS;
  st32(hb + H_HUGE_ENABLED, huge ? 1 : 0);
  st64(hb + H_OVERSIZE, huge ? ov : LARGE_MAXCLASS + PAGE);
  st64(hb + H_LG_MAX_FIT, isNaN(lgFit) ? LG_EXTENT_MAX_ACTIVE_FIT_DEFAULT : <u64>lgFit);
  st64(hb + H_NARENAS, isNaN(narenas) ? DEFAULT_NARENAS : <u64>narenas);
  st64(hb + H_NS_PER_EVENT, isNaN(nsPerEvent) ? DEFAULT_NS_PER_EVENT : <u64>nsPerEvent);
  st64(hb + H_STARTUP_BYTES, isNaN(startup) ? DEFAULT_STARTUP_BYTES : <u64>startup);
  st64(hb + H_PRNG, isNaN(seed) ? DEFAULT_PRNG_SEED : <u64>seed);
  store<i64>(hb + H_TICK, NTICKS_PER_UPDATE);
  st32(hb + H_CREATED, 1);
  allocReserve();
  if (!startState(h)) { jeDestroy(h); return Status.OUT_OF_MEMORY; }
  return Status.OK;
}

// The library's start-up, in its order (see the header).
function startState(h: i32): bool {
  const b0 = arenaSlot(h, SLOT_A0);
  if (!baseNew(b0, h)) return false;
  if (!baseAlloc(b0, h, TCACHE_BIN_INFO_BYTES, CACHELINE)) return false;
  if (!arenaCreate(h, SLOT_A0)) return false;
  // malloc_tsd_boot0: the thread's data (PRNG, thread events, the cache) before the rest of init
  threadEventsInit(h);
  if (tcacheEnabled(h)) {
    tcacheInit(h);
    // tsd_tcache_data_init: the stacks, an internal allocation from arena 0 (no thread cache)
    const usize = tcacheStackBytes();
    const r = usize <= SMALL_MAXCLASS ? arenaMallocSmall(b0, size2index(usize))
      : largeMallocIn(b0, usize, tcacheStackAlignment());
    if (!r) return false;
    st32(HB(h) + H_TC_MEM, r);
    st64(HB(h) + H_INTERNAL, usize);
  }
  if (!baseAlloc(b0, h, BG_THREAD_INFO_BYTES, CACHELINE)) return false;
  const startup = ld64(HB(h) + H_STARTUP_BYTES);
  if (startup) {
    const r = jeAlloc(h, startup, 0);
    if (!r) return false;
    st32(HB(h) + H_STARTUP, r);
  }
  // ctl_init, on the first mallctl
  if (!baseAlloc(b0, h, CTL_ARENAS_BYTES, 16) || !baseAlloc(b0, h, CTL_STATS_BYTES, 16)) return false;
  const narenasTotal = ld64(HB(h) + H_NARENAS) + (ld32(HB(h) + H_HUGE_ENABLED) ? 1 : 0);
  for (let i: u64 = 0; i < narenasTotal + 2; i++) if (!baseAlloc(b0, h, CTL_ARENA_BYTES, 16)) return false;
  return true;
}

// Gives every mapping back and forgets every record of the heap.
export function jeDestroy(h: i32): void {
  for (let r: u32 = 1; r < allocHighWater(); r++) {
    if (!allocIsLive(r)) continue;
    const e = allocExt(r);
    if (e && eState(e) != ST_DEAD && (<i32>eArena(e) >> 1) == h) freeAlloc(r);
  }
  for (let e: u32 = 1; e < extHighWater(); e++) {
    if (eState(e) == ST_DEAD || (<i32>eArena(e) >> 1) != h) continue;
    if (eIsHead(e)) vmRelease(eAddr(e));
  }
  for (let e: u32 = 1; e < extHighWater(); e++) {
    if (eState(e) != ST_DEAD && (<i32>eArena(e) >> 1) == h) freeExt(e);
  }
  for (let s = 0; s < ARENA_SLOTS; s++) {
    const b = arenaSlot(h, s);
    for (let i: u32 = 0; i < baseBlocks(b); i++) vmRelease(baseBlockAddr(b, i));
  }
  clearHeapState(h);
}

// ---------------------------------------------------------------- statistics

// The mallctl statistics (ctl.c ctl_refresh), summed over the arenas that exist.
export function jeStat(h: i32, which: i32): u64 {
  let allocated: u64 = 0, active: u64 = 0, base: u64 = 0, baseRes: u64 = 0, mapped: u64 = 0;
  let dirty: u64 = 0, muzzy: u64 = 0, retained: u64 = 0;
  for (let s = 0; s < ARENA_SLOTS; s++) {
    const a = arenaSlot(h, s);
    if (ld32(BSB(a) + BS_NBLOCKS)) {
      base += baseAllocated(a);
      baseRes += baseResident(a);
      mapped += baseMapped(a);
    }
    if (!arenaCreated(a)) continue;
    allocated += arenaAllocated(a);
    active += ld64(AB(a) + A_NACTIVE);
    mapped += ld64(AB(a) + A_PAC_MAPPED);
    dirty += cacheNpages(a, CACHE_DIRTY);
    muzzy += cacheNpages(a, CACHE_MUZZY);
    retained += cacheNpages(a, CACHE_RETAINED);
  }
  switch (which) {
    case 0: return allocated;
    case 1: return active << 12;
    case 2: return base + ld64(HB(h) + H_INTERNAL);
    case 3: return baseRes + ((active + dirty) << 12);
    case 4: return mapped;
    case 5: return retained << 12;
    case 6: return dirty << 12;
    case 7: return muzzy << 12;
  }
  return 0;
}

export function jeSample(h: i32, out: usize): void {
  const allocated = jeStat(h, 0), active = jeStat(h, 1);
  const dirty = jeStat(h, 6), muzzy = jeStat(h, 7), retained = jeStat(h, 5);
  store<f64>(out + <usize>S_ALLOCATED * 8, <f64>allocated);
  store<f64>(out + <usize>S_ACTIVE * 8, <f64>active);
  store<f64>(out + <usize>S_METADATA * 8, <f64>jeStat(h, 2));
  store<f64>(out + <usize>S_RESIDENT * 8, <f64>jeStat(h, 3));
  store<f64>(out + <usize>S_MAPPED * 8, <f64>jeStat(h, 4));
  store<f64>(out + <usize>S_RETAINED * 8, <f64>retained);
  store<f64>(out + <usize>S_DIRTY * 8, <f64>dirty);
  store<f64>(out + <usize>S_MUZZY * 8, <f64>muzzy);
  store<f64>(out + <usize>S_TCACHE * 8, <f64>(tcacheEnabled(h) ? tcacheBytes(h) : <u64>0));
  store<f64>(out + <usize>S_INTERNAL * 8, <f64>ld64(HB(h) + H_INTERNAL));
  store<f64>(out + <usize>S_LEAVES * 8, <f64>leafCount(h));
  store<f64>(out + <usize>S_PURGES * 8, <f64>ld64(HB(h) + H_PURGES));
  // The engine's common view: busy = what the arenas count as allocated (thread cache included);
  // free = pages held but not allocated: slab and large-pad slack, dirty and muzzy pages.
  store<f64>(out + <usize>K_BUSY * 8, <f64>allocated);
  store<f64>(out + <usize>K_FREE * 8, <f64>(active - allocated + dirty + muzzy));
  // free blocks: dirty and muzzy extents; segments: mappings (base blocks and extent mappings);
  // virtual blocks: large allocations (each its own extent, usable size + one page)
  let freeExtents: u64 = 0, segments: u64 = 0, large: u64 = 0, largeBytes: u64 = 0, largest: u64 = 0;
  for (let s = 0; s < ARENA_SLOTS; s++) {
    const a = arenaSlot(h, s);
    segments += <u64>baseBlocks(a);
    if (!arenaCreated(a)) continue;
    segments += ld64(AB(a) + A_MAPPINGS);
    freeExtents += cacheNextents(a, CACHE_DIRTY) + cacheNextents(a, CACHE_MUZZY);
    large += arenaLargeCount(a);
    largeBytes += ld64(AB(a) + A_ALLOC_LARGE) + arenaLargeCount(a) * PAGE;
    for (let c = CACHE_DIRTY; c <= CACHE_MUZZY; c++) {
      const l = cacheLargest(a, c);
      if (l > largest) largest = l;
    }
  }
  store<f64>(out + <usize>K_FREE_BLOCKS * 8, <f64>freeExtents);
  store<f64>(out + <usize>K_LARGEST_FREE * 8, <f64>largest);
  store<f64>(out + <usize>K_SEGMENTS * 8, <f64>segments);
  store<f64>(out + <usize>K_VIRTUAL_BLOCKS * 8, <f64>large);
  store<f64>(out + <usize>K_VIRTUAL_BYTES * 8, <f64>largeBytes);
}

// ---------------------------------------------------------------- invariants

export function jeCheck(h: i32): i32 {
  // J1 mappings tile: every extent's neighbour links are adjacent, heads start mappings
  for (let e: u32 = 1; e < extHighWater(); e++) {
    if (eState(e) == ST_DEAD || (<i32>eArena(e) >> 1) != h) continue;
    const p = ePrev(e), n = eNext(e);
    if (p && (eNext(p) != e || eAddr(p) + eSize(p) != eAddr(e) || eArena(p) != eArena(e))) return 1;
    if (n && (ePrev(n) != e || eAddr(e) + eSize(e) != eAddr(n))) return 1;
    if (!p && !eIsHead(e) && ld32(HB(h) + H_RETAIN)) return 1;
    if (p && eIsHead(e)) return 1;
  }
  for (let s = 0; s < ARENA_SLOTS; s++) {
    const a = arenaSlot(h, s);
    if (!arenaCreated(a)) continue;
    // J2
    for (let c = 0; c < 3; c++) if (!cacheConsistent(a, c)) return 2;
    // J3
    let pages: u64 = 0, records: u64 = 0, regions: u64 = 0;
    for (let e: u32 = 1; e < extHighWater(); e++) {
      if (eState(e) == ST_DEAD || <i32>eArena(e) != a) continue;
      records++;
      if (eState(e) == ST_ACTIVE) pages += eSize(e) >> 12;
      if (eState(e) == ST_ACTIVE && eIsSlab(e)) {
        const b = <u32>eSzind(e);
        // J4
        if (bitmapCount(e, binNregs(b)) + eNfree(e) != binNregs(b)) return 4;
        regions += <u64>(binNregs(b) - eNfree(e)) * binRegSize(b);
        const inSet = setContains(binNonfullRoot(a, b), e);
        const full = eNfree(e) == 0;
        if (e == binSlabcur(a, b) ? inSet : (inSet == full)) return 4;
      }
    }
    if (pages != ld64(AB(a) + A_NACTIVE) || records != ld64(AB(a) + A_EDATA_USED)) return 3;
    let curregs: u64 = 0;
    for (let b: u32 = 0; b < NBINS; b++) {
      curregs += binCurregs(a, b) * binRegSize(b);
      const root = binNonfullRoot(a, b);
      if (!setOrdered(load<u32>(root), 0, 0)) return 4;
    }
    if (curregs != regions) return 4;
    // J5
    const mappedPages = ld64(AB(a) + A_NACTIVE) + cacheNpages(a, CACHE_DIRTY) + cacheNpages(a, CACHE_MUZZY);
    if (ld64(AB(a) + A_PAC_MAPPED) != mappedPages << 12) return 5;
  }
  // J6
  if (tcacheEnabled(h) && !tcacheConsistent(h)) return 6;
  // J7
  for (let r: u32 = 1; r < allocHighWater(); r++) {
    if (!allocIsLive(r)) continue;
    const e = allocExt(r);
    if ((<i32>eArena(e) >> 1) != h) continue;
    if (eState(e) != ST_ACTIVE) return 7;
    if (allocReg(r) != ALLOC_LARGE && (!eIsSlab(e) || allocReg(r) >= binNregs(<u32>eSzind(e)))) return 7;
  }
  // J8 the slabs' runs of resident pages (touchRegion)
  for (let e: u32 = 1; e < extHighWater(); e++) {
    if (eState(e) != ST_ACTIVE || !eIsSlab(e) || (<i32>eArena(e) >> 1) != h || !vmResidencyHolds(eResEpoch(e))) continue;
    const base = eAddr(e) >> PAGE_SHIFT;
    for (let p = base + <u64>eResFrom(e); p < base + <u64>eResEnd(e); p++) if (!vmIsResident(p << PAGE_SHIFT)) return 8;
  }
  return 0;
}

// Engine bytes of the model's tables (for the memory benchmark).
export function jeEngineBytes(): usize { return extEngineBytes() + allocEngineBytes() + stateBytes(); }
export function jeLeafCount(h: i32): u32 { return leafCount(h); }
export function jeSetCount(root: usize): u32 { return setCount(load<u32>(root)); }
export function jeFirst(root: usize): u32 { return setFirst(root); }
