// === mimalloc: mimalloc 2.0.9 as Debian 12 builds it (x86-64 Linux, release, one thread) ===
//
// A model precise enough that the library's own numbers come out as the real library's after the
// same calls: mi_process_info's current and peak commit, and the sums over the areas
// mi_heap_visit_blocks reports for the default heap (checked by test/oracle/mimalloc-replay.c).
// The rules were read in mimalloc v2.0.9 (src/alloc.c, alloc-aligned.c, page.c, page-queue.c,
// segment.c, segment-cache.c, os.c, heap.c, options.c) and are restated here in our words;
// docs/mimalloc.md has the same with the measurements.
//
// Memory comes in segments: 32 MiB mappings aligned to 32 MiB, cut into 512 slices of 64 KiB.
// Slice 0 holds the segment's header. A page is a run of slices holding blocks of one size:
// one slice for blocks up to 16 KiB, 8 slices for blocks up to 128 KiB, a run rounded to 64 KiB
// (512 KiB above 512 KiB) holding one block up to 16 MiB. Bigger blocks get a segment of their
// own ("huge"), sized to fit. Free slices form spans kept in 36 span queues by size.
//
//   malloc(n)   n ≤ 1024: pop the free list of the first page of n's bin. Otherwise, or when that
//               list is empty, the generic path: above 128 KiB a fresh large or huge page; else
//               look at the bin's first page (its local free list becomes its free list when the
//               free list is empty), then walk the bin's pages in order: extend a page that has
//               room (at most 4 KiB of blocks at a time, at least 4 blocks), move full pages to
//               the full queue. When no page has a free block: count down the retired pages
//               (below), then take a fresh page from the best-fitting free span (smallest span
//               queue first, first fit inside it, the rest split off), then from a new segment.
//   free(p)     the block goes on its page's local free list. A page that becomes empty is
//               "retired" if it is the only page of its bin and its blocks are ≤ 128 KiB: it stays
//               for 1 + 8 (blocks ≤ 16 KiB) or 1 + 2 further countdowns, each made when some bin
//               needs a fresh page. Otherwise its slices are freed at once. A full page that gets
//               a free block moves to the end of its bin's queue.
//   page free   the slices coalesce with free neighbours; the whole span is decommitted (64 KiB
//               granularity, rounded in) after decommit_delay ms (0: at once); a page allocation
//               in the segment decommits what is due. A segment whose last page goes goes to the
//               segment cache (up to 1024 segments, lowest free slot), which decommits it after
//               segment_decommit_delay ms (0: at once); huge segments are unmapped.
//   commit      new segments are committed whole when eager_commit (default), else on demand in
//               1 MiB steps; a segment taken from the cache keeps its commit mask.
//   realloc     same block if the new size fits and wastes at most half; else malloc, copy, free.
//   mi_collect(true)  frees all retired and empty pages and unmaps every cached segment; it does
//               not decommit free slices of live segments.
// The commit counter is the library's (`_mi_stats_main.committed`), with its quirks: a huge
// segment adds its mapped size (rounded by _mi_os_good_alloc_size) but subtracts its segment size
// when freed; a decommit first adds the part of the range that was not committed; an OS mapping
// that cannot take the aligned hint (above 1 GiB) maps size + alignment for a moment.
//
// Over heapsim's VM: every OS mapping is a region owned by the heap; the commit mask drives
// vmCommit/vmDecommit (decommit is MADV_DONTNEED: the pages stop being resident); pages become
// resident as the program and the allocator write them (header, slice entries, free-list links,
// whole blocks handed out). page_reset (MADV_FREE) only counts: Linux keeps such pages resident
// until memory runs short.
//
// ╒══ segment record (SEG_BYTES = 208) ══╕  ╒══ page record (PAGE_BYTES = 104) ═╕  ╒═ block (12) ═════╕
// │ 0 base │ 8 osBase │ 16 osBytes       │  │ 0 seg │ 4 slice │ 8 slices        │  │ 0 page           │
// │ 24 decommitExpire │ 32 cacheExpire  │  │ 12 reserved │ 16 capacity │ 20 used│  │ 4 index          │
// │ 40 alignment │ 48 alignOffset       │  │ 24 free │ 28 local │ 32 localTail  │  │ 8 next (free) or │
// │ 56 slices │ 60 entries │ 64 used    │  │ 36 freeCount │ 40 localCount       │  │   adjust (in use)│
// │ 68 heap,kind,allowDecommit,state    │  │ 44 next │ 48 prev │ 52 startOffset │  ╘══════════════════╛
// │ 72 next │ 76 prev (heap's segments) │  │ 56 blockBytes u64                  │
// │ 80 commit mask │ 144 decommit mask  │  │ 64 bin,inFull,aligned,retire,heap  │
// ╘═════════════════════════════════════╛  │ 72 resFrom │ 80 resEnd u64         │
//                                           │ 88 resEpoch (touchBlock)           │
//                                           │ 96 start u64 (pageStart, blockAddr)│
//                                           ╘════════════════════════════════════╛
// Each segment record has 512 slice entries (16 bytes): count (first slice of a span or page),
// first (back link, on the last slice), used (0 = free span), link/prev (span queue links as
// slice ids seg × 512 + index; a page's first slice holds its page record in link).
//
// Invariants (miCheck returns the number of the first that fails):
//   M1 the spans and pages of each live segment tile its slices; free spans are never adjacent
//      and each is in the span queue of its size
//   M2 every page is in the queue of its bin (or the full/huge queue), with used + free + local =
//      capacity ≤ reserved, and its free lists hold exactly that many blocks of the page; its
//      start address is pageStart's
//   M3 the area sums equal a recount over the page queues
//   M4 the VM's committed bytes for the heap equal the commit masks (plus huge segments)
//   M5 while the VM's residency epoch is a queued page's resEpoch, every VM page of its
//      [resFrom, resEnd) is resident (touchBlock skips touches there)

import { resize } from "../../mem";
import { Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS,
  K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage } from "../../abi";
import { vmReserve, vmCommit, vmDecommit, vmRelease, touchPages, vmOwnerResident, vmOwnerCommitted,
  RESERVE_TOP_DOWN, RESERVE_PAGE_ALIGNED, vmResidencyHolds, vmIsResident, vmAllResident } from "../../vm/space";
import { PAGE_SHIFT } from "../../vm/constants";
import { CHECKS } from "../../checks";
import {
  SLICE_SHIFT, SLICE_BYTES, SEGMENT_BYTES, SLICES_PER_SEGMENT, MEDIUM_PAGE_BYTES, SMALL_OBJ_MAX,
  MEDIUM_OBJ_MAX, LARGE_OBJ_MAX, ALIGNMENT_MAX, SMALL_SIZE_MAX, MAX_ALIGN_GUARANTEE, INFO_SLICES,
  SEGMENT_HEADER_BYTES, SLICE_ENTRY_BYTES, SEGMENT_ZEROED_FROM, COMMIT_BYTES, MINIMAL_COMMIT_BYTES,
  MASK_WORDS, BIN_HUGE, BIN_FULL, BIN_COUNT, MAX_EXTEND_BYTES, MIN_EXTEND, RETIRE_CYCLES,
  MAX_RETIRE_BYTES, MAX_SLICE_OFFSET, SEGMENT_BIN_MAX, CACHE_SLOTS, CACHE_PROBES, MAX_PURGE_PER_PUSH, HINT_BASE,
  HINT_MAX_BYTES, OS_PAGE_BYTES, BLOCK_LINK_BYTES,
  alignUpBy, binOf, binBlockBytes, sliceBin, goodAllocBytes, pageStartOffset, randomShuffle,
} from "./sizes";
import { clockNs, clockEvents } from "../../kit/clock";
import { hintLiveBlocks } from "../../kit/hint";
import { residentRunCovers, residentRunTouch } from "../../kit/resident-run";
import { paramInt, PARAM_INVALID } from "../../kit/params";
import { counterAdd, putSlot } from "../../kit/counters";

// ---------------------------------------------------------------- parameters

// Slots of the HEAP_CREATE params block (NaN = the library's default). Option names as in
// options.c; delays in milliseconds.
export const MI_DECOMMIT_DELAY = 0;          // mi_option_decommit_delay, default 25
export const MI_SEGMENT_DECOMMIT_DELAY = 1;  // mi_option_segment_decommit_delay, default 500
export const MI_DECOMMIT_EXTEND_DELAY = 2;   // mi_option_decommit_extend_delay, default 1
export const MI_ALLOW_DECOMMIT = 3;          // mi_option_allow_decommit, default 1
export const MI_EAGER_COMMIT = 4;            // mi_option_eager_commit, default 1
export const MI_PAGE_RESET = 5;              // mi_option_page_reset, default 0
export const MI_EVENT_NS = 6;                // ours: simulated nanoseconds per event (added to the trace's time)
export const MI_PARAM_COUNT = 7;

const DEFAULT_DECOMMIT_DELAY: u64 = 25;          // options.c: decommit_delay
const DEFAULT_SEGMENT_DECOMMIT_DELAY: u64 = 500; // options.c: segment_decommit_delay
const DEFAULT_EXTEND_DELAY: u64 = 1;             // options.c: decommit_extend_delay
const DEFAULT_EVENT_NS: u64 = 1000;              // ours: one allocator call per microsecond
const MAX_DELAY_MS: i64 = 1000000000000;         // ours: keeps now + delay far from overflow
const MAX_EVENT_NS: i64 = 1000000000000000;      // ours: 10^6 s per event at most
const NS_PER_MS: u64 = 1000000;
const CLOCK_BASE_MS: i64 = 1000000;              // ours: the clock reads 1000 s at the start (0 = "no deadline")

// Policy counters: computed at sample time (0 .. 13), then event counters kept by the kit (14 ..).
const S_CURRENT_COMMIT = K_POLICY_BASE + 0;  // mi_process_info current_commit
const S_PEAK_COMMIT = K_POLICY_BASE + 1;     // mi_process_info peak_commit
const S_AREA_RESERVED = K_POLICY_BASE + 2;   // Σ area.reserved over mi_heap_visit_blocks areas
const S_AREA_COMMITTED = K_POLICY_BASE + 3;  // Σ area.committed
const S_AREA_USED_BYTES = K_POLICY_BASE + 4; // Σ area.used × area.block_size
const S_AREA_USED_BLOCKS = K_POLICY_BASE + 5; // Σ area.used
const S_AREAS = K_POLICY_BASE + 6;           // number of areas (pages)
const S_RETIRED_BYTES = K_POLICY_BASE + 7;   // committed bytes of empty pages still in the queues
const S_PENDING_BYTES = K_POLICY_BASE + 8;   // committed free slices waiting for the decommit delay
const S_EAGER_BYTES = K_POLICY_BASE + 9;     // committed free slices no decommit is scheduled for
const S_CACHED_BYTES = K_POLICY_BASE + 10;   // committed bytes of segments in the segment cache
const S_CACHED_SEGMENTS = K_POLICY_BASE + 11;
const S_PAGE_SLACK = K_POLICY_BASE + 12;     // committed bytes of live pages not yet carved into blocks
const S_LIVE_PAGE_FREE = K_POLICY_BASE + 13; // free blocks in pages that hold a live block
const C_RESERVED = 14;        // _mi_stats_main.reserved.current: bytes mapped (counter index)
const C_RESET = 15;           // _mi_stats_main.reset.current: bytes given MADV_FREE (page_reset)
const C_DECOMMITTED = 16;     // bytes decommitted so far (segments and cache)
const C_SEGMENTS_MAPPED = 17; // segments mapped from the OS so far
const C_CACHE_REUSES = 18;    // segments taken from the segment cache so far

