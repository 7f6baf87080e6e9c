// === jemalloc model: per-heap and per-arena state blocks ===
//
// Each jemalloc heap of the engine is one process's jemalloc: arena 0 (every request below the
// oversize threshold) and the huge arena (requests at or above it, created on first use). The
// state lives in static tables indexed by heap (H_*), by arena slot (A_*; slot = heap × 2 + 0 for
// arena 0, + 1 for the huge arena) and, inside an arena, by extent cache (E_*) and decay (D_*).
// Each arena slot also has a base allocator (BS_*, base.ts): the huge arena gets its own base as
// jemalloc gives every arena but 0 its own.

import { MAX_HEAPS } from "../../abi";
import { resize } from "../../mem";
import { NBINS, SMOOTHSTEP_NSTEPS, NPSIZES } from "./sizes";

export const ARENA_SLOTS: i32 = 2;
export const SLOT_A0: i32 = 0;
export const SLOT_HUGE: i32 = 1;

// ---------------------------------------------------------------- decay block (decay_t)

export const D_TIME_MS: usize = 0;        // i64 decay time (−1 never, 0 at once)
export const D_INTERVAL: usize = 8;       // u64 ns per epoch (time / 200)
export const D_EPOCH: usize = 16;         // u64 ns, start of the current epoch
export const D_DEADLINE: usize = 24;      // u64 ns, when the next epoch may begin
export const D_JITTER: usize = 32;        // u64 PRNG state of the deadline jitter
export const D_NPAGES_LIMIT: usize = 40;  // u64
export const D_NUNPURGED: usize = 48;     // u64
export const D_PURGING: usize = 56;       // u32
export const D_BACKLOG: usize = 64;       // SMOOTHSTEP_NSTEPS × u64
export const D_BYTES: usize = D_BACKLOG + <usize>SMOOTHSTEP_NSTEPS * 8;

// ---------------------------------------------------------------- extent cache block (ecache_t + eset_t)

export const ESET_BINS: u32 = NPSIZES + 1;   // eset.c: ESET_NPSIZES
export const E_STATE: usize = 0;          // u32 the state of its extents
export const E_DELAY: usize = 4;          // u32 delayed coalescing (the dirty cache)
export const E_NPAGES: usize = 8;         // u64
export const E_LRU_HEAD: usize = 16;      // u32 oldest
export const E_LRU_TAIL: usize = 20;      // u32 newest
export const E_NEXTENTS: usize = 24;      // u64
export const E_BITS: usize = 32;          // 4 × u64: bins that hold extents
export const E_ROOTS: usize = 64;         // ESET_BINS × u32: ordered set per page-size class
export const E_MINS: usize = E_ROOTS + <usize>ESET_BINS * 4;   // ESET_BINS × u32: first of each set
export const E_BYTES: usize = E_MINS + <usize>ESET_BINS * 4;
export const CACHE_DIRTY: i32 = 0;
export const CACHE_MUZZY: i32 = 1;
export const CACHE_RETAINED: i32 = 2;

// ---------------------------------------------------------------- arena block

export const A_CREATED: usize = 0;        // u32
export const A_IND: usize = 4;            // u32 jemalloc's arena index
export const A_NACTIVE: usize = 8;        // u64 pages in active extents
export const A_PAC_MAPPED: usize = 16;    // u64 pac_mapped
export const A_SN_NEXT: usize = 24;       // u64 next extent serial number
export const A_GROW_NEXT: usize = 32;     // u32 exp_grow.next (page-size class index)
export const A_GROW_LIMIT: usize = 36;    // u32 exp_grow.limit
export const A_EDATA_USED: usize = 40;    // u64 extent descriptors in use
export const A_EDATA_TOTAL: usize = 48;   // u64 extent descriptors ever taken from the base
export const A_ALLOC_SMALL: usize = 56;   // u64 bytes of small regions in use (incl. thread cache)
export const A_ALLOC_LARGE: usize = 64;   // u64 bytes of large allocations in use
export const A_OVERSIZE: usize = 72;      // u64 pac oversize threshold
export const A_ADDR: usize = 80;          // u64 simulated address of the arena_t
export const A_NLARGE: usize = 88;        // u64 large allocations in use
export const A_MAPPINGS: usize = 96;      // u64 mappings made (and not unmapped) for extents
export const A_BINS: usize = 104;         // NBINS × 16: slabcur u32, nonfull root u32, curregs u64
export const BIN_BYTES: usize = 16;
export const A_DECAY_DIRTY: usize = A_BINS + <usize>NBINS * BIN_BYTES;
export const A_DECAY_MUZZY: usize = A_DECAY_DIRTY + D_BYTES;
export const A_CACHES: usize = A_DECAY_MUZZY + D_BYTES;
export const ARENA_BYTES: usize = A_CACHES + 3 * E_BYTES;