// ---------------------------------------------------------------- record pools

// Segments (with their slice tables).
const SEG_BYTES: usize = 208;
const S_BASE: usize = 0;
const S_OS_BASE: usize = 8;
const S_OS_BYTES: usize = 16;
const S_EXPIRE: usize = 24;
const S_CACHE_EXPIRE: usize = 32;
const S_ALIGN: usize = 40;
const S_ALIGN_OFFSET: usize = 48;
const S_SLICES: usize = 56;
const S_ENTRIES: usize = 60;
const S_USED: usize = 64;
const S_HEAP: usize = 68;
const S_KIND: usize = 69;
const S_ALLOW: usize = 70;
const S_STATE: usize = 71;
const S_NEXT: usize = 72;
const S_PREV: usize = 76;
const S_COMMIT: usize = 80;
const S_DECOMMIT: usize = 144;

const KIND_NORMAL: u8 = 0;
const KIND_HUGE: u8 = 1;
const SEG_DEAD: u8 = 0;
const SEG_LIVE: u8 = 1;
const SEG_CACHED: u8 = 2;

const ENTRY_BYTES: usize = 16;
const E_COUNT: usize = 0;
const E_FIRST: usize = 4;
const E_USED: usize = 6;
const E_LINK: usize = 8;
const E_PREV: usize = 12;
const SLICE_TABLE_BYTES: usize = <usize>SLICES_PER_SEGMENT * ENTRY_BYTES;

let segs: usize = 0;
let slicesTab: usize = 0;
let segCap: u32 = 0;
let segCount: u32 = 1;
let segPoolFree: u32 = 0;

// Pages.
const PAGE_BYTES: usize = 104;
const P_SEG: usize = 0;
const P_SLICE: usize = 4;
const P_SLICES: usize = 8;
const P_RESERVED: usize = 12;
const P_CAPACITY: usize = 16;
const P_USED: usize = 20;
const P_FREE: usize = 24;
const P_LOCAL: usize = 28;
const P_LOCAL_TAIL: usize = 32;
const P_FREE_COUNT: usize = 36;
const P_LOCAL_COUNT: usize = 40;
const P_NEXT: usize = 44;
const P_PREV: usize = 48;
const P_START: usize = 52;
const P_BLOCK: usize = 56;
const P_BIN: usize = 64;
const P_IN_FULL: usize = 65;
const P_ALIGNED: usize = 66;
const P_RETIRE: usize = 67;
const P_HEAP: usize = 68;
const P_IS_RESET: usize = 69;
const P_QUEUED: usize = 70;
const P_RES_FROM: usize = 72;   // u64 first VM page of the pages known resident (touchBlock)
const P_RES_END: usize = 80;    // u64 VM page after them
const P_RES_EPOCH: usize = 88;  // u32 vmResidencyEpoch() they were resident at; 0 = none known
// u64 the page's first block's address, pageStart(p), kept from pageInit on (its segment, slice and
// start offset are set by then and never change while the page has blocks): blockAddr, at every
// hand-out and free, reads it instead of the segment's base, the slice and the offset.
const P_START_ADDR: usize = 96;

let pages: usize = 0;
let pageCap: u32 = 0;
let pageCount: u32 = 1;
let pagePoolFree: u32 = 0;

// Blocks (handle = block record index). One u32 at B_LINK is the block's list link while it is
// free (B_NEXT) and its alignment adjustment while it is handed out (B_ADJUST): a free block has no
// adjustment (heapFree) and a block handed out is on no list (pagePop clears the word, and only
// mallocAligned sets an adjustment, on the block pagePop just gave). 12 bytes instead of 16: the
// records of python.hst's 1.2 M blocks are written as pages extend, a quarter fewer fresh pages.
const BLOCK_BYTES: usize = 12;
const B_PAGE: usize = 0;
const B_INDEX: usize = 4;
const B_LINK: usize = 8;
const B_NEXT: usize = B_LINK;   // free: the next block on its list (0 = none)
const B_ADJUST: usize = B_LINK; // handed out: user address - block address

let blocks: usize = 0;
let blockCap: u32 = 0;
let blockCount: u32 = 1;
let blockPoolFree: u32 = 0;

// @ts-ignore: decorator
@inline function SG(s: u32): usize { return segs + <usize>s * SEG_BYTES; }
// @ts-ignore: decorator
@inline function E(s: u32, i: u32): usize { return slicesTab + <usize>s * SLICE_TABLE_BYTES + <usize>i * ENTRY_BYTES; }
// @ts-ignore: decorator
@inline function PG(p: u32): usize { return pages + <usize>p * PAGE_BYTES; }
// @ts-ignore: decorator
@inline function BK(b: u32): usize { return blocks + <usize>b * BLOCK_BYTES; }

function newSegment(): u32 {
  let s = segPoolFree;
  if (s) {
    segPoolFree = load<u32>(SG(s) + S_NEXT);
  } else {
    if (segCount >= segCap) {
      const cap = segCap ? segCap * 2 : 16;
      segs = resize(segs, <usize>cap * SEG_BYTES);
      slicesTab = resize(slicesTab, <usize>cap * SLICE_TABLE_BYTES);
      segCap = cap;
    }
    s = segCount++;
  }
  memory.fill(SG(s), 0, SEG_BYTES);
  memory.fill(E(s, 0), 0, SLICE_TABLE_BYTES);
  return s;
}

function dropSegment(s: u32): void {
  store<u8>(SG(s) + S_STATE, SEG_DEAD);
  store<u32>(SG(s) + S_NEXT, segPoolFree);
  segPoolFree = s;
}

function newPage(): u32 {
  let p = pagePoolFree;
  if (p) {
    pagePoolFree = load<u32>(PG(p) + P_NEXT);
  } else {
    if (pageCount >= pageCap) {
      pageCap = pageCap ? pageCap * 2 : 256;
      pages = resize(pages, <usize>pageCap * PAGE_BYTES);
    }
    p = pageCount++;
  }
  memory.fill(PG(p), 0, PAGE_BYTES);
  return p;
}

function dropPage(p: u32): void {
  store<u32>(PG(p) + P_SEG, 0);
  store<u32>(PG(p) + P_NEXT, pagePoolFree);
  pagePoolFree = p;
}

function newBlock(page: u32, index: u32): u32 {
  let b = blockPoolFree;
  if (b) {
    blockPoolFree = load<u32>(BK(b) + B_NEXT);
  } else {
    if (blockCount >= blockCap) setBlockCap(blockCap ? blockCap * 2 : 4096);
    b = blockCount++;
  }
  const r = BK(b);
  store<u32>(r + B_PAGE, page);
  store<u32>(r + B_INDEX, index);
  store<u32>(r + B_LINK, 0);
  return b;
}

// Block records reserved per block live at the replay's peak (kit/hint.ts): a page's carved blocks
// keep their records while free, so a peak holds more records than live blocks.
const BLOCKS_PER_LIVE_BLOCK: u32 = 2;

// The replay's size hint: the block table taken at its peak size in one step instead of doubling up
// to it (each doubling may move the table and copy it, touching the new place and leaving the old).
function reserveBlocksForHint(): void {
  const live = hintLiveBlocks();
  if (!live) return; // no hint: the table grows as it needs
  const want = <u64>live * BLOCKS_PER_LIVE_BLOCK + 1; // record 0 is never used
  if (want > <u64>blockCap) setBlockCap(<u32>want);
}

// The block table's one growth step (it never shrinks).
function setBlockCap(cap: u32): void {
  blockCap = cap;
  blocks = resize(blocks, <usize>cap * BLOCK_BYTES);
}

function dropBlock(b: u32): void {
  store<u32>(BK(b) + B_PAGE, 0);
  store<u32>(BK(b) + B_NEXT, blockPoolFree);
  blockPoolFree = b;
}

// Engine bytes (benchmarks): one block record per block a page has carved.
export function miRecordBytes(): usize { return BLOCK_BYTES; }
export function miEngineBytes(): usize {
  return <usize>segCap * (SEG_BYTES + SLICE_TABLE_BYTES) + <usize>pageCap * PAGE_BYTES + <usize>blockCap * BLOCK_BYTES;
}

// ---------------------------------------------------------------- heap state

const H_PQ_FIRST: usize = 0;                                   // BIN_COUNT × u32
const H_PQ_LAST: usize = H_PQ_FIRST + 4 * <usize>BIN_COUNT;     // BIN_COUNT × u32
const H_SQ_FIRST: usize = H_PQ_LAST + 4 * <usize>BIN_COUNT;     // (SEGMENT_BIN_MAX + 1) × u32 slice ids
const H_SQ_LAST: usize = H_SQ_FIRST + 4 * <usize>(SEGMENT_BIN_MAX + 1);
const H_CACHE: usize = H_SQ_LAST + 4 * <usize>(SEGMENT_BIN_MAX + 1); // CACHE_SLOTS × u32 segment records
const H_SCALARS: usize = H_CACHE + 4 * <usize>CACHE_SLOTS;
const H_COMMIT_CUR: usize = H_SCALARS + 0;      // i64 _mi_stats_main.committed.current
const H_COMMIT_PEAK: usize = H_SCALARS + 8;     // i64 .peak
const H_HINT: usize = H_SCALARS + 32;           // u64 next aligned hint address
const H_AREA_RESERVED: usize = H_SCALARS + 40;  // u64
const H_AREA_COMMITTED: usize = H_SCALARS + 48; // u64
const H_USED_BYTES: usize = H_SCALARS + 56;     // u64
const H_USED_BLOCKS: usize = H_SCALARS + 64;    // u64
const H_AREAS: usize = H_SCALARS + 72;          // u64
const H_DECOMMIT_DELAY: usize = H_SCALARS + 80; // i64 ms
const H_SEG_DELAY: usize = H_SCALARS + 88;      // i64 ms
const H_EXTEND_DELAY: usize = H_SCALARS + 96;   // i64 ms
const H_EVENT_NS: usize = H_SCALARS + 104;      // u64
const H_HUGE_BYTES: usize = H_SCALARS + 112;    // u64 bytes mapped for huge segments
const H_RET_MIN: usize = H_SCALARS + 120;       // u32 page_retired_min
const H_RET_MAX: usize = H_SCALARS + 124;       // u32 page_retired_max
const H_SEG_HEAD: usize = H_SCALARS + 128;      // u32 live segments list
const H_SEGMENTS: usize = H_SCALARS + 132;      // u32 live segments
const H_HUGE_SEGMENTS: usize = H_SCALARS + 136; // u32
const H_ALLOW_DECOMMIT: usize = H_SCALARS + 140; // u32
const H_EAGER: usize = H_SCALARS + 144;         // u32
const H_PAGE_RESET: usize = H_SCALARS + 148;    // u32
const H_CACHED: usize = H_SCALARS + 152;        // u32 segments in the cache
const HS_BYTES: usize = H_SCALARS + 160;

const heapState = memory.data(<i32>(HS_BYTES * <usize>MAX_HEAPS));
let owner: u8 = 0;
let hs: usize = 0;

// @ts-ignore: decorator
@inline function ld64(o: usize): u64 { return load<u64>(hs + o); }
// @ts-ignore: decorator
@inline function st64(o: usize, v: u64): void { store<u64>(hs + o, v); }
// @ts-ignore: decorator
@inline function ldi(o: usize): i64 { return load<i64>(hs + o); }
// @ts-ignore: decorator
@inline function ld32(o: usize): u32 { return load<u32>(hs + o); }
// @ts-ignore: decorator
@inline function st32(o: usize, v: u32): void { store<u32>(hs + o, v); }
// @ts-ignore: decorator
@inline function add64(o: usize, d: i64): void { store<i64>(hs + o, load<i64>(hs + o) + d); }

// The heap's used bytes and blocks moved together (pagePop, heapFree), hs read once: V8 loads a
// global again after every store to memory.
// @ts-ignore: decorator
@inline function addUsed(bytes: i64, blocks: i64): void {
  const at = hs;
  store<i64>(at + H_USED_BYTES, load<i64>(at + H_USED_BYTES) + bytes);
  store<i64>(at + H_USED_BLOCKS, load<i64>(at + H_USED_BLOCKS) + blocks);
}

// @ts-ignore: decorator
@inline function use(heapIndex: i32): void {
  owner = <u8>heapIndex;
  hs = heapState + <usize>heapIndex * HS_BYTES;
}

// _mi_clock_now: the trace's time (TICK ops) plus event_ns per event, in milliseconds.
function nowMs(): i64 {
  return CLOCK_BASE_MS + <i64>((clockNs() + clockEvents() * ld64(H_EVENT_NS)) / NS_PER_MS);
}

// ---------------------------------------------------------------- the commit counter (stats.c)

function statCommit(bytes: u64): void {
  const cur = ldi(H_COMMIT_CUR) + <i64>bytes;
  store<i64>(hs + H_COMMIT_CUR, cur);
  if (cur > ldi(H_COMMIT_PEAK)) store<i64>(hs + H_COMMIT_PEAK, cur);
}
function statDecommit(bytes: u64): void { add64(H_COMMIT_CUR, -<i64>bytes); }
// A value the counter reaches for a moment (the peak sees it, the current does not keep it).
function statTransient(bytes: u64): void {
  const top = ldi(H_COMMIT_CUR) + <i64>bytes;
  if (top > ldi(H_COMMIT_PEAK)) store<i64>(hs + H_COMMIT_PEAK, top);
}

// ---------------------------------------------------------------- OS layer (os.c)

function touch(a: u64, bytes: u64): void { if (bytes) touchPages(a, bytes, owner); }

// The program's writes to a block of page p (the whole block handed out, its link at a free): a
// touch of [a, a + bytes). Each page record keeps a run of VM pages [resFrom, resEnd) known
// resident at the VM's residency epoch resEpoch: while the epoch holds (no page anywhere has
// stopped being resident since) those pages are still resident, so a touch inside the run changes
// nothing and is skipped (touchPages' page-table walk costs more, most of all for the uniform
// resident slots, which missed the VM's leaf cache before it held them). Otherwise the touch is
// made and noted (touchNote).
// @ts-ignore: decorator
@inline function touchBlock(p: u32, a: u64, bytes: u64): void {
  const r = PG(p);
  if (residentRunCovers(r + P_RES_FROM, r + P_RES_END, r + P_RES_EPOCH, a, bytes)) {
    if (CHECKS) assert(vmAllResident(a, bytes), "mimalloc: skipped touch of a page not resident");
    return;
  }
  touchNote(r, a, bytes);
}

// touchBlock's touch outside the page's known run: made and noted in the run (kit/resident-run.ts).
function touchNote(r: usize, a: u64, bytes: u64): void {
  if (!bytes) return;
  residentRunTouch(r + P_RES_FROM, r + P_RES_END, r + P_RES_EPOCH, a, bytes, owner);
}

// Maps `size` bytes aligned to `alignment` (_mi_os_alloc_aligned); returns the address or 0.
// The library first tries an address hint in its own area above 2 TiB (sizes up to 1 GiB,
// alignment up to a segment): the kernel takes it. Otherwise a plain mmap is almost never
// aligned: it is unmapped, size + alignment is mapped and trimmed to the aligned part.
function osAllocAligned(size: u64, alignment: u64, commit: bool): u64 {
  size = goodAllocBytes(size);
  let base: u64 = 0;
  const hinted = alignment <= SEGMENT_BYTES && alignUpBy(size, SEGMENT_BYTES) <= HINT_MAX_BYTES;
  if (hinted) {
    const hint = ld64(H_HINT);
    st64(H_HINT, hint + alignUpBy(size, SEGMENT_BYTES));
    base = vmReserve(size, hint, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_PAGE_ALIGNED);
  }
  if (!base) {
    // Over-allocate, keep the aligned middle (mi_os_mem_alloc_aligned's fallback).
    const over = size + alignment;
    const probe = vmReserve(over, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED);
    if (!probe) return 0;
    vmRelease(probe);
    base = vmReserve(size, alignUpBy(probe, alignment), RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_PAGE_ALIGNED);
    if (!base) return 0;
    if (commit) statTransient(size > over ? size : over);
  }
  counterAdd(owner, C_RESERVED, <i64>size);
  if (commit) {
    statCommit(size);
    vmCommit(base, size);
  }
  return base;
}

// _mi_os_decommit: the counter drops by `size`, the pages inside (rounded in to OS pages) go.
function osDecommit(addr: u64, size: u64): void {
  const start = alignUpBy(addr, OS_PAGE_BYTES);
  const end = (addr + size) & ~(OS_PAGE_BYTES - 1);
  if (end <= start) return;
  statDecommit(size);
  vmDecommit(start, end - start);
  counterAdd(owner, C_DECOMMITTED, <i64>(end - start));
}

// ---------------------------------------------------------------- commit masks

// @ts-ignore: decorator
@inline function maskWord(s: u32, which: usize, w: i32): u64 { return load<u64>(SG(s) + which + (<usize>w << 3)); }
// @ts-ignore: decorator
@inline function setMaskWord(s: u32, which: usize, w: i32, v: u64): void { store<u64>(SG(s) + which + (<usize>w << 3), v); }

// Word w of the mask of bits [from, to).
function rangeWord(from: u32, to: u32, w: i32): u64 {
  const lo = <u32>w * 64, hi = lo + 64;
  const a = from > lo ? from : lo, b = to < hi ? to : hi;
  if (a >= b) return 0;
  const n = b - a;
  return (n == 64 ? <u64>0xFFFFFFFFFFFFFFFF : ((<u64>1 << n) - 1)) << (a - lo);
}
// Bits of `which` set inside [from, to).
function maskCountIn(s: u32, which: usize, from: u32, to: u32): u64 {
  let n: u64 = 0;
  for (let w = 0; w < MASK_WORDS; w++) n += popcnt<u64>(maskWord(s, which, w) & rangeWord(from, to, w));
  return n;
}
function maskAllIn(s: u32, which: usize, from: u32, to: u32): bool {
  for (let w = 0; w < MASK_WORDS; w++) {
    const r = rangeWord(from, to, w);
    if ((maskWord(s, which, w) & r) != r) return false;
  }
  return true;
}
function maskSetRange(s: u32, which: usize, from: u32, to: u32, on: bool): void {
  for (let w = 0; w < MASK_WORDS; w++) {
    const r = rangeWord(from, to, w);
    if (r) setMaskWord(s, which, w, on ? maskWord(s, which, w) | r : maskWord(s, which, w) & ~r);
  }
}
function maskIsFull(s: u32, which: usize): bool {
  for (let w = 0; w < MASK_WORDS; w++) if (maskWord(s, which, w) != <u64>0xFFFFFFFFFFFFFFFF) return false;
  return true;
}
function maskIsEmpty(s: u32, which: usize): bool {
  for (let w = 0; w < MASK_WORDS; w++) if (maskWord(s, which, w)) return false;
  return true;
}
function maskCount(s: u32, which: usize): u64 {
  let n: u64 = 0;
  for (let w = 0; w < MASK_WORDS; w++) n += popcnt<u64>(maskWord(s, which, w));
  return n;
}
// The next run of set bits at or after *idx: returns its length (0 = none) and leaves its start
// in runStart (mi_commit_mask_next_run).
let runStart: u32 = 0;
function nextRun(s: u32, which: usize, from: u32): u32 {
  let i = from;
  while (i < SLICES_PER_SEGMENT && !(maskWord(s, which, <i32>(i >> 6)) & (<u64>1 << (i & 63)))) i++;
  runStart = i;
  let n: u32 = 0;
  while (i < SLICES_PER_SEGMENT && (maskWord(s, which, <i32>(i >> 6)) & (<u64>1 << (i & 63)))) { i++; n++; }
  return n;
}

// ---------------------------------------------------------------- segment commit (segment.c)

// @ts-ignore: decorator
@inline function segBase(s: u32): u64 { return load<u64>(SG(s) + S_BASE); }
// @ts-ignore: decorator
@inline function segBytes(s: u32): u64 { return <u64>load<u32>(SG(s) + S_SLICES) << SLICE_SHIFT; }
// @ts-ignore: decorator
@inline function isHuge(s: u32): bool { return load<u8>(SG(s) + S_KIND) == KIND_HUGE; }
// @ts-ignore: decorator
@inline function allowDecommit(s: u32): bool { return load<u8>(SG(s) + S_ALLOW) != 0; }

// mi_segment_commit_mask: the slices [maskFrom, maskTo) a (de)commit of [off, off + size) covers:
// decommits round in to slices, commits round out to 1 MiB; never into the header slice for a
// range that starts after it. False when the range covers nothing.
let maskFrom: u32 = 0;
let maskTo: u32 = 0;
function commitMaskOf(s: u32, conservative: bool, off: u64, size: u64): bool {
  if (size == 0 || size > SEGMENT_BYTES || isHuge(s)) return false;
  const segstart = <u64>INFO_SLICES << SLICE_SHIFT;
  const segsize = segBytes(s);
  if (off >= segsize) return false;
  let start: u64, end: u64;
  if (conservative) {
    start = alignUpBy(off, COMMIT_BYTES);
    end = (off + size) / COMMIT_BYTES * COMMIT_BYTES;
  } else {
    start = off / MINIMAL_COMMIT_BYTES * MINIMAL_COMMIT_BYTES;
    end = alignUpBy(off + size, MINIMAL_COMMIT_BYTES);
  }
  if (off >= segstart && start < segstart) start = segstart;
  if (end > segsize) end = segsize;
  if (end <= start) return false;
  maskFrom = <u32>(start >> SLICE_SHIFT);
  maskTo = <u32>(end >> SLICE_SHIFT);
  return maskTo > maskFrom;
}

// mi_segment_commitx.
function segCommitx(s: u32, commit: bool, off: u64, size: u64): void {
  if (!commitMaskOf(s, !commit, off, size)) return;
  const from = maskFrom, to = maskTo;
  const full = <u64>(to - from) << SLICE_SHIFT;
  const start = segBase(s) + (<u64>from << SLICE_SHIFT);
  if (commit && !maskAllIn(s, S_COMMIT, from, to)) {
    statDecommit(maskCountIn(s, S_COMMIT, from, to) << SLICE_SHIFT); // adjust for the overlap
    statCommit(full);
    vmCommit(start, full);
    maskSetRange(s, S_COMMIT, from, to, true);
  } else if (!commit && maskCountIn(s, S_COMMIT, from, to)) {
    statCommit(full - (maskCountIn(s, S_COMMIT, from, to) << SLICE_SHIFT)); // the library's overlap adjustment
    if (allowDecommit(s)) {
      statDecommit(full);
      vmDecommit(start, full);
      counterAdd(owner, C_DECOMMITTED, <i64>(maskCountIn(s, S_COMMIT, from, to) << SLICE_SHIFT));
    }
    maskSetRange(s, S_COMMIT, from, to, false);
  }
  // Reusing part of a pending decommit pushes its deadline; a commit always cancels it.
  if (commit && maskCountIn(s, S_DECOMMIT, from, to)) {
    store<i64>(SG(s) + S_EXPIRE, nowMs() + ldi(H_DECOMMIT_DELAY));
  }
  maskSetRange(s, S_DECOMMIT, from, to, false);
}