// The three tables are allocated on the first jemalloc heap (half a megabyte: not in every module's
// static data).
let arenaState: usize = 0;

// @ts-ignore: decorator
@inline export function AB(a: i32): usize { return arenaState + <usize>a * ARENA_BYTES; }
// @ts-ignore: decorator
@inline export function EB(a: i32, c: i32): usize { return AB(a) + A_CACHES + <usize>c * E_BYTES; }
// @ts-ignore: decorator
@inline export function DB(a: i32, muzzy: bool): usize { return AB(a) + (muzzy ? A_DECAY_MUZZY : A_DECAY_DIRTY); }
// @ts-ignore: decorator
@inline export function BINB(a: i32, b: u32): usize { return AB(a) + A_BINS + <usize>b * BIN_BYTES; }
// @ts-ignore: decorator
@inline export function heapOfArena(a: i32): i32 { return a >> 1; }
// @ts-ignore: decorator
@inline export function arenaSlot(h: i32, slot: i32): i32 { return h * ARENA_SLOTS + slot; }

// ---------------------------------------------------------------- heap block

export const TC_NBINS: u32 = 41;          // tcache.c: nhbins for the default tcache_max of 32 KiB
export const TC_STACK_MAX: u32 = 200;     // tcache.c: opt_tcache_nslots_small_max (largest bin)
export const MAX_LEAVES: u32 = 256;

export const H_CREATED: usize = 0;        // u32
export const H_TCACHE: usize = 4;         // u32 opt.tcache
export const H_RETAIN: usize = 8;         // u32 opt.retain
export const H_HUGE_ENABLED: usize = 12;  // u32 oversize threshold in range: a huge arena exists
export const H_DIRTY_MS: usize = 16;      // i64 opt.dirty_decay_ms
export const H_MUZZY_MS: usize = 24;      // i64 opt.muzzy_decay_ms
export const H_OVERSIZE: usize = 32;      // u64 oversize_threshold in force
export const H_LG_MAX_FIT: usize = 40;    // u64 opt.lg_extent_max_active_fit
export const H_NARENAS: usize = 48;       // u64 opt.narenas (automatic arenas)
export const H_NS_PER_EVENT: usize = 56;  // u64 simulated ns per allocator call (no kit clock yet)
export const H_STARTUP_BYTES: usize = 64; // u64 the C++ runtime's start-up malloc
export const H_PRNG: usize = 72;          // u64 the thread's PRNG state (tsd prng_state)
export const H_TICK: usize = 80;          // i64 decay ticker countdown (ticker_geom_t.tick)
export const H_SPARE: usize = 88;         // u64 unused
export const H_INTERNAL: usize = 96;      // u64 bytes of jemalloc's own allocations (the tcache stacks)
export const H_TE_ALLOC: usize = 104;     // u64 thread_allocated
export const H_TE_ALLOC_NEXT: usize = 112;
export const H_TE_DALLOC: usize = 120;    // u64 thread_deallocated
export const H_TE_DALLOC_NEXT: usize = 128;
export const H_TC_GC_BIN: usize = 136;    // u32 next bin the incremental GC visits
export const H_NLEAVES: usize = 140;      // u32 radix-tree leaves allocated
export const H_TC_MEM: usize = 144;       // u32 allocation record of the tcache stacks
export const H_STARTUP: usize = 148;      // u32 allocation record of the start-up malloc
export const H_PURGES: usize = 152;       // u64 extents purged (madvise calls), for reports
export const H_NOW: usize = 160;          // u64 simulated ns at the latest call (never decreases)
export const H_TC_LGFILL: usize = 168;    // NBINS × u8
export const H_TC_REFILLED: usize = H_TC_LGFILL + <usize>NBINS;   // NBINS × u8
export const H_TC_BINS: usize = 256;      // TC_NBINS × 8: ncached u16, lowWater u16, max u16, spare
export const H_LEAVES: usize = H_TC_BINS + <usize>TC_NBINS * 8;  // MAX_LEAVES × u64 leaf ids, then their addresses
export const H_TC_STACKS: usize = H_LEAVES + <usize>MAX_LEAVES * 16;
export const HEAP_BYTES: usize = H_TC_STACKS + <usize>(TC_NBINS * TC_STACK_MAX) * 4;