function ensureCommitted(s: u32, off: u64, size: u64): void {
  if (maskIsFull(s, S_COMMIT) && maskIsEmpty(s, S_DECOMMIT)) return;
  segCommitx(s, true, off, size);
}

// mi_segment_perhaps_decommit: at once when the delay is 0, else marked with a deadline.
function perhapsDecommit(s: u32, off: u64, size: u64): void {
  if (!allowDecommit(s)) return;
  const delay = ldi(H_DECOMMIT_DELAY);
  if (delay == 0) { segCommitx(s, false, off, size); return; }
  if (!commitMaskOf(s, true, off, size)) return;
  const from = maskFrom, to = maskTo;
  for (let w = 0; w < MASK_WORDS; w++) {
    const add = maskWord(s, S_COMMIT, w) & rangeWord(from, to, w);
    if (add) setMaskWord(s, S_DECOMMIT, w, maskWord(s, S_DECOMMIT, w) | add);
  }
  const now = nowMs();
  const p = SG(s) + S_EXPIRE;
  const expire = load<i64>(p);
  const extend = ldi(H_EXTEND_DELAY);
  if (expire == 0) {
    store<i64>(p, now + delay);
  } else if (expire <= now) {
    if (expire + extend <= now) delayedDecommit(s, true);
    else store<i64>(p, now + extend);
  } else {
    store<i64>(p, expire + extend);
  }
}

const maskScratch = memory.data(64);

// mi_segment_delayed_decommit.
function delayedDecommit(s: u32, force: bool): void {
  if (!allowDecommit(s) || maskIsEmpty(s, S_DECOMMIT)) return;
  if (!force && nowMs() < load<i64>(SG(s) + S_EXPIRE)) return;
  store<i64>(SG(s) + S_EXPIRE, 0);
  // Take the mask, clear it, decommit its runs.
  const save = maskScratch;
  memory.copy(save, SG(s) + S_DECOMMIT, 64);
  memory.fill(SG(s) + S_DECOMMIT, 0, 64);
  let i: u32 = 0;
  while (i < SLICES_PER_SEGMENT) {
    let j = i;
    while (j < SLICES_PER_SEGMENT && !(load<u64>(save + (<usize>(j >> 6) << 3)) & (<u64>1 << (j & 63)))) j++;
    if (j >= SLICES_PER_SEGMENT) break;
    let k = j;
    while (k < SLICES_PER_SEGMENT && (load<u64>(save + (<usize>(k >> 6) << 3)) & (<u64>1 << (k & 63)))) k++;
    segCommitx(s, false, <u64>j << SLICE_SHIFT, <u64>(k - j) << SLICE_SHIFT);
    i = k;
  }
}

// ---------------------------------------------------------------- slices and spans

// @ts-ignore: decorator
@inline function sliceId(s: u32, i: u32): u32 { return (s << 9) | i; }
// @ts-ignore: decorator
@inline function idSeg(id: u32): u32 { return id >> 9; }
// @ts-ignore: decorator
@inline function idIndex(id: u32): u32 { return id & 511; }
// @ts-ignore: decorator
@inline function eCount(s: u32, i: u32): u32 { return load<u32>(E(s, i) + E_COUNT); }
// @ts-ignore: decorator
@inline function eUsed(s: u32, i: u32): bool { return load<u8>(E(s, i) + E_USED) != 0; }
// @ts-ignore: decorator
@inline function eLink(s: u32, i: u32): u32 { return load<u32>(E(s, i) + E_LINK); }
// @ts-ignore: decorator
@inline function ePrev(s: u32, i: u32): u32 { return load<u32>(E(s, i) + E_PREV); }
// @ts-ignore: decorator
@inline function eFirst(s: u32, i: u32): u32 { return <u32>load<u16>(E(s, i) + E_FIRST); }
// @ts-ignore: decorator
@inline function entries(s: u32): u32 { return load<u32>(SG(s) + S_ENTRIES); }

// The allocator writes bytes [from, to) of slice entry i of segment s (the entries are mi_page_t
// records in the header slice; an entry can straddle an OS page, so the bytes matter):
// slice_count, slice_offset and xblock_size lie in the first 32 bytes, the page's own fields up to
// byte 56, the queue links at 56..72, and clearing a page zeroes bytes 10..80.
const ENTRY_SPAN_FIELDS: u64 = 32;    // mimalloc-types.h: mi_page_t up to xblock_size
const ENTRY_PAGE_FROM: u64 = 8;       // mimalloc-types.h: mi_page_t fields after slice_offset
const ENTRY_QUEUED_FIELDS: u64 = 72;  // mimalloc-types.h: mi_page_t up to prev
function touchEntry(s: u32, i: u32, from: u64, to: u64): void {
  touch(segBase(s) + SEGMENT_HEADER_BYTES + <u64>i * SLICE_ENTRY_BYTES + from, to - from);
}

// Marks [i, i + count) as one span or page: count on the first entry, the back link on the last.
function setSpan(s: u32, i: u32, count: u32, used: bool): void {
  store<u32>(E(s, i) + E_COUNT, count);
  store<u16>(E(s, i) + E_FIRST, <u16>i);
  store<u8>(E(s, i) + E_USED, used ? 1 : 0);
  // A free span of a normal segment is also linked into its span queue.
  touchEntry(s, i, 0, !used && !isHuge(s) ? ENTRY_QUEUED_FIELDS : ENTRY_SPAN_FIELDS);
  let last = i + count - 1;
  if (last >= entries(s)) last = entries(s) - 1;
  if (last > i) {
    store<u32>(E(s, last) + E_COUNT, 0);
    store<u16>(E(s, last) + E_FIRST, <u16>i);
    store<u8>(E(s, last) + E_USED, used ? 1 : 0);
    touchEntry(s, last, 0, ENTRY_SPAN_FIELDS);
  }
}

function spanQueuePush(s: u32, i: u32): void {
  const q = <usize>sliceBin(eCount(s, i)) << 2;
  const id = sliceId(s, i);
  const first = ld32(H_SQ_FIRST + q);
  store<u32>(E(s, i) + E_PREV, 0);
  store<u32>(E(s, i) + E_LINK, first);
  st32(H_SQ_FIRST + q, id);
  if (first) store<u32>(E(idSeg(first), idIndex(first)) + E_PREV, id);
  else st32(H_SQ_LAST + q, id);
}

function spanQueueDelete(s: u32, i: u32): void {
  const q = <usize>sliceBin(eCount(s, i)) << 2;
  const id = sliceId(s, i);
  const next = eLink(s, i), prev = ePrev(s, i);
  if (prev) store<u32>(E(idSeg(prev), idIndex(prev)) + E_LINK, next);
  if (ld32(H_SQ_FIRST + q) == id) st32(H_SQ_FIRST + q, next);
  if (next) store<u32>(E(idSeg(next), idIndex(next)) + E_PREV, prev);
  if (ld32(H_SQ_LAST + q) == id) st32(H_SQ_LAST + q, prev);
  store<u32>(E(s, i) + E_LINK, 0);
  store<u32>(E(s, i) + E_PREV, 0);
}

// mi_segment_span_free: [i, i + count) becomes a free span (queued unless the segment is huge),
// decommitted later or now when allowed.
function spanFree(s: u32, i: u32, count: u32, decommit: bool): void {
  if (count == 0) count = 1;
  setSpan(s, i, count, false);
  if (decommit) perhapsDecommit(s, <u64>i << SLICE_SHIFT, <u64>count << SLICE_SHIFT);
  if (!isHuge(s)) spanQueuePush(s, i);
}

// mi_segment_span_free_coalesce: merges the span at i with free neighbours, then frees it.
function spanFreeCoalesce(s: u32, i: u32): void {
  if (isHuge(s)) { store<u8>(E(s, i) + E_USED, 0); return; }
  let count = eCount(s, i);
  const next = i + count;
  if (next < entries(s) && !eUsed(s, next)) {
    count += eCount(s, next);
    spanQueueDelete(s, next);
  }
  if (i > 0) {
    const prev = eFirst(s, i - 1);
    if (!eUsed(s, prev)) {
      count += eCount(s, prev);
      spanQueueDelete(s, prev);
      i = prev;
    }
  }
  spanFree(s, i, count, true);
}

// mi_segment_span_allocate: commits [i, i + count) and makes it a page (0 = the header's page).
function spanAllocate(s: u32, i: u32, count: u32): void {
  ensureCommitted(s, <u64>i << SLICE_SHIFT, <u64>count << SLICE_SHIFT);
  setSpan(s, i, count, true);
  // The library also writes back offsets into the following entries (up to MAX_SLICE_OFFSET).
  let extra = count - 1;
  if (extra > MAX_SLICE_OFFSET) extra = MAX_SLICE_OFFSET;
  if (i + extra >= entries(s)) extra = entries(s) - i - 1;
  for (let k: u32 = 1; k <= extra; k++) touchEntry(s, i + k, 0, ENTRY_SPAN_FIELDS);
  store<u32>(E(s, i) + E_LINK, 0);
  store<u32>(SG(s) + S_USED, load<u32>(SG(s) + S_USED) + 1);
}

// mi_segments_page_find_and_allocate: best-fitting queue first, first fit inside it.
function findAndAllocate(slices: u32): u32 {
  for (let q = sliceBin(slices); q <= SEGMENT_BIN_MAX; q++) {
    for (let id = ld32(H_SQ_FIRST + (<usize>q << 2)); id; id = eLink(idSeg(id), idIndex(id))) {
      const s = idSeg(id), i = idIndex(id);
      const have = eCount(s, i);
      if (have < slices) continue;
      spanQueueDelete(s, i);
      if (have > slices) {
        spanFree(s, i + slices, have - slices, false); // mi_segment_slice_split: no decommit
        store<u32>(E(s, i) + E_COUNT, slices);
      }
      spanAllocate(s, i, slices);
      return makePage(s, i, slices);
    }
  }
  return 0;
}

function makePage(s: u32, i: u32, slices: u32): u32 {
  const p = newPage();
  const r = PG(p);
  store<u32>(r + P_SEG, s);
  store<u32>(r + P_SLICE, i);
  store<u32>(r + P_SLICES, slices);
  store<u8>(r + P_HEAP, owner);
  store<u64>(r + P_BLOCK, <u64>slices << SLICE_SHIFT); // xblock_size of a fresh span: its bytes
  store<u32>(E(s, i) + E_LINK, p);
  touchEntry(s, i, ENTRY_PAGE_FROM, ENTRY_QUEUED_FIELDS); // mi_page_init and the queue links
  return p;
}

// ---------------------------------------------------------------- segments

function linkSegment(s: u32): void {
  const head = ld32(H_SEG_HEAD);
  store<u32>(SG(s) + S_NEXT, head);
  store<u32>(SG(s) + S_PREV, 0);
  if (head) store<u32>(SG(head) + S_PREV, s);
  st32(H_SEG_HEAD, s);
}
function unlinkSegment(s: u32): void {
  const n = load<u32>(SG(s) + S_NEXT), p = load<u32>(SG(s) + S_PREV);
  if (p) store<u32>(SG(p) + S_NEXT, n); else st32(H_SEG_HEAD, n);
  if (n) store<u32>(SG(n) + S_PREV, p);
}

// mi_segment_alloc (+ mi_segment_os_alloc). required = 0 for a normal segment, else the huge
// block's size; returns the segment (0 = out of memory); a huge segment's page is hugePage.
let hugePage: u32 = 0;
function segmentAlloc(required: u64, pageAlignment: u64): u32 {
  const infoBytes = <u64>INFO_SLICES << SLICE_SHIFT;
  let slices: u64 = required == 0 ? <u64>SLICES_PER_SEGMENT : alignUpBy(required + infoBytes, SLICE_BYTES) >> SLICE_SHIFT;
  const commit = ld32(H_EAGER) != 0 || required > 0;
  let alignment = SEGMENT_BYTES;
  let alignOffset: u64 = 0;
  if (pageAlignment > 0) {
    alignment = pageAlignment;
    alignOffset = alignUpBy(infoBytes, SEGMENT_BYTES);
    slices = alignUpBy(required + (alignOffset - infoBytes) + infoBytes, SLICE_BYTES) >> SLICE_SHIFT;
  }
  const size = slices << SLICE_SHIFT;
  let s: u32 = 0;
  let fromCache = false;
  if (pageAlignment == 0) { s = cachePop(size); fromCache = s != 0; }
  if (!s) {
    // From the OS (_mi_os_alloc_aligned_offset).
    let base: u64 = 0, osBase: u64 = 0, osBytes: u64 = 0;
    if (alignOffset == 0) {
      osBase = osAllocAligned(size, alignment, commit);
      base = osBase;
      osBytes = goodAllocBytes(size);
    } else {
      const extra = alignUpBy(alignOffset, alignment) - alignOffset;
      osBase = osAllocAligned(size + extra, alignment, commit);
      base = osBase + extra;
      osBytes = goodAllocBytes(size + extra);
      if (osBase && commit && extra > OS_PAGE_BYTES) osDecommit(osBase, extra);
    }
    if (!base || !osBase) return 0;
    s = newSegment();
    const r = SG(s);
    store<u64>(r + S_BASE, base);
    store<u64>(r + S_OS_BASE, osBase);
    store<u64>(r + S_OS_BYTES, osBytes);
    if (commit) { memory.fill(r + S_COMMIT, 0xFF, 64); }
    counterAdd(owner, C_SEGMENTS_MAPPED, 1);
  } else if (fromCache) {
    counterAdd(owner, C_CACHE_REUSES, 1);
  }
  const r = SG(s);
  store<u8>(r + S_HEAP, owner);
  store<u64>(r + S_ALIGN, alignment);
  store<u64>(r + S_ALIGN_OFFSET, alignOffset);
  // At least the header slice is committed. Memory that is not fresh from the OS (from the
  // cache, or committed just now: _mi_os_commit reports it as not zeroed) gets its header zeroed.
  let zeroed = !fromCache;
  if (!maskAllIn(s, S_COMMIT, 0, INFO_SLICES)) {
    statCommit(infoBytes);
    vmCommit(segBase(s), infoBytes);
    maskSetRange(s, S_COMMIT, 0, INFO_SLICES, true);
    zeroed = false;
  }
  touch(segBase(s), SEGMENT_HEADER_BYTES);
  if (!zeroed) {
    touch(segBase(s) + SEGMENT_ZEROED_FROM, SEGMENT_HEADER_BYTES - SEGMENT_ZEROED_FROM + (slices + 1) * SLICE_ENTRY_BYTES);
  }
  store<u8>(r + S_ALLOW, ld32(H_ALLOW_DECOMMIT) ? 1 : 0);
  store<i64>(r + S_EXPIRE, 0);
  if (!allowDecommit(s)) memory.fill(r + S_DECOMMIT, 0, 64);
  store<u32>(r + S_SLICES, <u32>slices);
  store<u32>(r + S_ENTRIES, slices > <u64>SLICES_PER_SEGMENT ? SLICES_PER_SEGMENT : <u32>slices);
  store<u8>(r + S_KIND, required == 0 ? KIND_NORMAL : KIND_HUGE);
  store<u8>(r + S_STATE, SEG_LIVE);
  store<u32>(r + S_USED, 0);
  linkSegment(s);
  st32(H_SEGMENTS, ld32(H_SEGMENTS) + 1);
  spanAllocate(s, 0, INFO_SLICES);
  store<u32>(r + S_USED, 0); // the header does not count as a page in use
  if (required == 0) {
    spanFree(s, INFO_SLICES, entries(s) - INFO_SLICES, false);
  } else {
    st32(H_HUGE_SEGMENTS, ld32(H_HUGE_SEGMENTS) + 1);
    st64(H_HUGE_BYTES, ld64(H_HUGE_BYTES) + load<u64>(r + S_OS_BYTES));
    const count = <u32>slices - INFO_SLICES;
    spanAllocate(s, INFO_SLICES, count);
    hugePage = makePage(s, INFO_SLICES, count);
  }
  return s;
}

// mi_segment_free + mi_segment_os_free.
function segmentFree(s: u32): void {
  const r = SG(s);
  if (!isHuge(s)) {
    for (let i: u32 = 0; i < entries(s);) {
      const n = eCount(s, i);
      if (!eUsed(s, i)) spanQueueDelete(s, i);
      i += n ? n : 1;
    }
  }
  unlinkSegment(s);
  st32(H_SEGMENTS, ld32(H_SEGMENTS) - 1);
  if (isHuge(s)) {
    st32(H_HUGE_SEGMENTS, ld32(H_HUGE_SEGMENTS) - 1);
    st64(H_HUGE_BYTES, ld64(H_HUGE_BYTES) - load<u64>(r + S_OS_BYTES));
  }
  const size = segBytes(s);
  if (size == SEGMENT_BYTES && load<u64>(r + S_ALIGN_OFFSET) == 0 && !isHuge(s) && cachePush(s)) return;
  // Unmapped. The counter drops by what the commit mask says of the segment's own size (each
  // bit standing for size / 512), not by what was mapped.
  statDecommit(size / <u64>SLICES_PER_SEGMENT * maskCount(s, S_COMMIT));
  osRelease(s);
}

function osRelease(s: u32): void {
  const r = SG(s);
  counterAdd(owner, C_RESERVED, -<i64>load<u64>(r + S_OS_BYTES));
  vmRelease(load<u64>(r + S_OS_BASE));
  dropSegment(s);
}

// ---------------------------------------------------------------- segment cache (segment-cache.c)