if (H_TC_REFILLED + <usize>NBINS > H_TC_BINS) ERROR("heap block fields overlap");

let heapState: usize = 0;

// @ts-ignore: decorator
@inline export function HB(h: i32): usize { return heapState + <usize>h * HEAP_BYTES; }

// ---------------------------------------------------------------- base block (base_t)

export const MAX_BASE_BLOCKS: u32 = 128;
export const BS_ALLOCATED: usize = 0;     // u64
export const BS_RESIDENT: usize = 8;      // u64
export const BS_MAPPED: usize = 16;       // u64
export const BS_PIND_LAST: usize = 24;    // u32
export const BS_SN_NEXT: usize = 28;      // u32
export const BS_NBLOCKS: usize = 32;      // u32
export const BS_BLOCKS: usize = 40;       // MAX_BASE_BLOCKS × BLK_BYTES
export const BLK_ADDR: usize = 0;         // u64 mapping address
export const BLK_SIZE: usize = 8;         // u64 mapping size
export const BLK_CUR: usize = 16;         // u64 first unused byte
export const BLK_LEFT: usize = 24;        // u64 unused bytes from BLK_CUR
export const BLK_SN: usize = 32;          // u32
export const BLK_AVAIL: usize = 36;       // u32 1 = its unused part is on offer
export const BLK_BYTES: usize = 40;
export const BASE_BYTES: usize = BS_BLOCKS + <usize>MAX_BASE_BLOCKS * BLK_BYTES;

let baseState: usize = 0;

// @ts-ignore: decorator
@inline export function BSB(a: i32): usize { return baseState + <usize>a * BASE_BYTES; }
// @ts-ignore: decorator
@inline export function BLK(a: i32, i: u32): usize { return BSB(a) + BS_BLOCKS + <usize>i * BLK_BYTES; }

// ---------------------------------------------------------------- small helpers

// @ts-ignore: decorator
@inline export function ld64(p: usize): u64 { return load<u64>(p); }
// @ts-ignore: decorator
@inline export function st64(p: usize, v: u64): void { store<u64>(p, v); }
// @ts-ignore: decorator
@inline export function ld32(p: usize): u32 { return load<u32>(p); }
// @ts-ignore: decorator
@inline export function st32(p: usize, v: u32): void { store<u32>(p, v); }
// @ts-ignore: decorator
@inline export function add64(p: usize, d: i64): void { store<i64>(p, load<i64>(p) + d); }

// Engine bytes of the state tables (0 until the first jemalloc heap).
export function stateBytes(): usize {
  return heapState ? HEAP_BYTES * <usize>MAX_HEAPS + (ARENA_BYTES + BASE_BYTES) * <usize>(MAX_HEAPS * ARENA_SLOTS) : 0;
}

export function clearHeapState(h: i32): void {
  if (!heapState) {
    heapState = resize(0, HEAP_BYTES * <usize>MAX_HEAPS);
    arenaState = resize(0, ARENA_BYTES * <usize>(MAX_HEAPS * ARENA_SLOTS));
    baseState = resize(0, BASE_BYTES * <usize>(MAX_HEAPS * ARENA_SLOTS));
  }
  memory.fill(HB(h), 0, HEAP_BYTES);
  for (let s = 0; s < ARENA_SLOTS; s++) {
    memory.fill(AB(arenaSlot(h, s)), 0, ARENA_BYTES);
    memory.fill(BSB(arenaSlot(h, s)), 0, BASE_BYTES);
  }
}