// @ts-ignore: decorator
@inline function cacheSlot(i: i32): u32 { return ld32(H_CACHE + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setCacheSlot(i: i32, s: u32): void { st32(H_CACHE + (<usize>i << 2), s); }

// mi_commit_mask_decommit: every committed run of a cached segment goes.
function cacheDecommit(s: u32): void {
  for (let i: u32 = 0; ;) {
    const n = nextRun(s, S_COMMIT, i);
    if (!n) break;
    osDecommit(segBase(s) + (<u64>runStart << SLICE_SHIFT), <u64>n << SLICE_SHIFT);
    i = runStart + n;
  }
  memory.fill(SG(s) + S_COMMIT, 0, 64);
}

// mi_segment_cache_purge: probes CACHE_PROBES slots from a start drawn from the clock (or all)
// and decommits the expired ones, at most MAX_PURGE_PER_PUSH + 1 per call.
function cachePurge(visitAll: bool): void {
  if (!ld32(H_ALLOW_DECOMMIT)) return;
  const now = nowMs();
  let purged = 0;
  const visits = visitAll ? CACHE_SLOTS : CACHE_PROBES;
  let idx = visitAll ? 0 : <i32>(randomShuffle(<u64>now) % <u64>CACHE_SLOTS);
  for (let v = 0; v < visits; v++, idx++) {
    if (idx >= CACHE_SLOTS) idx = 0;
    const s = cacheSlot(idx);
    if (!s) continue;
    const expire = load<i64>(SG(s) + S_CACHE_EXPIRE);
    if (expire != 0 && now >= expire) {
      purged++;
      store<i64>(SG(s) + S_CACHE_EXPIRE, 0);
      cacheDecommit(s);
      memory.fill(SG(s) + S_DECOMMIT, 0, 64);
      if (!visitAll && purged > MAX_PURGE_PER_PUSH) break;
    }
  }
}

// _mi_segment_cache_push: the lowest free slot; decommitted at once when the delay is 0.
function cachePush(s: u32): bool {
  cachePurge(false);
  let slot = -1;
  for (let i = 0; i < CACHE_SLOTS; i++) if (!cacheSlot(i)) { slot = i; break; }
  if (slot < 0) return false;
  setCacheSlot(slot, s);
  st32(H_CACHED, ld32(H_CACHED) + 1);
  store<u8>(SG(s) + S_STATE, SEG_CACHED);
  store<i64>(SG(s) + S_CACHE_EXPIRE, 0);
  if (!maskIsEmpty(s, S_COMMIT) && ld32(H_ALLOW_DECOMMIT)) {
    const delay = ldi(H_SEG_DELAY);
    if (delay == 0) {
      cacheDecommit(s);
      memory.fill(SG(s) + S_DECOMMIT, 0, 64);
    } else {
      store<i64>(SG(s) + S_CACHE_EXPIRE, nowMs() + delay);
    }
  }
  return true;
}

// _mi_segment_cache_pop: the segment in the lowest occupied slot (normal segments only).
function cachePop(size: u64): u32 {
  if (size != SEGMENT_BYTES) return 0;
  for (let i = 0; i < CACHE_SLOTS; i++) {
    const s = cacheSlot(i);
    if (!s) continue;
    setCacheSlot(i, 0);
    st32(H_CACHED, ld32(H_CACHED) - 1);
    store<i64>(SG(s) + S_CACHE_EXPIRE, 0);
    memory.fill(E(s, 0), 0, SLICE_TABLE_BYTES);
    return s;
  }
  return 0;
}

// _mi_segment_cache_free_all (mi_collect(true)): every cached segment is unmapped.
function cacheFreeAll(): void {
  for (let i = 0; i < CACHE_SLOTS; i++) {
    const s = cacheSlot(i);
    if (!s) continue;
    setCacheSlot(i, 0);
    st32(H_CACHED, ld32(H_CACHED) - 1);
    statDecommit(SEGMENT_BYTES / <u64>SLICES_PER_SEGMENT * maskCount(s, S_COMMIT));
    osRelease(s);
  }
}

// ---------------------------------------------------------------- page queues (page-queue.c)

// @ts-ignore: decorator
@inline function pqFirst(bin: i32): u32 { return ld32(H_PQ_FIRST + (<usize>bin << 2)); }
// @ts-ignore: decorator
@inline function pqLast(bin: i32): u32 { return ld32(H_PQ_LAST + (<usize>bin << 2)); }
// @ts-ignore: decorator
@inline function setPqFirst(bin: i32, p: u32): void { st32(H_PQ_FIRST + (<usize>bin << 2), p); }
// @ts-ignore: decorator
@inline function setPqLast(bin: i32, p: u32): void { st32(H_PQ_LAST + (<usize>bin << 2), p); }
// @ts-ignore: decorator
@inline function pNext(p: u32): u32 { return load<u32>(PG(p) + P_NEXT); }
// @ts-ignore: decorator
@inline function pPrev(p: u32): u32 { return load<u32>(PG(p) + P_PREV); }
// @ts-ignore: decorator
@inline function pBlock(p: u32): u64 { return load<u64>(PG(p) + P_BLOCK); }
// @ts-ignore: decorator
@inline function pUsed(p: u32): u32 { return load<u32>(PG(p) + P_USED); }
// @ts-ignore: decorator
@inline function pFree(p: u32): u32 { return load<u32>(PG(p) + P_FREE); }
// @ts-ignore: decorator
@inline function pInFull(p: u32): bool { return load<u8>(PG(p) + P_IN_FULL) != 0; }
// The queue a page is in: full, or its block size's bin.
// @ts-ignore: decorator
@inline function queueOf(p: u32): i32 { return pInFull(p) ? BIN_FULL : binOf(pBlock(p)); }

function unlinkFromQueue(bin: i32, p: u32): void {
  const n = pNext(p), v = pPrev(p);
  if (v) store<u32>(PG(v) + P_NEXT, n);
  if (n) store<u32>(PG(n) + P_PREV, v);
  if (pqLast(bin) == p) setPqLast(bin, v);
  if (pqFirst(bin) == p) setPqFirst(bin, n);
  store<u32>(PG(p) + P_NEXT, 0);
  store<u32>(PG(p) + P_PREV, 0);
}

// mi_page_queue_remove.
function queueRemove(bin: i32, p: u32): void {
  unlinkFromQueue(bin, p);
  store<u8>(PG(p) + P_IN_FULL, 0);
  store<u8>(PG(p) + P_QUEUED, 0);
  areaAdd(p, -1);
}

// mi_page_queue_push: at the front.
function queuePush(bin: i32, p: u32): void {
  store<u8>(PG(p) + P_IN_FULL, bin == BIN_FULL ? 1 : 0);
  const first = pqFirst(bin);
  store<u32>(PG(p) + P_NEXT, first);
  store<u32>(PG(p) + P_PREV, 0);
  if (first) store<u32>(PG(first) + P_PREV, p); else setPqLast(bin, p);
  setPqFirst(bin, p);
  store<u8>(PG(p) + P_QUEUED, 1);
  areaAdd(p, 1);
}

// mi_page_queue_enqueue_from: moves a page to the end of another queue.
function enqueueFrom(to: i32, from: i32, p: u32): void {
  unlinkFromQueue(from, p);
  const last = pqLast(to);
  store<u32>(PG(p) + P_PREV, last);
  store<u32>(PG(p) + P_NEXT, 0);
  if (last) store<u32>(PG(last) + P_NEXT, p); else setPqFirst(to, p);
  setPqLast(to, p);
  store<u8>(PG(p) + P_IN_FULL, to == BIN_FULL ? 1 : 0);
}

// The area sums of the pages in the queues (what mi_heap_visit_blocks reports), kept as pages
// enter and leave them.
function areaAdd(p: u32, sign: i64): void {
  const bs = pBlock(p);
  const r = PG(p);
  add64(H_AREA_RESERVED, sign * <i64>(<u64>load<u32>(r + P_RESERVED) * bs));
  add64(H_AREA_COMMITTED, sign * <i64>(<u64>load<u32>(r + P_CAPACITY) * bs));
  add64(H_USED_BYTES, sign * <i64>(<u64>pUsed(p) * bs));
  add64(H_USED_BLOCKS, sign * <i64>pUsed(p));
  add64(H_AREAS, sign);
}

// ---------------------------------------------------------------- pages (page.c)

// @ts-ignore: decorator
@inline function pageStart(p: u32): u64 {
  const r = PG(p);
  return segBase(load<u32>(r + P_SEG)) + (<u64>load<u32>(r + P_SLICE) << SLICE_SHIFT) + <u64>load<u32>(r + P_START);
}
// @ts-ignore: decorator
@inline function blockAddr(b: u32): u64 {
  const p = load<u32>(BK(b) + B_PAGE);
  const r = PG(p);
  return load<u64>(r + P_START_ADDR) + <u64>load<u32>(BK(b) + B_INDEX) * load<u64>(r + P_BLOCK);
}

// mi_page_init: block size, how many blocks fit, then a first extension.
function pageInit(p: u32, blockBytes: u64): void {
  const r = PG(p);
  const start = pageStartOffset(blockBytes);
  const psize = (<u64>load<u32>(r + P_SLICES) << SLICE_SHIFT) - start;
  store<u64>(r + P_BLOCK, blockBytes);
  store<u32>(r + P_START, <u32>start);
  store<u64>(r + P_START_ADDR, pageStart(p));
  store<u32>(r + P_RESERVED, <u32>(psize / blockBytes));
  extendFree(p);
}

// mi_page_extend_free: up to 4 KiB worth of blocks (at least 4) join the free list, in order.
function extendFree(p: u32): void {
  const r = PG(p);
  const cap = load<u32>(r + P_CAPACITY), reserved = load<u32>(r + P_RESERVED);
  if (cap >= reserved) return;
  const bs = pBlock(p);
  let maxExtend: u64 = bs >= MAX_EXTEND_BYTES ? MIN_EXTEND : MAX_EXTEND_BYTES / bs;
  if (maxExtend < MIN_EXTEND) maxExtend = MIN_EXTEND;
  let extend = <u64>(reserved - cap);
  if (extend > maxExtend) extend = maxExtend;
  let head = load<u32>(r + P_FREE);
  for (let k = <i64>extend - 1; k >= 0; k--) {
    const b = newBlock(p, cap + <u32>k);
    store<u32>(BK(b) + B_NEXT, head);
    head = b;
  }
  const pr = PG(p);
  store<u32>(pr + P_FREE, head);
  store<u32>(pr + P_FREE_COUNT, load<u32>(pr + P_FREE_COUNT) + <u32>extend);
  store<u32>(pr + P_CAPACITY, cap + <u32>extend);
  if (load<u8>(pr + P_QUEUED)) add64(H_AREA_COMMITTED, <i64>(extend * bs));
  // The free-list links are written into the new blocks.
  const first = pageStart(p) + <u64>cap * bs;
  if (bs < OS_PAGE_BYTES) touch(first, (extend - 1) * bs + BLOCK_LINK_BYTES);
  else for (let k: u64 = 0; k < extend; k++) touch(first + k * bs, BLOCK_LINK_BYTES);
}

// _mi_page_free_collect (no other threads): the local free list becomes the free list when that
// is empty; `force` appends it in any case.
function freeCollect(p: u32, force: bool): void {
  const r = PG(p);
  const local = load<u32>(r + P_LOCAL);
  if (!local) return;
  const free = load<u32>(r + P_FREE);
  if (free && !force) return;
  store<u32>(BK(load<u32>(r + P_LOCAL_TAIL)) + B_NEXT, free);
  store<u32>(r + P_FREE, local);
  store<u32>(r + P_FREE_COUNT, load<u32>(r + P_FREE_COUNT) + load<u32>(r + P_LOCAL_COUNT));
  store<u32>(r + P_LOCAL, 0);
  store<u32>(r + P_LOCAL_TAIL, 0);
  store<u32>(r + P_LOCAL_COUNT, 0);
}

// _mi_page_free: off its queue, its slices back to the segment (a segment with no page left
// is freed).
function pageFree(p: u32, bin: i32): void {
  store<u8>(PG(p) + P_ALIGNED, 0);
  queueRemove(bin, p);
  segmentPageFree(p);
}

// _mi_segment_page_free + mi_segment_page_clear.
function segmentPageFree(p: u32): void {
  const r = PG(p);
  const s = load<u32>(r + P_SEG), i = load<u32>(r + P_SLICE);
  if (ld32(H_PAGE_RESET) && !load<u8>(r + P_IS_RESET)) {
    // MADV_FREE of the page's area: counted, the pages stay resident until memory is short.
    const psize = (<u64>load<u32>(r + P_SLICES) << SLICE_SHIFT) - <u64>load<u32>(r + P_START);
    const a = alignUpBy(pageStart(p), OS_PAGE_BYTES), e = (pageStart(p) + psize) & ~(OS_PAGE_BYTES - 1);
    if (e > a) counterAdd(owner, C_RESET, <i64>(e - a));
  }
  // The page's blocks are all free: their records go.
  for (let b = load<u32>(r + P_FREE); b;) { const n = load<u32>(BK(b) + B_NEXT); dropBlock(b); b = n; }
  for (let b = load<u32>(r + P_LOCAL); b;) { const n = load<u32>(BK(b) + B_NEXT); dropBlock(b); b = n; }
  dropPage(p);
  store<u32>(E(s, i) + E_LINK, 0);
  touchEntry(s, i, ENTRY_PAGE_FROM, SLICE_ENTRY_BYTES); // mi_segment_page_clear zeroes the page's fields
  spanFreeCoalesce(s, i);
  const used = load<u32>(SG(s) + S_USED) - 1;
  store<u32>(SG(s) + S_USED, used);
  if (used == 0) segmentFree(s);
}

// _mi_page_retire: an empty page that is the only one of its bin (blocks ≤ 128 KiB) waits.
function pageRetire(p: u32): void {
  store<u8>(PG(p) + P_ALIGNED, 0);
  const bin = queueOf(p);
  if (pBlock(p) <= MAX_RETIRE_BYTES && bin < BIN_HUGE) {
    if (pqLast(bin) == p && pqFirst(bin) == p) {
      store<u8>(PG(p) + P_RETIRE, 1 + (pBlock(p) <= SMALL_OBJ_MAX ? RETIRE_CYCLES : RETIRE_CYCLES / 4));
      if (<u32>bin < ld32(H_RET_MIN)) st32(H_RET_MIN, bin);
      if (<u32>bin > ld32(H_RET_MAX)) st32(H_RET_MAX, bin);
      return;
    }
  }
  pageFree(p, bin);
}

// _mi_heap_collect_retired: counts the retired pages (first of their queue) down; frees the
// expired ones (all of them when forced).
function collectRetired(force: bool): void {
  let min = <u32>BIN_FULL, max: u32 = 0;
  for (let bin = ld32(H_RET_MIN); bin <= ld32(H_RET_MAX); bin++) {
    const p = pqFirst(<i32>bin);
    if (!p) continue;
    const expire = load<u8>(PG(p) + P_RETIRE);
    if (!expire) continue;
    if (pUsed(p) == 0) {
      store<u8>(PG(p) + P_RETIRE, expire - 1);
      if (force || expire - 1 == 0) {
        pageFree(p, <i32>bin);
      } else {
        if (bin < min) min = bin;
        if (bin > max) max = bin;
      }
    } else {
      store<u8>(PG(p) + P_RETIRE, 0);
    }
  }
  st32(H_RET_MIN, min);
  st32(H_RET_MAX, max);
}

// mi_page_to_full.
function pageToFull(p: u32, bin: i32): void {
  if (pInFull(p)) return;
  enqueueFrom(BIN_FULL, bin, p);
  freeCollect(p, false);
}

// _mi_page_unfull: back to the end of its bin's queue.
function pageUnfull(p: u32): void {
  if (!pInFull(p)) return;
  enqueueFrom(binOf(pBlock(p)), BIN_FULL, p);
}

// mi_page_fresh_alloc: a new page from the segments, initialised and pushed on its queue.
function pageFreshAlloc(bin: i32, blockBytes: u64, pageAlignment: u64): u32 {
  const p = segmentPageAlloc(blockBytes, pageAlignment);
  if (!p) return 0;
  const full = bin >= BIN_HUGE ? pBlock(p) : blockBytes;
  pageInit(p, full);
  queuePush(bin, p);
  return p;
}

// mi_page_queue_find_free_ex.
function findFreeEx(bin: i32, firstTry: bool): u32 {
  let p = pqFirst(bin);
  while (p) {
    const next = pNext(p);
    freeCollect(p, false);
    if (pFree(p)) break;
    if (load<u32>(PG(p) + P_CAPACITY) < load<u32>(PG(p) + P_RESERVED)) {
      extendFree(p);
      break;
    }
    pageToFull(p, bin);
    p = next;
  }
  if (!p) {
    collectRetired(false);
    p = pageFreshAlloc(bin, binBlockBytes(bin), 0);
    if (!p && firstTry) p = findFreeEx(bin, false);
  } else {
    store<u8>(PG(p) + P_RETIRE, 0);
  }
  return p;
}

// mi_find_free_page.
function findFreePage(size: u64): u32 {
  const bin = binOf(size);
  const p = pqFirst(bin);
  if (p) {
    freeCollect(p, false);
    if (pFree(p)) { store<u8>(PG(p) + P_RETIRE, 0); return p; }
  }
  return findFreeEx(bin, true);
}

// mi_large_huge_page_alloc: a page of one block, in the huge queue.
function largeHugePageAlloc(size: u64, pageAlignment: u64): u32 {
  const blockBytes = goodAllocBytes(size);
  return pageFreshAlloc(BIN_HUGE, blockBytes, pageAlignment);
}

// _mi_segment_page_alloc: small pages are one slice, medium pages 512 KiB, large pages rounded
// to 64 KiB (512 KiB above 512 KiB); huge blocks and huge alignments get a segment each.
function segmentPageAlloc(blockBytes: u64, pageAlignment: u64): u32 {
  if (pageAlignment > ALIGNMENT_MAX) {
    return hugePageAlloc(blockBytes, pageAlignment < SEGMENT_BYTES ? SEGMENT_BYTES : pageAlignment);
  }
  if (blockBytes <= SMALL_OBJ_MAX) return segmentsPageAlloc(blockBytes);
  if (blockBytes <= MEDIUM_OBJ_MAX) return segmentsPageAlloc(MEDIUM_PAGE_BYTES);
  if (blockBytes <= LARGE_OBJ_MAX) return segmentsPageAlloc(blockBytes);
  return hugePageAlloc(blockBytes, pageAlignment);
}

// mi_segments_page_alloc.
function segmentsPageAlloc(required: u64): u32 {
  const pageBytes = alignUpBy(required, required > MEDIUM_PAGE_BYTES ? MEDIUM_PAGE_BYTES : SLICE_BYTES);
  const slices = <u32>(pageBytes >> SLICE_SHIFT);
  let p = findAndAllocate(slices);
  if (!p) {
    if (!segmentAlloc(0, 0)) return 0;
    p = findAndAllocate(slices);
    if (!p) return 0;
  }
  delayedDecommit(load<u32>(PG(p) + P_SEG), false);
  return p;
}

// mi_segment_huge_page_alloc.
function hugePageAlloc(size: u64, pageAlignment: u64): u32 {
  const s = segmentAlloc(size, pageAlignment);
  if (!s) return 0;
  const p = hugePage;
  // The block is the whole page; with a huge alignment the part before the aligned address is
  // decommitted (all but the free-list link).
  store<u64>(PG(p) + P_BLOCK, <u64>load<u32>(PG(p) + P_SLICES) << SLICE_SHIFT);
  if (pageAlignment > 0 && allowDecommit(s)) {
    const start = pageStart(p);
    const aligned = alignUpBy(start, pageAlignment);
    osDecommit(start + BLOCK_LINK_BYTES, aligned - start - BLOCK_LINK_BYTES);
  }
  return p;
}

// ---------------------------------------------------------------- allocation (alloc.c)

// _mi_page_malloc: pops the free list.
// @ts-ignore: decorator
@inline function pagePop(p: u32): u32 {
  const r = PG(p);
  const b = load<u32>(r + P_FREE);
  store<u32>(r + P_FREE, load<u32>(BK(b) + B_NEXT));
  store<u32>(r + P_FREE_COUNT, load<u32>(r + P_FREE_COUNT) - 1);
  store<u32>(r + P_USED, load<u32>(r + P_USED) + 1);
  store<u32>(BK(b) + B_LINK, 0); // off the list, no adjustment
  addUsed(<i64>load<u64>(r + P_BLOCK), 1);
  return b;
}

// mi_find_page.
function findPage(size: u64, hugeAlignment: u64): u32 {
  if (size > MEDIUM_OBJ_MAX || hugeAlignment > 0) {
    if (size > <u64>0x7FFFFFFFFFFFFFFF) return 0;
    return largeHugePageAlloc(size, hugeAlignment);
  }
  return findFreePage(size);
}

// _mi_malloc_generic.
function mallocGeneric(size: u64, hugeAlignment: u64): u32 {
  let p = findPage(size, hugeAlignment);
  if (!p) {
    heapCollect(true);
    p = findPage(size, hugeAlignment);
    if (!p) return 0;
  }
  return pagePop(p);
}

// _mi_heap_malloc_zero_ex (calloc takes the same path; only the zeroing differs).
// @ts-ignore: decorator
@inline function heapMalloc(size: u64, hugeAlignment: u64 = 0): u32 {
  if (size <= SMALL_SIZE_MAX) {
    const p = pqFirst(binOf(size));
    if (p && pFree(p)) return pagePop(p);
    return mallocGeneric(size, 0);
  }
  return mallocGeneric(size, hugeAlignment);
}

// mi_heap_malloc_aligned (what memalign, posix_memalign and aligned_alloc call).
function mallocAligned(size: u64, alignment: u64): u32 {
  if ((size & (size - 1)) == 0 && size >= alignment && size <= SMALL_SIZE_MAX) return heapMalloc(size);
  if (size > <u64>0x7FFFFFFFFFFFFFFF) return 0;
  const mask = alignment - 1;
  // A small block that happens to be aligned already.
  if (size <= SMALL_SIZE_MAX && alignment <= size) {
    const p = pqFirst(binOf(size));
    if (p && pFree(p) && (blockAddr(pFree(p)) & mask) == 0) return pagePop(p);
  }
  if (alignment <= size && size <= MAX_ALIGN_GUARANTEE && (size & mask) == 0) return heapMalloc(size);
  let b: u32;
  if (alignment > ALIGNMENT_MAX) {
    b = heapMalloc(size <= SMALL_SIZE_MAX ? SMALL_SIZE_MAX + 1 : size, alignment);
  } else {
    b = heapMalloc(size + alignment - 1);
  }
  if (!b) return 0;
  const a = blockAddr(b);
  const adjust = alignUpBy(a, alignment) - a;
  if (adjust) {
    store<u32>(BK(b) + B_ADJUST, <u32>adjust);
    store<u8>(PG(load<u32>(BK(b) + B_PAGE)) + P_ALIGNED, 1);
  }
  return b;
}

// mi_free (one thread: every free is local).
// @ts-ignore: decorator
@inline function heapFree(b: u32): void {
  const p = load<u32>(BK(b) + B_PAGE);
  const r = PG(p);
  const local = load<u32>(r + P_LOCAL);
  store<u32>(BK(b) + B_NEXT, local); // the adjustment goes with it
  if (!local) store<u32>(r + P_LOCAL_TAIL, b);
  store<u32>(r + P_LOCAL, b);
  store<u32>(r + P_LOCAL_COUNT, load<u32>(r + P_LOCAL_COUNT) + 1);
  const used = load<u32>(r + P_USED) - 1;
  store<u32>(r + P_USED, used);
  addUsed(-<i64>load<u64>(r + P_BLOCK), -1);
  touchBlock(p, blockAddr(b), BLOCK_LINK_BYTES);
  if (used == 0) pageRetire(p);
  else if (pInFull(p)) pageUnfull(p);
}

// mi_heap_collect_ex(MI_FORCE) for one thread: retired pages first, then every empty page, then
// the segment cache. Free slices of live segments are left as they are.
function heapCollect(force: bool): void {
  collectRetired(force);
  for (let bin = 0; bin <= BIN_FULL; bin++) {
    let p = pqFirst(bin);
    while (p) {
      const next = pNext(p);
      freeCollect(p, force);
      if (pUsed(p) == 0) pageFree(p, bin);
      p = next;
    }
  }
  if (force) cacheFreeAll();
  else cachePurge(true);
}

// Usable bytes of a live block (mi_usable_size).
// @ts-ignore: decorator
@inline function usableBytes(b: u32): u64 { return pBlock(load<u32>(BK(b) + B_PAGE)) - <u64>load<u32>(BK(b) + B_ADJUST); }
// @ts-ignore: decorator
@inline function userAddr(b: u32): u64 { return blockAddr(b) + <u64>load<u32>(BK(b) + B_ADJUST); }

// The program writes the whole block it gets (heapsim's rule for resident pages).
// @ts-ignore: decorator
@inline function handOut(b: u32): u32 {
  if (b) touchBlock(load<u32>(BK(b) + B_PAGE), userAddr(b), usableBytes(b));
  return b;
}

// ---------------------------------------------------------------- the policy's functions

// Delays are whole milliseconds, flags 0 or 1 (mimalloc treats any other number as 1; the host
// says 0 or 1), event_ns whole nanoseconds.
export function miCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  const delay = paramInt(params, count, MI_DECOMMIT_DELAY, DEFAULT_DECOMMIT_DELAY);
  const segDelay = paramInt(params, count, MI_SEGMENT_DECOMMIT_DELAY, DEFAULT_SEGMENT_DECOMMIT_DELAY);
  const extend = paramInt(params, count, MI_DECOMMIT_EXTEND_DELAY, DEFAULT_EXTEND_DELAY);
  const allow = paramInt(params, count, MI_ALLOW_DECOMMIT, 1);
  const eager = paramInt(params, count, MI_EAGER_COMMIT, 1);
  const reset = paramInt(params, count, MI_PAGE_RESET, 0);
  const eventNs = paramInt(params, count, MI_EVENT_NS, DEFAULT_EVENT_NS);
  if (parent >= 0) return Status.BAD_PARAM;
  if (delay == PARAM_INVALID || delay > MAX_DELAY_MS || segDelay == PARAM_INVALID || segDelay > MAX_DELAY_MS ||
    extend == PARAM_INVALID || extend > MAX_DELAY_MS) return Status.BAD_PARAM;
  if (allow == PARAM_INVALID || allow > 1 || eager == PARAM_INVALID || eager > 1 || reset == PARAM_INVALID || reset > 1) return Status.BAD_PARAM;
  if (eventNs == PARAM_INVALID || eventNs > MAX_EVENT_NS) return Status.BAD_PARAM;
  use(heapIndex);
  reserveBlocksForHint();
  memory.fill(hs, 0, HS_BYTES);
  store<i64>(hs + H_DECOMMIT_DELAY, delay);
  store<i64>(hs + H_SEG_DELAY, segDelay);
  store<i64>(hs + H_EXTEND_DELAY, extend);
  st32(H_ALLOW_DECOMMIT, <u32>allow);
  st32(H_EAGER, <u32>eager);
  st32(H_PAGE_RESET, <u32>reset);
  st64(H_EVENT_NS, <u64>eventNs);
  st64(H_HINT, HINT_BASE);
  st32(H_RET_MIN, <u32>BIN_FULL);
  st32(H_RET_MAX, 0);
  return Status.OK;
}

export function miAlloc(heapIndex: i32, sizeBytes: u64, alignLog2: u32): u32 { return miAllocInline(heapIndex, sizeBytes, alignLog2); }
export function miFree(heapIndex: i32, handle: u32): void { miFreeInline(heapIndex, handle); }

// miAlloc's and miFree's bodies, inline in mimalloc's batch loop (index.ts MiOps).
// @ts-ignore: decorator
@inline export function miAllocInline(heapIndex: i32, sizeBytes: u64, alignLog2: u32): u32 {
  use(heapIndex);
  return handOut(alignLog2 == 0 ? heapMalloc(sizeBytes) : mallocAligned(sizeBytes, <u64>1 << alignLog2));
}

// @ts-ignore: decorator
@inline export function miFreeInline(heapIndex: i32, handle: u32): void {
  use(heapIndex);
  heapFree(handle);
}

// mi_realloc: the same block when the new size fits and wastes at most half of it; else a new
// block (plain malloc), the old one freed after.
export function miRealloc(heapIndex: i32, handle: u32, sizeBytes: u64): u32 {
  use(heapIndex);
  const usable = usableBytes(handle);
  if (sizeBytes <= usable && sizeBytes >= usable / 2 && sizeBytes > 0) return handle;
  const nb = heapMalloc(sizeBytes);
  if (!nb) return 0;
  handOut(nb);
  heapFree(handle);
  return nb;
}

// mi_collect(true). Returns the resident bytes given back.
export function miTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  const before = vmOwnerResident(owner);
  heapCollect(true);
  const after = vmOwnerResident(owner);
  return before > after ? before - after : 0;
}

export function miDestroy(heapIndex: i32): void {
  use(heapIndex);
  // Every block and page record of the heap goes, then every mapping (live and cached).
  for (let b: u32 = 1; b < blockCount; b++) {
    const p = load<u32>(BK(b) + B_PAGE);
    if (p && load<u8>(PG(p) + P_HEAP) == owner) dropBlock(b);
  }
  for (let p: u32 = 1; p < pageCount; p++) {
    if (load<u32>(PG(p) + P_SEG) && load<u8>(PG(p) + P_HEAP) == owner) dropPage(p);
  }
  for (let s = ld32(H_SEG_HEAD); s;) {
    const n = load<u32>(SG(s) + S_NEXT);
    osRelease(s);
    s = n;
  }
  for (let i = 0; i < CACHE_SLOTS; i++) {
    const s = cacheSlot(i);
    if (s) osRelease(s);
  }
  memory.fill(hs, 0, HS_BYTES);
}

export function miUserAddress(heapIndex: i32, handle: u32): u64 { return userAddr(handle); }

// Committed bytes of slices [from, to) of segment s, and those of them waiting for a decommit.
function committedIn(s: u32, from: u32, to: u32): u64 { return maskCountIn(s, S_COMMIT, from, to) << SLICE_SHIFT; }

export function miSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  // The commit counter is signed (it can drop below zero, see the header).
  store<f64>(out + (<usize>S_CURRENT_COMMIT << 3), <f64>ldi(H_COMMIT_CUR));
  store<f64>(out + (<usize>S_PEAK_COMMIT << 3), <f64>ldi(H_COMMIT_PEAK));
  putSlot(out, S_AREA_RESERVED, ld64(H_AREA_RESERVED));
  putSlot(out, S_AREA_COMMITTED, ld64(H_AREA_COMMITTED));
  putSlot(out, S_AREA_USED_BYTES, ld64(H_USED_BYTES));
  putSlot(out, S_AREA_USED_BLOCKS, ld64(H_USED_BLOCKS));
  putSlot(out, S_AREAS, ld64(H_AREAS));
  // Where committed memory without live blocks is held.
  let retired: u64 = 0, pending: u64 = 0, eager: u64 = 0, freeBlocks: u64 = 0, freeBytes: u64 = 0, slack: u64 = 0, liveFree: u64 = 0;
  let largest: u64 = 0, ucr: u64 = 0;
  for (let s = ld32(H_SEG_HEAD); s; s = load<u32>(SG(s) + S_NEXT)) {
    for (let i: u32 = 0; i < entries(s);) {
      const n = eCount(s, i);
      const end = i + n < entries(s) ? i + n : entries(s);
      if (eUsed(s, i)) {
        const p = eLink(s, i);
        if (p) {
          const r = PG(p);
          const idle = <u64>(load<u32>(r + P_CAPACITY) - pUsed(p));
          freeBlocks += idle;
          freeBytes += idle * pBlock(p);
          if (idle && pBlock(p) > largest) largest = pBlock(p);
          const committed = committedIn(s, i, end);
          if (pUsed(p) == 0) {
            retired += committed;
          } else {
            liveFree += idle * pBlock(p);
            const carved = <u64>load<u32>(r + P_START) + <u64>load<u32>(r + P_CAPACITY) * pBlock(p);
            if (committed > carved) slack += committed - carved;
          }
        }
      } else {
        const c = committedIn(s, i, end);
        const waiting = maskCountIn(s, S_DECOMMIT, i, end) << SLICE_SHIFT;
        pending += waiting;
        eager += c - waiting;
        if (c > largest) largest = c;
      }
      i = end;
    }
    if (!isHuge(s)) {
      for (let i: u32 = 0; i < SLICES_PER_SEGMENT;) {
        while (i < SLICES_PER_SEGMENT && (maskWord(s, S_COMMIT, <i32>(i >> 6)) & (<u64>1 << (i & 63)))) i++;
        if (i >= SLICES_PER_SEGMENT) break;
        ucr++;
        while (i < SLICES_PER_SEGMENT && !(maskWord(s, S_COMMIT, <i32>(i >> 6)) & (<u64>1 << (i & 63)))) i++;
      }
    }
  }
  let cached: u64 = 0;
  for (let i = 0; i < CACHE_SLOTS; i++) {
    const s = cacheSlot(i);
    if (s) cached += maskCount(s, S_COMMIT) << SLICE_SHIFT;
  }
  putSlot(out, S_RETIRED_BYTES, retired);
  putSlot(out, S_PENDING_BYTES, pending);
  putSlot(out, S_EAGER_BYTES, eager);
  putSlot(out, S_CACHED_BYTES, cached);
  putSlot(out, S_CACHED_SEGMENTS, ld32(H_CACHED));
  putSlot(out, S_PAGE_SLACK, slack);
  putSlot(out, S_LIVE_PAGE_FREE, liveFree);
  putSlot(out, K_BUSY, ld64(H_USED_BYTES));
  putSlot(out, K_FREE, freeBytes);
  putSlot(out, K_FREE_BLOCKS, freeBlocks);
  putSlot(out, K_LARGEST_FREE, largest);
  putSlot(out, K_UNCOMMITTED_RANGES, ucr);
  putSlot(out, K_SEGMENTS, ld32(H_SEGMENTS));
  putSlot(out, K_VIRTUAL_BLOCKS, ld32(H_HUGE_SEGMENTS));
  putSlot(out, K_VIRTUAL_BYTES, ld64(H_HUGE_BYTES));
}

// ---------------------------------------------------------------- invariants

export function miCheck(heapIndex: i32): i32 {
  use(heapIndex);
  // M1 spans tile each live segment; free spans are queued and never adjacent.
  let committed: u64 = 0;
  for (let s = ld32(H_SEG_HEAD); s; s = load<u32>(SG(s) + S_NEXT)) {
    let prevFree = false;
    let i: u32 = 0;
    let pagesInUse: u32 = 0;
    while (i < entries(s)) {
      const n = eCount(s, i);
      if (n == 0 || eFirst(s, i) != i) return 1;
      const last = i + n - 1 < entries(s) ? i + n - 1 : entries(s) - 1;
      if (eFirst(s, last) != i) return 1;
      if (eUsed(s, i)) {
        if (eLink(s, i)) pagesInUse++;
        prevFree = false;
      } else {
        if (prevFree && !isHuge(s)) return 1;
        if (!isHuge(s) && !inSpanQueue(s, i)) return 1;
        prevFree = true;
      }
      i += n;
    }
    if (!isHuge(s) && i != entries(s)) return 1;
    if (pagesInUse != load<u32>(SG(s) + S_USED)) return 1;
    if (isHuge(s)) {
      committed += load<u64>(SG(s) + S_OS_BYTES);
    } else {
      committed += maskCount(s, S_COMMIT) << SLICE_SHIFT;
    }
  }
  for (let i = 0; i < CACHE_SLOTS; i++) {
    const s = cacheSlot(i);
    if (s) committed += maskCount(s, S_COMMIT) << SLICE_SHIFT;
  }
  // M2 pages in their queues with consistent counts; M3 area sums.
  let areaRes: u64 = 0, areaCom: u64 = 0, usedB: u64 = 0, usedN: u64 = 0, areas: u64 = 0;
  for (let bin = 0; bin < BIN_COUNT; bin++) {
    let prev: u32 = 0;
    for (let p = pqFirst(bin); p; p = pNext(p)) {
      const r = PG(p);
      if (pPrev(p) != prev) return 2;
      prev = p;
      if (bin == BIN_FULL) { if (!pInFull(p)) return 2; }
      else if (pInFull(p) || binOf(pBlock(p)) != bin) return 2;
      const cap = load<u32>(r + P_CAPACITY);
      if (cap > load<u32>(r + P_RESERVED)) return 2;
      if (load<u64>(r + P_START_ADDR) != pageStart(p)) return 2;
      if (pUsed(p) + load<u32>(r + P_FREE_COUNT) + load<u32>(r + P_LOCAL_COUNT) != cap) return 2;
      let n: u32 = 0;
      for (let b = load<u32>(r + P_FREE); b; b = load<u32>(BK(b) + B_NEXT)) { if (load<u32>(BK(b) + B_PAGE) != p) return 2; n++; }
      if (n != load<u32>(r + P_FREE_COUNT)) return 2;
      n = 0;
      for (let b = load<u32>(r + P_LOCAL); b; b = load<u32>(BK(b) + B_NEXT)) { if (load<u32>(BK(b) + B_PAGE) != p) return 2; n++; }
      if (n != load<u32>(r + P_LOCAL_COUNT)) return 2;
      const bs = pBlock(p);
      areaRes += <u64>load<u32>(r + P_RESERVED) * bs;
      areaCom += <u64>cap * bs;
      usedB += <u64>pUsed(p) * bs;
      usedN += pUsed(p);
      areas++;
    }
    if (pqLast(bin) != prev) return 2;
  }
  if (areaRes != ld64(H_AREA_RESERVED) || areaCom != ld64(H_AREA_COMMITTED) || usedB != ld64(H_USED_BYTES) ||
    usedN != ld64(H_USED_BLOCKS) || areas != ld64(H_AREAS)) return 3;
  // M4 the VM agrees with the commit masks (huge segments: mapped minus what was decommitted
  // ahead of an aligned block, which the VM itself tells).
  if (!hasAlignedHuge() && vmOwnerCommitted(owner) != committed) return 4;
  // M5 the runs touchBlock trusts.
  for (let bin = 0; bin < BIN_COUNT; bin++) {
    for (let p = pqFirst(bin); p; p = pNext(p)) {
      const r = PG(p);
      if (!vmResidencyHolds(load<u32>(r + P_RES_EPOCH))) continue;
      for (let page = load<u64>(r + P_RES_FROM); page < load<u64>(r + P_RES_END); page++) {
        if (!vmIsResident(page << PAGE_SHIFT)) return 5;
      }
    }
  }
  return 0;
}

function inSpanQueue(s: u32, i: u32): bool {
  const id = sliceId(s, i);
  for (let x = ld32(H_SQ_FIRST + (<usize>sliceBin(eCount(s, i)) << 2)); x; x = eLink(idSeg(x), idIndex(x))) if (x == id) return true;
  return false;
}

function hasAlignedHuge(): bool {
  for (let s = ld32(H_SEG_HEAD); s; s = load<u32>(SG(s) + S_NEXT)) if (load<u64>(SG(s) + S_ALIGN_OFFSET)) return true;
  return false;
}
