// === first-fit: address-ordered first fit with boundary tags ===
//
// The textbook policy (Knuth TAOCP 2.5; Wilson et al. 1995 "address-ordered first fit"): the free
// block with the lowest address that fits wins; blocks are split and the remainder stays free;
// a freed block merges at once with free neighbours. Memory comes from segments reserved from the
// VM and committed on demand; whole free pages inside a big free block are decommitted.
//
// Simulated layout (nothing of the simulated heap lives in linear memory; each block is a record):
// ╒═══════════ segment (one VM reservation) ═══════════╕
// │ busy │ free │ busy │   uncommitted (UCR)  │ free   │ ...   physical list per segment,
// ╘═════════════════════════════════════════════════════╛      prev/next record links = boundary tags
//   block bytes = alignUp(max(n,1) + HEADER_BYTES, GRANULE_BYTES), at least MIN_BLOCK_BYTES
//   user pointer = block address + HEADER_BYTES (aligned requests: rounded up inside the block)
//
// ╒═══════════════ block record (REC_BYTES = 32) ═══════════════╕
// │ 0 addr u64 │ 8 sizeG u32 │ 12 flags u32 (F U L S, align) │
// │ 16 prevPhys u32 │ 20 nextPhys u32 │ 24 left u32 │ 28 right u32│
// ╘══════════════════════════════════════════════════════════════╛
//   prevPhys bit 31 (PREV_MAYBE_FREE): set when the block was linked behind a free block or its
//   predecessor was freed; not cleared when the predecessor is handed out whole. Clear, it proves
//   the predecessor is not free, so a free does not read the predecessor's record (a cache miss
//   into a random record) to learn that it cannot merge.
//   F: FREE  U: UCR (uncommitted range)  L: LARGE (own reservation)  S: segment sentinel (a zero-size
//   record heading each segment's list, so every block has a predecessor)  bits 8..15: log2(alignment)
//   left/right: free blocks and UCRs, the neighbours in their bucket list (below); dropped records,
//   left = next dropped record. The pool is 64-byte aligned, so no record straddles a cache line.
//
// Finding the lowest fitting block (free blocks when allocating, UCRs when committing more) uses a
// bucket index per segment and kind, instead of a search tree over records:
// ╒═══ segment's index of one kind ═══════════════════════════════════════════════════════════╕
// │ buckets: 2^shift bytes of the reservation each (free: 4 KiB, UCR: 64 KiB); a block belongs  │
// │   to the bucket of its first byte; heads[b] = its lowest block, the rest follow in address  │
// │   order through right (left points back)                                                   │
// │ level 0: u32 per bucket, its largest block (granules): exact                               │
// │ level l+1: u32 per FAN (16) entries of level l, at least their largest (an upper bound);   │
// │   the top level is one node; one SCAN_STOP entry follows the top level                     │
// ╘════════════════════════════════════════════════════════════════════════════════════════════╛
//   A node (FAN u32) is one 64-byte cache line. Segments are also kept in address order (the
//   rank table) with each index's segment maximum (an upper bound too). Lowest block >= g: the
//   first segment whose maximum is >= g, the first entry >= g in each node from the top down, the
//   first block >= g in that bucket's list. A bound above level 0 may be stale high: a node whose
//   scan finds no entry >= g proves its bound wrong, and the scan, which runs on along the level, has found the first entry >= g there (all
//   entries before the node are known below g), so the descent goes on from it; a scan that runs
//   off the level proves the segment has nothing >= g. The bounds above the entries passed drop
//   to g - 1. Every bound stays at least each entry below it (so a raise stops at the first one
//   that already holds the new value).
//   First-fit order is unchanged: only entries >= g are entered. Raising a leaf raises the bounds
//   above it while they are smaller; lowering one changes the leaf only (most cuts shrink the
//   segment's largest block, and lowering every level above it cost a node scan per level).
//   The sample's largest free block tightens the bounds it passes down to exact values.
//
// Invariants (ffCheck returns the number of the first that fails):
//   F1 records of a segment tile it exactly, in address order, prev/next consistent
//   F2 no two adjacent free blocks; no two adjacent UCRs; a block behind a free one has PREV_MAYBE_FREE
//   F3 free and busy blocks lie in committed pages; UCR pages are all uncommitted
//   F4 the rank table is in address order; each index lists every block of its kind exactly once,
//      in the bucket of its first byte, in address order with consistent back links; every
//      bucket maximum equals a recount; every bound above (tree level, segment) is at least the
//      largest entry below it; padding entries are zero; the scan stop is in place; the search
//      hints are non-decreasing and no bucket before a size's hint holds that size
//   F5 counters (free bytes/blocks, busy bytes, UCR count) equal a recount

import { resize } from "../../mem";
import { Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS,
  K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, MAX_HEAPS, RegionType, Usage } from "../../abi";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, poolBytes, reserveForHint } from "../../kit/records";
import { paramInt } from "../../kit/params";
import { counterAdd } from "../../kit/counters";
import { PAGE_SIZE_BYTES, ALLOC_GRANULARITY_BYTES, alignUp, alignDown, KiB, MiB } from "../../vm/constants";
import { vmReserve, vmCommit, vmDecommit, vmRelease, touchPages, vmIsCommitted } from "../../vm/space";
import { CHECKS } from "../../checks";
import { NODE_ENTRIES, max2, nodeMax as nodeMaxAt } from "../textbook/node-max";

// Geometry (our own choices for a generic boundary-tag allocator).
const GRANULE_SHIFT: u64 = 4;
const GRANULE_BYTES: u64 = 1 << GRANULE_SHIFT;   // 16-byte alignment of every block
const HEADER_BYTES: u64 = 16;                      // size + flags, previous size
const MIN_BLOCK_BYTES: u64 = 32;                   // header + two free-list links
const MIN_G: u32 = <u32>(MIN_BLOCK_BYTES >> GRANULE_SHIFT);

// Parameters (slot index in the HEAP_CREATE params block; NaN = default; names in index.ts).
export const FF_DECOMMIT_BLOCK_BYTES = 0;   // default 64 KiB: smallest coalesced free block that is decommitted
export const FF_DECOMMIT_TOTAL_BYTES = 1;   // default 256 KiB: free bytes the heap keeps before it decommits
export const FF_SEGMENT_RESERVE_BYTES = 2;  // default 1 MiB: first segment reservation; later ones double
export const FF_SEGMENT_COMMIT_BYTES = 3;   // default 64 KiB: smallest commit step
export const FF_LARGE_BLOCK_BYTES = 4;      // default 512 KiB: blocks at or above get their own reservation
export const FF_PARAM_COUNT = 5;

const DEFAULT_DECOMMIT_BLOCK_BYTES: u64 = 64 * KiB;
const DEFAULT_DECOMMIT_TOTAL_BYTES: u64 = 256 * KiB;
const DEFAULT_SEGMENT_RESERVE_BYTES: u64 = 1 * MiB;
const DEFAULT_SEGMENT_COMMIT_BYTES: u64 = 64 * KiB;
const DEFAULT_LARGE_BLOCK_BYTES: u64 = 512 * KiB;
const MAX_SEGMENT_RESERVE_BYTES: u64 = 256 * MiB;  // doubling stops here

// Policy counters (kit/counters.ts; names in index.ts, same order).
export const C_DECOMMITS = 0;          // decommit operations on free
export const C_DECOMMITTED_BYTES = 1;  // bytes decommitted, cumulative
export const C_TRIMMED_BYTES = 2;      // bytes decommitted by TRIM, cumulative

// ---------------------------------------------------------------- records

const REC_BYTES: usize = 32;
const R_ADDR: usize = 0;
const R_SIZEG: usize = 8;
const R_FLAGS: usize = 12;
const R_PREV: usize = 16;
const R_NEXT: usize = 20;
const R_LEFT: usize = 24;
const R_RIGHT: usize = 28;
const POOL_ALIGN: usize = 64;
if (R_RIGHT != R_LEFT + 4) ERROR("left and right are read and written as one u64 (left low)");

const FL_BUSY: u32 = 0;
const FL_FREE: u32 = 1;
const FL_UCR: u32 = 2;
const FL_LARGE: u32 = 4;
const FL_SENTINEL: u32 = 8;
const FL_ALIGN_SHIFT: u32 = 8;
const PREV_MAYBE_FREE: u32 = 0x80000000;   // in R_PREV (32-byte records in a 4 GiB memory: indices < 2^27)

// Every first-fit heap's records, one kit pool (dropped records link through R_LEFT).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>R_LEFT, 1024, <u32>POOL_ALIGN);
// Records per live block the pool is sized for from the replay's hint (kit/hint.ts): each busy
// block, and at most one free block or UCR between two busy ones (neighbours merge).
const RECORDS_PER_LIVE_BLOCK: u32 = 2;

// Record n's address in a pool whose base is rb. The hot paths read RECS.base once into a local and
// address every record from it (a load of the pool's base from memory is not kept by the compiler
// across the stores between two record accesses): valid until a record is taken (the pool may move).
// @ts-ignore: decorator
@inline function Rb(rb: usize, n: u32): usize { return rb + <usize>n * REC_BYTES; }
// @ts-ignore: decorator
@inline function R(n: u32): usize { return Rb(RECS.base, n); }
// @ts-ignore: decorator
@inline function addr(n: u32): u64 { return load<u64>(R(n) + R_ADDR); }
// @ts-ignore: decorator
@inline function sizeG(n: u32): u32 { return load<u32>(R(n) + R_SIZEG); }
// @ts-ignore: decorator
@inline function sizeB(n: u32): u64 { return <u64>load<u32>(R(n) + R_SIZEG) << GRANULE_SHIFT; }
// @ts-ignore: decorator
@inline function flags(n: u32): u32 { return load<u32>(R(n) + R_FLAGS); }
// @ts-ignore: decorator
@inline function prevP(n: u32): u32 { return load<u32>(R(n) + R_PREV) & ~PREV_MAYBE_FREE; }
// @ts-ignore: decorator
@inline function prevMaybeFree(n: u32): bool { return (load<u32>(R(n) + R_PREV) & PREV_MAYBE_FREE) != 0; }
// @ts-ignore: decorator
@inline function nextP(n: u32): u32 { return load<u32>(R(n) + R_NEXT); }
// @ts-ignore: decorator
@inline function lft(n: u32): u32 { return load<u32>(R(n) + R_LEFT); }
// @ts-ignore: decorator
@inline function rgt(n: u32): u32 { return load<u32>(R(n) + R_RIGHT); }

// kit takeRecord/dropRecord with the record size a constant (the kit's recordAt loads it from the
// pool): a dropped record is taken back here; a pool without one takes the kit's path (growth).
// @ts-ignore: decorator
@inline function takeRec(): u32 {
  const n = RECS.free;
  if (!n) return takeRecord(RECS);
  RECS.free = load<u32>(R(n) + R_LEFT);
  RECS.inUse++;
  return n;
}

function newRec(a: u64, g: u32, f: u32): u32 {
  const n = takeRec();
  const p = R(n);
  store<u64>(p + R_ADDR, a);
  store<u32>(p + R_SIZEG, g);
  store<u32>(p + R_FLAGS, f);
  store<u64>(p + R_PREV, 0);   // prev and next
  store<u64>(p + R_LEFT, 0);   // left and right
  return n;
}

// @ts-ignore: decorator
@inline function dropRec(n: u32): void { dropRecAt(n, R(n)); }

// dropRec of record n at address p.
// @ts-ignore: decorator
@inline function dropRecAt(n: u32, p: usize): void {
  store<u32>(p + R_FLAGS, 0xFFFFFFFF);
  store<u32>(p + R_LEFT, RECS.free);
  RECS.free = n;
  RECS.inUse--;
}

// ---------------------------------------------------------------- heap state

// ╒═══ heap state (HS_BYTES) ═══╕ one per first-fit heap, in a static table indexed by heap
const HS_BYTES: usize = 128;
const H_RANKS: usize = 0;         // u32 pointer to the rank table (RANK_BYTES per segment)
const H_LARGE_HEAD: usize = 12;   // u32 list of large blocks (linked through prev/next)
const H_FREE_BYTES: usize = 16;   // u64
const H_FREE_BLOCKS: usize = 24;  // u64
const H_BUSY_BYTES: usize = 32;   // u64
const H_UCRS: usize = 40;         // u64
const H_SEGMENTS: usize = 48;     // u64
const H_LARGE_BLOCKS: usize = 56; // u64
const H_LARGE_BYTES: usize = 64;  // u64
const H_NEXT_RESERVE: usize = 72; // u64 next segment reservation size
const H_FREE_MAXES: usize = 80;   // u32 pointer: each segment's largest free block, in rank order
const H_UCR_MAXES: usize = 84;    // u32 pointer: each segment's largest UCR, in rank order
const H_HINTS: usize = 88;        // u32 pointer: the small requests' search hints (HINTS_BYTES, below)
const H_SEG_MEMO: usize = 92;     // u32: 1 + the segment (table index) segOf found last; 0 = none yet
// 96..103 free
const H_P_DBLOCK: usize = 104;    // u32 bytes
const H_P_SEGCOMMIT: usize = 108; // u32 bytes
const H_P_LARGE: usize = 112;     // u32 bytes
const H_P_DTOTAL: usize = 116;    // u32 bytes
const H_SEG_TABLE: usize = 120;   // u32 pointer to the segment table (SEG_BYTES each)
const H_SEG_CAP: usize = 124;     // u32

// ╒═══ segment table entry (SEG_BYTES), in creation order ═══╕
// │ 0 base u64 │ 8 reserve u64 │ 16 sentinel u32 │ 20 rank u32 │
// │ 24 free index (IX_BYTES) │ 24 + IX_BYTES UCR index        │
// ╘═════════════════════════════════════════════════════════╛
const SEG_BYTES: usize = 128;
const SG_BASE: usize = 0;       // u64
const SG_RESERVE: usize = 8;    // u64 bytes
const SG_SENTINEL: usize = 16;  // u32 record
const SG_RANK: usize = 20;      // u32 position in address order (index into the rank table)
const SG_FREE_IX: usize = 24;   // index of the free blocks
const SG_UCR_IX: usize = 72;    // index of the UCRs

// ╒═══ index descriptor (IX_BYTES) ═══╕
// │ 0 shift u32 │ 4 buckets u32 │ 8 top level u32 │ 12 heap-state slot of the maxima u32  │
// │ 16 heads pointer u32 │ 20 level pointers u32 × MAX_LEVELS (level 0 first)           │
// ╘═══════════════════════════════════════════════════════════════════════════════════════╛
const IX_BYTES: usize = 48;
const IX_SHIFT: usize = 0;
const IX_BUCKETS: usize = 4;
const IX_TOP: usize = 8;
const IX_MAXES: usize = 12;
const IX_HEADS: usize = 16;
const IX_LEVELS: usize = 20;
const MAX_LEVELS: u32 = 7;
if (IX_LEVELS + <usize>MAX_LEVELS * 4 > IX_BYTES) ERROR("index descriptor too small");
if (SG_FREE_IX + IX_BYTES > SG_UCR_IX || SG_UCR_IX + IX_BYTES > SEG_BYTES) ERROR("segment entry too small");

const FREE_SHIFT: u32 = 12;     // 4 KiB buckets for free blocks
const UCR_SHIFT: u32 = 16;      // 64 KiB buckets for UCRs (page-aligned, page-sized at least)

// ╒═══ rank table entry (RANK_BYTES): segments sorted by base ═══╕
// │ 0 base u64 │ 8 segment u32 │ 12 padding │
// ╘═════════════════════════════════════════╛
const RANK_BYTES: usize = 16;
const RK_BASE: usize = 0;       // u64 segment base
const RK_SEG: usize = 8;        // u32 segment table index
// Beside it, in the same (rank) order, one u32 array per kind (H_FREE_MAXES, H_UCR_MAXES): each
// segment's largest block of that kind in granules (an upper bound), then a SCAN_STOP entry, so
// finding the first segment that may hold g granules is a plain scan of packed u32s.

const heapState = memory.data(<i32>(HS_BYTES * <usize>MAX_HEAPS));
let owner: u8 = 0;      // heap being operated on (also the VM owner: first-fit heaps sit on the VM)
let hs: usize = 0;

// @ts-ignore: decorator
@inline function ld64(o: usize): u64 { return load<u64>(hs + o); }
// @ts-ignore: decorator
@inline function st64(o: usize, v: u64): void { store<u64>(hs + o, v); }
// @ts-ignore: decorator
@inline function ld32(o: usize): u32 { return load<u32>(hs + o); }
// @ts-ignore: decorator
@inline function st32(o: usize, v: u32): void { store<u32>(hs + o, v); }
// @ts-ignore: decorator
@inline function addStat(o: usize, d: i64): void { store<i64>(hs + o, load<i64>(hs + o) + d); }

// A maxima array for no segment: its SCAN_STOP entry only.
function emptyMaxes(): usize {
  const mx = heap.alloc(MAXES_STOP_BYTES);
  store<u32>(mx, SCAN_STOP);
  return mx;
}

// Makes heapIndex the heap operated on; returns its state (hs), for the hot paths to keep in a local.
// @ts-ignore: decorator
@inline function use(heapIndex: i32): usize {
  owner = <u8>heapIndex;
  const s = heapState + <usize>heapIndex * HS_BYTES;
  hs = s;
  return s;
}

export function ffCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  const dBlockP = paramInt(params, count, FF_DECOMMIT_BLOCK_BYTES, DEFAULT_DECOMMIT_BLOCK_BYTES);
  const dTotalP = paramInt(params, count, FF_DECOMMIT_TOTAL_BYTES, DEFAULT_DECOMMIT_TOTAL_BYTES);
  const segResP = paramInt(params, count, FF_SEGMENT_RESERVE_BYTES, DEFAULT_SEGMENT_RESERVE_BYTES);
  const segComP = paramInt(params, count, FF_SEGMENT_COMMIT_BYTES, DEFAULT_SEGMENT_COMMIT_BYTES);
  const largeP = paramInt(params, count, FF_LARGE_BLOCK_BYTES, DEFAULT_LARGE_BLOCK_BYTES);
  if (dBlockP < 0 || dTotalP < 0 || segResP < 0 || segComP < 0 || largeP < 0) return Status.BAD_PARAM;
  const dBlock = <u64>dBlockP, dTotal = <u64>dTotalP, segRes = <u64>segResP, segCom = <u64>segComP, large = <u64>largeP;
  if (segRes < ALLOC_GRANULARITY_BYTES || segRes > MAX_SEGMENT_RESERVE_BYTES) return Status.BAD_PARAM;
  if (segCom < PAGE_SIZE_BYTES || segCom > segRes) return Status.BAD_PARAM;
  if (large < MIN_BLOCK_BYTES * 2 || large > segRes) return Status.BAD_PARAM;
  if (dBlock > 0xFFFFFFFF || dTotal > 0xFFFFFFFF) return Status.BAD_PARAM;
  use(heapIndex);
  reserveForHint(RECS, RECORDS_PER_LIVE_BLOCK);
  memory.fill(hs, 0, HS_BYTES);
  st32(H_FREE_MAXES, <u32>emptyMaxes());
  st32(H_UCR_MAXES, <u32>emptyMaxes());
  const hints = heap.alloc(HINTS_BYTES);
  memory.fill(hints, 0, HINTS_BYTES);
  st32(H_HINTS, <u32>hints);
  st64(H_NEXT_RESERVE, alignUp(segRes, ALLOC_GRANULARITY_BYTES));
  st32(H_P_DBLOCK, <u32>dBlock);
  st32(H_P_DTOTAL, <u32>dTotal);
  st32(H_P_SEGCOMMIT, <u32>alignUp(segCom, PAGE_SIZE_BYTES));
  st32(H_P_LARGE, <u32>large);
  return Status.OK;
}

// Engine bytes per record, for the memory benchmark.
export function ffRecordBytes(): usize { return REC_BYTES; }
// Engine bytes of the record pool and every segment's indexes.
export function ffEngineBytes(): usize { return poolBytes(RECS) + indexBytes; }

// ---------------------------------------------------------------- segments

// @ts-ignore: decorator
@inline function segEntry(i: u32): usize { return <usize>ld32(H_SEG_TABLE) + <usize>i * SEG_BYTES; }

// Sets a's successor to b (b may be 0 = segment end); b learns whether a is free.
// @ts-ignore: decorator
@inline function linkAfter(a: u32, b: u32): void { linkAfterIn(RECS.base, a, b); }

// linkAfter in the pool at rb.
// @ts-ignore: decorator
@inline function linkAfterIn(rb: usize, a: u32, b: u32): void {
  const pa = Rb(rb, a);
  store<u32>(pa + R_NEXT, b);
  if (b) store<u32>(Rb(rb, b) + R_PREV, a | (load<u32>(pa + R_FLAGS) == FL_FREE ? PREV_MAYBE_FREE : 0));
}

// The segment entry whose reservation holds address a: the one found last when it holds a (a
// segment's base and size never change; nearly every time), else segSearch.
// @ts-ignore: decorator
@inline function segOf(a: u64): usize { return segOfIn(hs, a); }

// segOf of the heap whose state is at s.
// @ts-ignore: decorator
@inline function segOfIn(s: usize, a: u64): usize {
  const memo = load<u32>(s + H_SEG_MEMO);
  if (memo) {
    const m = <usize>load<u32>(s + H_SEG_TABLE) + <usize>(memo - 1) * SEG_BYTES;
    if (a - load<u64>(m + SG_BASE) < load<u64>(m + SG_RESERVE)) return m;
  }
  return segSearch(a);
}

// segOf by a binary search of the rank table; its answer becomes the memo.
function segSearch(a: u64): usize {
  const ranks = <usize>ld32(H_RANKS);
  let lo: u32 = 0, hi = <u32>ld64(H_SEGMENTS);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (load<u64>(ranks + <usize>mid * RANK_BYTES + RK_BASE) <= a) lo = mid; else hi = mid;
  }
  const s = load<u32>(ranks + <usize>lo * RANK_BYTES + RK_SEG);
  st32(H_SEG_MEMO, s + 1);
  return segEntry(s);
}

// ---------------------------------------------------------------- bucket indexes
// `ix` = segment entry + SG_FREE_IX or SG_UCR_IX; `e` = the segment entry.

const FAN_SHIFT: usize = 4;
const FAN: usize = 1 << FAN_SHIFT;            // 16 u32 maxima per node = one cache line
const NODE_BYTES: usize = FAN * 4;

let indexBytes: usize = 0;     // engine bytes of every segment's heads and maxima trees

// Where the last ixFirstFit found its block: segment entry and bucket.
let foundSeg: usize = 0;
let foundBucket: u32 = 0;

// @ts-ignore: decorator
@inline function levelPtr(ix: usize, l: u32): usize { return <usize>load<u32>(ix + IX_LEVELS + (<usize>l << 2)); }
// @ts-ignore: decorator
@inline function headSlot(ix: usize, b: u32): usize { return <usize>load<u32>(ix + IX_HEADS) + (<usize>b << 2); }
// @ts-ignore: decorator
@inline function leafSlot(ix: usize, b: u32): usize { return <usize>load<u32>(ix + IX_LEVELS) + (<usize>b << 2); }
// @ts-ignore: decorator
@inline function bucketOf(e: usize, ix: usize, a: u64): u32 {
  return <u32>((a - load<u64>(e + SG_BASE)) >> <u64>load<u32>(ix + IX_SHIFT));
}
// @ts-ignore: decorator
@inline function padNodes(count: u32): usize { return (<usize>count + FAN - 1) & ~(FAN - 1); }

// Entries on level l of a tree over nb buckets.
function levelCount(nb: u32, l: u32): u32 {
  let c = nb;
  for (let i: u32 = 0; i < l; i++) c = (c + <u32>FAN - 1) >> <u32>FAN_SHIFT;
  return c;
}

// Every level's entries and the scan stop behind the top level.
function ixEntries(nb: u32, top: u32): usize {
  let entries: usize = 1;
  for (let l: u32 = 0; l <= top; l++) entries += padNodes(levelCount(nb, l));
  return entries;
}

// Behind the top level: an entry no request exceeds, so a node scan that finds nothing >= g in its
// node ends here at the latest (it runs on through later nodes and levels, all of them this
// allocation's own entries) without a bound test per entry.
const SCAN_STOP: u32 = 0xFFFFFFFF;
const MAXES_STOP_BYTES: usize = 4;   // the SCAN_STOP entry behind each maxima array

// Allocates the empty index at ix for a reservation of `reserve` bytes.
function ixCreate(ix: usize, reserve: u64, shift: u32, maxes: usize): void {
  const nb = <u32>((reserve + (<u64>1 << shift) - 1) >> shift);
  let top: u32 = 0;
  while (levelCount(nb, top) > <u32>FAN) top++;
  if (top >= MAX_LEVELS) unreachable();
  const entries = ixEntries(nb, top);
  const tree = heap.alloc(entries << 2);
  memory.fill(tree, 0, entries << 2);
  const heads = heap.alloc(<usize>nb << 2);
  memory.fill(heads, 0, <usize>nb << 2);
  indexBytes += (entries << 2) + (<usize>nb << 2);
  store<u32>(ix + IX_SHIFT, shift);
  store<u32>(ix + IX_BUCKETS, nb);
  store<u32>(ix + IX_TOP, top);
  store<u32>(ix + IX_MAXES, <u32>maxes);
  store<u32>(ix + IX_HEADS, <u32>heads);
  let p = tree;
  for (let l: u32 = 0; l <= top; l++) {
    store<u32>(ix + IX_LEVELS + (<usize>l << 2), <u32>p);
    p += padNodes(levelCount(nb, l)) << 2;
  }
  store<u32>(p, SCAN_STOP);
}

function ixDestroy(ix: usize): void {
  const nb = load<u32>(ix + IX_BUCKETS);
  indexBytes -= (ixEntries(nb, load<u32>(ix + IX_TOP)) << 2) + (<usize>nb << 2);
  heap.free(levelPtr(ix, 0));
  heap.free(<usize>load<u32>(ix + IX_HEADS));
}

// Largest of the FAN entries of node x on the level starting at p (textbook/node-max.ts).
if (<u32>FAN != NODE_ENTRIES) ERROR("first-fit's nodes are node-max.ts's");
// @ts-ignore: decorator
@inline function nodeMax(p: usize, x: usize): u32 { return nodeMaxAt(p + x * NODE_BYTES); }

// Sets bucket b's maximum to m. Raising raises the bounds above while they are below m (one
// already >= m ends the walk: it bounds the new maximum too); lowering leaves them as they are.
// Inline in its callers (the index's out-of-line updates): a call per raise cost more.
// @ts-ignore: decorator
@inline function ixSetMax(e: usize, ix: usize, b: u32, m: u32): void {
  const leaf = leafSlot(ix, b);
  const old = load<u32>(leaf);
  store<u32>(leaf, m);
  if (m <= old) return;
  if (ix - e == SG_FREE_IX) hintsLower(load<u32>(e + SG_RANK), b, m);
  const top = load<u32>(ix + IX_TOP);
  let x = <usize>b;
  for (let l: u32 = 1; l <= top; l++) {
    x >>= FAN_SHIFT;
    const q = levelPtr(ix, l) + (x << 2);
    if (load<u32>(q) >= m) return;
    store<u32>(q, m);
  }
  const rk = <usize>ld32(<usize>load<u32>(ix + IX_MAXES)) + (<usize>load<u32>(e + SG_RANK) << 2);
  if (load<u32>(rk) < m) store<u32>(rk, m);
}

// The exact largest entry under node x of level l (level 0: bucket maxima), storing the exact
// value of every bound it passes: a child is entered only while its bound exceeds the largest
// value found so far.
function ixExactMax(ix: usize, l: u32, x: usize): u32 {
  const q = levelPtr(ix, l) + x * NODE_BYTES;
  let best: u32 = 0;
  for (let j: usize = 0; j < FAN; j++) {
    const v = load<u32>(q + (j << 2));
    if (v <= best) continue;
    if (!l) { best = v; continue; }
    const m = ixExactMax(ix, l - 1, (x << FAN_SHIFT) + j);
    if (m != v) store<u32>(q + (j << 2), m);
    if (m > best) best = m;
  }
  return best;
}

// Largest block in bucket b's list.
function bucketMax(ix: usize, b: u32): u32 {
  const rb = RECS.base;
  let m: u32 = 0;
  let t = load<u32>(headSlot(ix, b));
  while (t) {
    const pt = Rb(rb, t);
    const g = load<u32>(pt + R_SIZEG);
    if (g > m) m = g;
    t = load<u32>(pt + R_RIGHT);
  }
  return m;
}

// Makes n the head of bucket b's list.
// @ts-ignore: decorator
@inline function pushHead(ix: usize, b: u32, n: u32): void { pushHeadIn(RECS.base, ix, b, n); }

// pushHead in the pool at rb.
// @ts-ignore: decorator
@inline function pushHeadIn(rb: usize, ix: usize, b: u32, n: u32): void {
  const hp = headSlot(ix, b);
  const h = load<u32>(hp);
  store<u64>(Rb(rb, n) + R_LEFT, <u64>h << 32);   // left 0, right h
  if (h) store<u32>(Rb(rb, h) + R_LEFT, n);
  store<u32>(hp, n);
}

// Adds record n (address and size set) to the index.
function ixInsert(e: usize, ix: usize, n: u32): void {
  const rb = RECS.base;
  const pn = Rb(rb, n);
  const a = load<u64>(pn + R_ADDR);
  const b = bucketOf(e, ix, a);
  const h = load<u32>(headSlot(ix, b));
  if (!h || a < load<u64>(Rb(rb, h) + R_ADDR)) {
    pushHeadIn(rb, ix, b, n);
  } else {
    let t = h;
    let r: u32;
    while (true) {
      r = load<u32>(Rb(rb, t) + R_RIGHT);
      if (!r || a < load<u64>(Rb(rb, r) + R_ADDR)) break;
      t = r;
    }
    store<u64>(pn + R_LEFT, <u64>t | (<u64>r << 32));   // left t, right r
    store<u32>(Rb(rb, t) + R_RIGHT, n);
    if (r) store<u32>(Rb(rb, r) + R_LEFT, n);
  }
  const g = load<u32>(pn + R_SIZEG);
  if (g > load<u32>(leafSlot(ix, b))) ixSetMax(e, ix, b, g);
}

// Takes record n out of bucket b's list and repairs the maximum.
function ixRemoveAt(e: usize, ix: usize, b: u32, n: u32): void {
  const rb = RECS.base;
  const pn = Rb(rb, n);
  const l = load<u32>(pn + R_LEFT), r = load<u32>(pn + R_RIGHT);
  if (l) store<u32>(Rb(rb, l) + R_RIGHT, r); else store<u32>(headSlot(ix, b), r);
  if (r) store<u32>(Rb(rb, r) + R_LEFT, l);
  const leaf = leafSlot(ix, b);
  if (load<u32>(pn + R_SIZEG) == load<u32>(leaf)) store<u32>(leaf, bucketMax(ix, b));   // lowered: the leaf only (ixSetMax)
}

// @ts-ignore: decorator
@inline function ixRemove(e: usize, ix: usize, n: u32): void { ixRemoveAt(e, ix, bucketOf(e, ix, addr(n)), n); }

// Record n (not in the index) takes the place of q, the next record of its kind, and absorbs it.
function ixAbsorbNext(e: usize, ix: usize, n: u32, q: u32): void {
  const rb = RECS.base;
  const pn = Rb(rb, n), pq = Rb(rb, q);
  const b = bucketOf(e, ix, load<u64>(pn + R_ADDR));
  if (bucketOf(e, ix, load<u64>(pq + R_ADDR)) != b) {
    ixRemove(e, ix, q);
    store<u32>(pn + R_SIZEG, load<u32>(pn + R_SIZEG) + load<u32>(pq + R_SIZEG));
    ixInsert(e, ix, n);
    return;
  }
  // Same bucket, and nothing of the kind lies between n and q: n takes q's links.
  const links = load<u64>(pq + R_LEFT);
  const l = <u32>links, r = <u32>(links >> 32);
  store<u64>(pn + R_LEFT, links);
  if (l) store<u32>(Rb(rb, l) + R_RIGHT, n); else store<u32>(headSlot(ix, b), n);
  if (r) store<u32>(Rb(rb, r) + R_LEFT, n);
  const g = load<u32>(pn + R_SIZEG) + load<u32>(pq + R_SIZEG);
  store<u32>(pn + R_SIZEG, g);
  if (g > load<u32>(leafSlot(ix, b))) ixSetMax(e, ix, b, g);
}

// Record n (in the index) grew without moving.
function ixGrew(e: usize, ix: usize, n: u32): void {
  const pn = R(n);
  const b = bucketOf(e, ix, load<u64>(pn + R_ADDR));
  const g = load<u32>(pn + R_SIZEG);
  if (g > load<u32>(leafSlot(ix, b))) ixSetMax(e, ix, b, g);
}

// Record n (in the index) loses its first bytes: it now starts at a with g granules.
function ixCutFront(e: usize, ix: usize, n: u32, a: u64, g: u32): void {
  const b0 = bucketOf(e, ix, addr(n)), b1 = bucketOf(e, ix, a);
  if (b1 == b0) {
    const old = sizeG(n);
    store<u64>(R(n) + R_ADDR, a);
    store<u32>(R(n) + R_SIZEG, g);
    const leaf = leafSlot(ix, b0);
    if (old == load<u32>(leaf)) store<u32>(leaf, lft(n) | rgt(n) ? bucketMax(ix, b0) : g);   // lowered (ixSetMax)
    return;
  }
  // n reached past the end of b0, so it was the last block there; nothing of its kind starts in b1
  // before a (n covered that), so it becomes the head of b1.
  if (CHECKS) assert(!rgt(n), "cut block was not last in its bucket");
  ixRemoveAt(e, ix, b0, n);
  store<u64>(R(n) + R_ADDR, a);
  store<u32>(R(n) + R_SIZEG, g);
  if (CHECKS) assert(!load<u32>(headSlot(ix, b1)) || addr(load<u32>(headSlot(ix, b1))) > a, "cut block is not first in its bucket");
  pushHead(ix, b1, n);
  if (g > load<u32>(leafSlot(ix, b1))) ixSetMax(e, ix, b1, g);
}

// ixCutFront for free block f of `fg` granules that ixFirstFit has just found (in foundBucket of
// segment e's free index): when the rest still starts in that bucket (most cuts), the record and
// the bucket maximum are set here, without ixCutFront's call and bucket arithmetic.
// @ts-ignore: decorator
@inline function cutFreeFront(e: usize, ix: usize, f: u32, pf: usize, fg: u32, a: u64, g: u32): void {
  const b = foundBucket;
  if (<u32>((a - load<u64>(e + SG_BASE)) >> <u64>FREE_SHIFT) != b) { ixCutFront(e, ix, f, a, g); return; }
  store<u64>(pf + R_ADDR, a);
  store<u32>(pf + R_SIZEG, g);
  const leaf = leafSlot(ix, b);
  if (fg == load<u32>(leaf)) store<u32>(leaf, load<u64>(pf + R_LEFT) ? bucketMax(ix, b) : g);   // lowered (ixSetMax); left or right
}

// Lowers the bounds in [from, to) that are >= g to g - 1 (the caller knows all below them are < g).
function clampBounds(from: usize, to: usize, g: u32): void {
  for (let a = from; a < to; a += 4) if (load<u32>(a) >= g) store<u32>(a, g - 1);
}

// Lowest-address record of at least g granules in the index at SG offset `which` (maxima array at
// heap-state slot `maxes`), 0 if none; sets foundSeg and foundBucket.
function ixFirstFit(which: usize, maxes: usize, g: u32): u32 { return ixFirstFitFrom(which, maxes, g, 0); }

// ixFirstFit from the segment of rank r0 on: the caller knows that no segment before it holds g.
function ixFirstFitFrom(which: usize, maxes: usize, g: u32, r0: u32): u32 {
  const ranks = <usize>ld32(H_RANKS);
  const segs = <u32>ld64(H_SEGMENTS);
  const mx = <usize>ld32(maxes);
  for (let r = r0; ; r++) {
    while (load<u32>(mx + (<usize>r << 2)) < g) r++;   // ends at the SCAN_STOP behind the last at the latest
    if (r >= segs) return 0;
    const e = segEntry(load<u32>(ranks + <usize>r * RANK_BYTES + RK_SEG));
    const ix = e + which;
    const top = load<u32>(ix + IX_TOP);
    const x = ixDescend(ix, top, top, 0, g, mx + (<usize>r << 2), top);
    if (x < 0) continue;
    foundSeg = e;
    foundBucket = <u32>x;
    return firstInBucket(ix, <u32>x, g);
  }
}

// The first block of at least g granules in bucket b, which holds one.
// @ts-ignore: decorator
@inline function firstInBucket(ix: usize, b: u32, g: u32): u32 {
  const rb = RECS.base;
  let t = load<u32>(headSlot(ix, b));
  while (true) {
    const pt = Rb(rb, t);
    if (load<u32>(pt + R_SIZEG) >= g) break;
    t = load<u32>(pt + R_RIGHT);
    if (CHECKS) assert(t, "bucket maximum above every block in the bucket");
  }
  return t;
}

// The descent of the index at ix (top level `top`) from node x0 of level l0: the first bucket whose
// maximum is >= g, when every bucket before node x0's subtree holds less (the caller knows); -1 if
// the segment has none (its maximum at rp is then lowered to the top node's largest bound).
// Bounds are lowered only up to level `clampTop`: above the levels this descent scanned from
// their node's start, a bound's node may hold entries before the path, not scanned, which stay as
// they are (a bound lowered below one of them would stop a later raise too early).
function ixDescend(ix: usize, top: u32, l0: u32, x0: usize, g: u32, rp: usize, clampTop: u32): i32 {
  let x = x0;
  for (let l = <i32>l0; l >= 0; l--) {
    const p = levelPtr(ix, <u32>l);
    const q = p + x * NODE_BYTES;
    let j: usize = 0;
    while (load<u32>(q + (j << 2)) < g) j++;   // ends at SCAN_STOP at the latest
    if (j >= FAN) {
      // Nothing in node x reaches g: the bound above it was stale. The scan went on to the
      // first entry >= g behind the node: if it is still on this level, it is the first on the
      // level that can serve g (every bucket before it holds less), so the descent goes on from
      // there; else the segment has nothing >= g. Either way the bounds above the entries
      // passed are lowered to g - 1 (still at least every entry below them).
      const k = (x << FAN_SHIFT) + j;
      if (<u32>l == top || p + (k << 2) >= levelPtr(ix, <u32>l + 1)) {
        for (let u = <u32>l + 1; u <= clampTop; u++) {
          const pu = levelPtr(ix, u);
          clampBounds(pu + (x << 2), u == top ? pu + NODE_BYTES : levelPtr(ix, u + 1), g);
          x >>= FAN_SHIFT;
        }
        store<u32>(rp, nodeMax(levelPtr(ix, top), 0));
        return -1;
      }
      const pu = levelPtr(ix, <u32>l + 1);
      clampBounds(pu + (x << 2), pu + ((k >> FAN_SHIFT) << 2), g);
      x = k;
      continue;
    }
    x = (x << FAN_SHIFT) + j;
  }
  return <i32>x;
}

// ---------------------------------------------------------------- search hints
// A request of g <= HINT_G_MAX granules (nearly every request of a real program: most are a few
// granules) starts its search at its size's hint, a position (segment rank, free bucket) before
// which no bucket holds a free block of g granules or more. The hint is the bucket where the last
// search of that size found its block (first-fit order: every bucket before it held less); a free
// block of m granules entering a bucket before the hint of a size <= m moves that hint back to
// it (ixSetMax's raise, the one place where a bucket maximum grows). From the hint the search
// climbs: the rest of the hint's leaf node, then the rest of each ancestor's node, and descends
// from the first entry >= g. Most searches end in the hint's own leaf node.
// Hints are kept non-decreasing in g (a bucket that holds less than g holds less than any larger
// size), so moving hints back stops at the first that is not ahead, and moving one forward pushes
// the larger sizes' hints along. A new segment (ranks shift) resets every hint to the start.
const HINT_G_MAX: u32 = 8;
const HINTS_BYTES: usize = (<usize>HINT_G_MAX + 1) << 3;   // u64 per g in [0, HINT_G_MAX]: rank << 32 | bucket

// @ts-ignore: decorator
@inline function hintKey(rank: u32, b: u32): u64 { return (<u64>rank << 32) | <u64>b; }

// Bucket b of the segment of rank `rank` now holds a free block of m granules.
// @ts-ignore: decorator
@inline function hintsLower(rank: u32, b: u32, m: u32): void {
  const key = hintKey(rank, b);
  const hints = <usize>ld32(H_HINTS);
  let g = m < HINT_G_MAX ? m : HINT_G_MAX;
  while (g >= MIN_G) {
    const slot = hints + (<usize>g << 3);
    if (load<u64>(slot) <= key) return;
    store<u64>(slot, key);
    g--;
  }
}

// The search of a request of g <= HINT_G_MAX granules found its block at key: no bucket before it
// holds g or more, nor any larger size up to HINT_G_MAX.
// @ts-ignore: decorator
@inline function hintsRaise(s: usize, g: u32, key: u64): void {
  const hints = <usize>load<u32>(s + H_HINTS);
  for (let h = g; h <= HINT_G_MAX; h++) {
    const slot = hints + (<usize>h << 3);
    if (load<u64>(slot) >= key) return;
    store<u64>(slot, key);
  }
}

function resetHints(): void { memory.fill(<usize>ld32(H_HINTS), 0, HINTS_BYTES); }

// ixFirstFit of the free index for g <= HINT_G_MAX, from g's hint (inlined into ffAllocInline).
// @ts-ignore: decorator
@inline function freeFirstFitHinted(s: usize, g: u32): u32 {
  const hint = load<u64>(<usize>load<u32>(s + H_HINTS) + (<usize>g << 3));
  const hr = <u32>(hint >> 32);
  const mx = <usize>load<u32>(s + H_FREE_MAXES);
  const rp = mx + (<usize>hr << 2);
  const segs = <u32>load<u64>(s + H_SEGMENTS);
  if (hr < segs && load<u32>(rp) >= g) {   // (a hint's rank is below the count, or 0)
    const e = <usize>load<u32>(s + H_SEG_TABLE) +
      <usize>load<u32>(<usize>load<u32>(s + H_RANKS) + <usize>hr * RANK_BYTES + RK_SEG) * SEG_BYTES;
    const ix = e + SG_FREE_IX;
    const top = load<u32>(ix + IX_TOP);
    // Climb: the hint's bucket and the rest of its leaf node, then after each ancestor the rest
    // of the ancestor's node, up to the first entry >= g.
    let anc = <usize><u32>hint;
    let p = levelPtr(ix, 0);
    let j = anc;
    let end = (anc | (FAN - 1)) + 1;
    let l: u32 = 0;
    let x: i32 = -1;
    while (true) {
      while (j < end && load<u32>(p + (j << 2)) < g) j++;
      if (j < end) {
        x = l ? ixDescend(ix, top, l - 1, j, g, rp, l) : <i32>j;
        break;
      }
      if (l == top) break;
      l++;
      anc >>= FAN_SHIFT;
      p = levelPtr(ix, l);
      j = anc + 1;
      end = (anc | (FAN - 1)) + 1;
    }
    if (x >= 0) {
      foundSeg = e;
      foundBucket = <u32>x;
      hintsRaise(s, g, hintKey(hr, <u32>x));
      return firstInBucket(ix, <u32>x, g);
    }
  }
  const f = ixFirstFitFrom(SG_FREE_IX, H_FREE_MAXES, g, hr < segs ? hr + 1 : segs);
  if (f) hintsRaise(s, g, hintKey(load<u32>(foundSeg + SG_RANK), foundBucket));
  return f;
}

// Largest free block of the heap (granules); makes every bound it passes exact.
function largestFree(): u32 {
  const ranks = <usize>ld32(H_RANKS);
  const segs = <u32>ld64(H_SEGMENTS);
  const mx = <usize>ld32(H_FREE_MAXES);
  let m: u32 = 0;
  for (let r: u32 = 0; r < segs; r++) {
    const rp = mx + (<usize>r << 2);
    let v = load<u32>(rp);
    if (v <= m) continue;
    const ix = segEntry(load<u32>(ranks + <usize>r * RANK_BYTES + RK_SEG)) + SG_FREE_IX;
    v = ixExactMax(ix, load<u32>(ix + IX_TOP), 0);
    store<u32>(rp, v);
    if (v > m) m = v;
  }
  return m;
}

// ---------------------------------------------------------------- segments and UCRs

function addSegment(needBytes: u64): bool {
  let reserve = ld64(H_NEXT_RESERVE);
  const minimum = alignUp(needBytes + PAGE_SIZE_BYTES, ALLOC_GRANULARITY_BYTES);
  if (reserve < minimum) reserve = minimum;
  let base = vmReserve(reserve, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  // On failure halve the reservation down to what the request needs (as NT's RtlpExtendHeap does).
  while (!base && reserve > minimum) {
    reserve = alignUp(reserve >> 1, ALLOC_GRANULARITY_BYTES);
    if (reserve < minimum) reserve = minimum;
    base = vmReserve(reserve, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  }
  if (!base) return false;
  const next = ld64(H_NEXT_RESERVE) << 1;
  st64(H_NEXT_RESERVE, next > MAX_SEGMENT_RESERVE_BYTES ? MAX_SEGMENT_RESERVE_BYTES : next);
  const segs = <u32>ld64(H_SEGMENTS);
  if (segs == ld32(H_SEG_CAP)) {
    const cap = segs ? segs * 2 : 8;
    st32(H_SEG_TABLE, <u32>resize(<usize>ld32(H_SEG_TABLE), <usize>cap * SEG_BYTES));
    st32(H_RANKS, <u32>resize(<usize>ld32(H_RANKS), <usize>cap * RANK_BYTES));
    st32(H_FREE_MAXES, <u32>resize(<usize>ld32(H_FREE_MAXES), (<usize>cap << 2) + MAXES_STOP_BYTES));
    st32(H_UCR_MAXES, <u32>resize(<usize>ld32(H_UCR_MAXES), (<usize>cap << 2) + MAXES_STOP_BYTES));
    st32(H_SEG_CAP, cap);
  }
  const sentinel = newRec(base, 0, FL_SENTINEL);
  const u = newRec(base, <u32>(reserve >> GRANULE_SHIFT), FL_UCR);
  linkAfter(sentinel, u);
  const e = segEntry(segs);
  store<u64>(e + SG_BASE, base);
  store<u64>(e + SG_RESERVE, reserve);
  store<u32>(e + SG_SENTINEL, sentinel);
  ixCreate(e + SG_FREE_IX, reserve, FREE_SHIFT, H_FREE_MAXES);
  ixCreate(e + SG_UCR_IX, reserve, UCR_SHIFT, H_UCR_MAXES);
  // The rank table: shift the segments above base up by one.
  const ranks = <usize>ld32(H_RANKS);
  const fmx = <usize>ld32(H_FREE_MAXES), umx = <usize>ld32(H_UCR_MAXES);
  // The stop entries move up by one with the rest.
  store<u32>(fmx + (<usize>(segs + 1) << 2), SCAN_STOP);
  store<u32>(umx + (<usize>(segs + 1) << 2), SCAN_STOP);
  let k = segs;
  while (k > 0 && load<u64>(ranks + <usize>(k - 1) * RANK_BYTES + RK_BASE) > base) {
    const from = ranks + <usize>(k - 1) * RANK_BYTES;
    memory.copy(from + RANK_BYTES, from, RANK_BYTES);
    store<u32>(fmx + (<usize>k << 2), load<u32>(fmx + (<usize>(k - 1) << 2)));
    store<u32>(umx + (<usize>k << 2), load<u32>(umx + (<usize>(k - 1) << 2)));
    store<u32>(segEntry(load<u32>(from + RK_SEG)) + SG_RANK, k);
    k--;
  }
  const rp = ranks + <usize>k * RANK_BYTES;
  store<u32>(fmx + (<usize>k << 2), 0);
  store<u32>(umx + (<usize>k << 2), 0);
  store<u64>(rp + RK_BASE, base);
  store<u32>(rp + RK_SEG, segs);
  store<u32>(e + SG_RANK, k);
  st64(H_SEGMENTS, segs + 1);
  st64(H_UCRS, ld64(H_UCRS) + 1);
  resetHints();
  ixInsert(e, e + SG_UCR_IX, u);
  return true;
}

// Merges free block n (counted in the free bytes, not yet in the index) of segment e with free
// neighbours and puts the result in the free index; returns the surviving record.
function insertFree(e: usize, n: u32): u32 { return insertFreeInline(RECS.base, hs, e, n); }

// insertFree's body, inlined into ffFreeInline (the free of every op); rb = RECS.base, s = hs.
// @ts-ignore: decorator
@inline function insertFreeInline(rb: usize, s: usize, e: usize, n: u32): u32 {
  const ix = e + SG_FREE_IX;
  const pn = Rb(rb, n);
  const prevWord = load<u32>(pn + R_PREV);
  const p = prevWord & ~PREV_MAYBE_FREE, q = load<u32>(pn + R_NEXT);
  let result = n;
  let blocks: i64 = 1;
  if ((prevWord & PREV_MAYBE_FREE) && load<u32>(Rb(rb, p) + R_FLAGS) == FL_FREE) {
    // Absorb n into p: p keeps its address and place; its bucket's maximum can only grow.
    const pp = Rb(rb, p);
    store<u32>(pp + R_SIZEG, load<u32>(pp + R_SIZEG) + load<u32>(pn + R_SIZEG));
    linkAfterIn(rb, p, q);
    dropRecAt(n, pn);
    result = p;
    blocks--;
  }
  const pq = Rb(rb, q);
  if (q && load<u32>(pq + R_FLAGS) == FL_FREE) {
    if (result == n) {
      ixAbsorbNext(e, ix, n, q);
    } else {
      ixRemove(e, ix, q);
      const pr = Rb(rb, result);
      store<u32>(pr + R_SIZEG, load<u32>(pr + R_SIZEG) + load<u32>(pq + R_SIZEG));
      ixGrew(e, ix, result);
    }
    linkAfterIn(rb, result, load<u32>(pq + R_NEXT));
    dropRecAt(q, pq);
    blocks--;
  } else if (result == n) {
    ixInsert(e, ix, n);
    if (q) store<u32>(pq + R_PREV, n | PREV_MAYBE_FREE);
  } else {
    ixGrew(e, ix, result);
  }
  store<i64>(s + H_FREE_BLOCKS, load<i64>(s + H_FREE_BLOCKS) + blocks);
  return result;
}

// Commits room for `needBytes` at the lowest UCR that fits; the new pages become a free block.
function extend(needBytes: u64): bool {
  const step = <u64>ld32(H_P_SEGCOMMIT);
  const want = alignUp(needBytes, PAGE_SIZE_BYTES);
  let u = ixFirstFit(SG_UCR_IX, H_UCR_MAXES, <u32>(want >> GRANULE_SHIFT));
  if (!u) {
    if (!addSegment(needBytes)) return false;
    u = ixFirstFit(SG_UCR_IX, H_UCR_MAXES, <u32>(want >> GRANULE_SHIFT));
    if (!u) return false;
  }
  const e = foundSeg, uix = e + SG_UCR_IX;
  const ua = addr(u), ub = sizeB(u);
  let c = want > step ? want : step;
  if (c > ub) c = ub;
  if (vmCommit(ua, c) != Status.OK) return false;
  const f = newRec(ua, <u32>(c >> GRANULE_SHIFT), FL_FREE);
  const before = prevP(u);
  linkAfter(before, f);
  if (c == ub) {
    ixRemoveAt(e, uix, foundBucket, u);
    addStat(H_UCRS, -1);
    linkAfter(f, nextP(u));
    dropRec(u);
  } else {
    // The UCR shrinks from the front and stays between the same neighbours.
    ixCutFront(e, uix, u, ua + c, <u32>((ub - c) >> GRANULE_SHIFT));
    linkAfter(f, u);
  }
  touchPages(ua, HEADER_BYTES, owner);
  addStat(H_FREE_BYTES, <i64>c);
  insertFree(e, f);
  return true;
}

// The decommit rule for free block f (in the free index): it is at least the decommit block size
// and the heap keeps at least the decommit total free. Checked before calling maybeDecommit, so
// the common free (no decommit) makes no call.
// @ts-ignore: decorator
@inline function decommitDue(f: u32): bool {
  return sizeB(f) >= <u64>ld32(H_P_DBLOCK) && ld64(H_FREE_BYTES) >= <u64>ld32(H_P_DTOTAL);
}

// Decommits the whole pages inside free block f (in the free index) if the rule says so or `force`.
// The head and tail pieces stay free blocks; the pages become a UCR merged with UCR neighbours.
function maybeDecommit(sg: usize, f: u32, force: bool): u64 {
  const s = sizeB(f);
  if (!force && !decommitDue(f)) return 0;
  const a = addr(f), e = a + s;
  let ps = alignUp(a, PAGE_SIZE_BYTES), pe = alignDown(e, PAGE_SIZE_BYTES);
  // Leave no piece smaller than a minimum block: give such a sliver a whole page instead.
  if (ps > a && ps - a < MIN_BLOCK_BYTES) ps += PAGE_SIZE_BYTES;
  if (pe < e && e - pe < MIN_BLOCK_BYTES) pe -= PAGE_SIZE_BYTES;
  if (pe <= ps) return 0;
  const bytes = pe - ps;
  if (vmDecommit(ps, bytes) != Status.OK) return 0;
  const fix = sg + SG_FREE_IX, uix = sg + SG_UCR_IX;
  const before = prevP(f), after = nextP(f);
  ixRemove(sg, fix, f);
  let blocks: i64 = -1;
  // Head piece.
  let left: u32 = before;
  if (ps > a) {
    const h = newRec(a, <u32>((ps - a) >> GRANULE_SHIFT), FL_FREE);
    linkAfter(before, h);
    ixInsert(sg, fix, h);
    blocks++;
    left = h;
  }
  // Tail piece.
  let right: u32 = after;
  if (pe < e) {
    const t = newRec(pe, <u32>((e - pe) >> GRANULE_SHIFT), FL_FREE);
    linkAfter(t, after);
    ixInsert(sg, fix, t);
    blocks++;
    right = t;
  }
  addStat(H_FREE_BLOCKS, blocks);
  addStat(H_FREE_BYTES, -<i64>bytes);
  // The middle becomes a UCR, merged with UCR neighbours (possible only when a piece is empty).
  let u: u32;
  if (left == before && flags(left) == FL_UCR) {
    u = left;
    store<u32>(R(u) + R_SIZEG, sizeG(u) + <u32>(bytes >> GRANULE_SHIFT));
    ixGrew(sg, uix, u);
  } else {
    u = newRec(ps, <u32>(bytes >> GRANULE_SHIFT), FL_UCR);
    linkAfter(left, u);
    ixInsert(sg, uix, u);
    addStat(H_UCRS, 1);
  }
  if (right && right == after && flags(right) == FL_UCR) {
    ixRemove(sg, uix, right);
    store<u32>(R(u) + R_SIZEG, sizeG(u) + sizeG(right));
    linkAfter(u, nextP(right));
    dropRec(right);
    ixGrew(sg, uix, u);
    addStat(H_UCRS, -1);
  } else {
    linkAfter(u, right);
  }
  dropRec(f);
  counterAdd(owner, C_DECOMMITS, 1);
  counterAdd(owner, C_DECOMMITTED_BYTES, <i64>bytes);
  return bytes;
}

// ---------------------------------------------------------------- alloc / free / realloc

// @ts-ignore: decorator
@inline function blockBytes(size: u64, alignLog2: u32): u64 {
  let need = size ? size : 1;
  if (alignLog2 > <u32>GRANULE_SHIFT) need += (<u64>1 << alignLog2) - GRANULE_BYTES;
  need = alignUp(need + HEADER_BYTES, GRANULE_BYTES);
  return need < MIN_BLOCK_BYTES ? MIN_BLOCK_BYTES : need;
}

export function ffAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 { return ffAllocInline(heapIndex, size, alignLog2); }

// ffAlloc's body, inlined into first-fit's batch loop (index.ts FfOps) and into ffAlloc.
// @ts-ignore: decorator
@inline export function ffAllocInline(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  const s = use(heapIndex);
  if (size > 0xFFFFFFFF0 || alignLog2 > 28) return 0;
  const need = blockBytes(size, alignLog2);
  const alignBits = alignLog2 > <u32>GRANULE_SHIFT ? alignLog2 << FL_ALIGN_SHIFT : 0;
  if (need >= <u64>load<u32>(s + H_P_LARGE)) return allocLarge(need, alignBits);
  const g = <u32>(need >> GRANULE_SHIFT);
  let f = g <= HINT_G_MAX ? freeFirstFitHinted(s, g) : ixFirstFit(SG_FREE_IX, H_FREE_MAXES, g);
  if (!f) {
    if (!extend(need)) return 0;
    f = ixFirstFit(SG_FREE_IX, H_FREE_MAXES, g);
    if (CHECKS) assert(f, "extend made no room");
  }
  const sg = foundSeg, fix = sg + SG_FREE_IX;
  let pf = R(f);
  const a = load<u64>(pf + R_ADDR), fg = load<u32>(pf + R_SIZEG);
  if (fg - g >= MIN_G) {
    // Carve the front; the free record keeps the rest and its place in the order.
    const b = takeRec();
    const rb = RECS.base;   // (taking a record may have moved the pool)
    pf = Rb(rb, f);
    const pb = Rb(rb, b);
    // newRec(a, g, busy) linked between f's predecessor p and f: p is not free (free blocks are
    // never adjacent, F2), so b's PREV_MAYBE_FREE is clear, and f's is cleared (b is busy), as
    // linkAfter(p, b) and linkAfter(b, f) set them.
    const p = load<u32>(pf + R_PREV) & ~PREV_MAYBE_FREE;
    if (CHECKS) assert(flags(p) != FL_FREE, "a free block behind a free block");
    store<u64>(pb + R_ADDR, a);
    store<u32>(pb + R_SIZEG, g);
    store<u32>(pb + R_FLAGS, FL_BUSY | alignBits);
    store<u64>(pb + R_PREV, <u64>p | (<u64>f << 32));   // prev p, next f
    store<u64>(pb + R_LEFT, 0);                          // left and right
    store<u32>(Rb(rb, p) + R_NEXT, b);
    store<u32>(pf + R_PREV, b);
    cutFreeFront(sg, fix, f, pf, fg, a + need, fg - g);
    store<u64>(s + H_FREE_BYTES, load<u64>(s + H_FREE_BYTES) - need);
    store<u64>(s + H_BUSY_BYTES, load<u64>(s + H_BUSY_BYTES) + need);
    // The block and the header of the free rest behind it: one contiguous range.
    touchPages(a, need + HEADER_BYTES, owner);
    return b;
  }
  ixRemoveAt(sg, fix, foundBucket, f);
  store<u32>(pf + R_FLAGS, FL_BUSY | alignBits);
  const bytes = <u64>fg << GRANULE_SHIFT;
  store<u64>(s + H_FREE_BYTES, load<u64>(s + H_FREE_BYTES) - bytes);
  store<i64>(s + H_FREE_BLOCKS, load<i64>(s + H_FREE_BLOCKS) - 1);
  store<u64>(s + H_BUSY_BYTES, load<u64>(s + H_BUSY_BYTES) + bytes);
  touchPages(a, bytes, owner);
  return f;
}

function allocLarge(need: u64, alignBits: u32): u32 {
  const reserve = alignUp(need, PAGE_SIZE_BYTES);
  if (reserve >> GRANULE_SHIFT > 0xFFFFFFFF) return 0;
  const base = vmReserve(reserve, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  if (!base) return 0;
  if (vmCommit(base, reserve) != Status.OK) { vmRelease(base); return 0; }
  const b = newRec(base, <u32>(reserve >> GRANULE_SHIFT), FL_LARGE | alignBits);
  const head = ld32(H_LARGE_HEAD);
  linkAfter(b, head);
  st32(H_LARGE_HEAD, b);
  addStat(H_LARGE_BLOCKS, 1);
  addStat(H_LARGE_BYTES, <i64>reserve);
  addStat(H_BUSY_BYTES, <i64>reserve);
  touchPages(base, need, owner);
  return b;
}

function freeLarge(b: u32): void {
  const p = prevP(b), q = nextP(b);
  if (p) linkAfter(p, q); else { st32(H_LARGE_HEAD, q); if (q) store<u32>(R(q) + R_PREV, 0); }
  const bytes = sizeB(b);
  vmRelease(addr(b));
  addStat(H_LARGE_BLOCKS, -1);
  addStat(H_LARGE_BYTES, -<i64>bytes);
  addStat(H_BUSY_BYTES, -<i64>bytes);
  dropRec(b);
}

export function ffFree(heapIndex: i32, b: u32): void { ffFreeInline(heapIndex, b); }

// ffFree's body, inlined into first-fit's batch loop (index.ts FfOps) and into ffFree.
// @ts-ignore: decorator
@inline export function ffFreeInline(heapIndex: i32, b: u32): void {
  const s = use(heapIndex);
  const rb = RECS.base;   // no record is taken below (insertFree only drops them)
  const pb = Rb(rb, b);
  const fl = load<u32>(pb + R_FLAGS);
  if (fl & FL_LARGE) { freeLarge(b); return; }
  const a = load<u64>(pb + R_ADDR);
  const bytes = <u64>load<u32>(pb + R_SIZEG) << GRANULE_SHIFT;
  store<u64>(s + H_BUSY_BYTES, load<u64>(s + H_BUSY_BYTES) - bytes);
  const freeBytes = load<u64>(s + H_FREE_BYTES) + bytes;
  store<u64>(s + H_FREE_BYTES, freeBytes);
  store<u32>(pb + R_FLAGS, FL_FREE);
  touchPages(a, HEADER_BYTES, owner);
  const e = segOfIn(s, a);
  const f = insertFreeInline(rb, s, e, b);
  // decommitDue(f) (the free bytes did not change since they were stored above)
  if ((<u64>load<u32>(Rb(rb, f) + R_SIZEG) << GRANULE_SHIFT) >= <u64>load<u32>(s + H_P_DBLOCK) &&
    freeBytes >= <u64>load<u32>(s + H_P_DTOTAL)) maybeDecommit(e, f, false);
}

// Grows in place into a free successor, shrinks in place, or moves.
export function ffRealloc(heapIndex: i32, b: u32, size: u64): u32 {
  use(heapIndex);
  const fl = flags(b);
  const alignLog2 = (fl >> FL_ALIGN_SHIFT) & 0xFF;
  if (size > 0xFFFFFFFF0) return 0;
  const need = blockBytes(size, alignLog2);
  const have = sizeB(b);
  if (!(fl & FL_LARGE) && need < <u64>ld32(H_P_LARGE)) {
    if (need <= have) {
      if (have - need >= MIN_BLOCK_BYTES) splitTail(b, need);
      return b;
    }
    const q = nextP(b);
    if (q && flags(q) == FL_FREE && have + sizeB(q) >= need) {
      const extra = need - have;
      const qb = sizeB(q);
      if (qb - extra >= MIN_BLOCK_BYTES) {
        const e = segOf(addr(q));
        ixCutFront(e, e + SG_FREE_IX, q, addr(q) + extra, <u32>((qb - extra) >> GRANULE_SHIFT));
        store<u32>(R(b) + R_SIZEG, <u32>(need >> GRANULE_SHIFT));
        addStat(H_FREE_BYTES, -<i64>extra);
        addStat(H_BUSY_BYTES, <i64>extra);
        touchPages(addr(q), HEADER_BYTES, owner);
      } else {
        const e = segOf(addr(q));
        ixRemove(e, e + SG_FREE_IX, q);
        store<u32>(R(b) + R_SIZEG, sizeG(b) + sizeG(q));
        linkAfter(b, nextP(q));
        addStat(H_FREE_BYTES, -<i64>qb);
        addStat(H_FREE_BLOCKS, -1);
        addStat(H_BUSY_BYTES, <i64>qb);
        dropRec(q);
      }
      touchPages(addr(b), sizeB(b), owner);
      return b;
    }
  }
  const nb = ffAlloc(heapIndex, size, alignLog2);
  if (!nb) return 0;
  ffFree(heapIndex, b);
  return nb;
}

// Cuts the tail of busy block b beyond `keep` bytes off as a free block.
function splitTail(b: u32, keep: u64): void {
  const have = sizeB(b);
  const t = newRec(addr(b) + keep, <u32>((have - keep) >> GRANULE_SHIFT), FL_FREE);
  linkAfter(t, nextP(b));
  linkAfter(b, t);
  store<u32>(R(b) + R_SIZEG, <u32>(keep >> GRANULE_SHIFT));
  addStat(H_BUSY_BYTES, -<i64>(have - keep));
  addStat(H_FREE_BYTES, <i64>(have - keep));
  touchPages(addr(t), HEADER_BYTES, owner);
  const e = segOf(addr(t));
  const f = insertFree(e, t);
  if (decommitDue(f)) maybeDecommit(e, f, false);
}

export function ffUserAddress(heapIndex: i32, b: u32): u64 {
  const fl = flags(b);
  const alignLog2 = (fl >> FL_ALIGN_SHIFT) & 0xFF;
  const u = addr(b) + HEADER_BYTES;
  return alignLog2 ? alignUp(u, <u64>1 << alignLog2) : u;
}

// HeapCompact-like: decommit the whole pages of every free block, thresholds ignored.
let trimList: usize = 0;
let trimCap: u32 = 0;
let trimCount: u32 = 0;
export function ffTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  trimCount = 0;
  collect();
  let total: u64 = 0;
  for (let i: u32 = 0; i < trimCount; i++) {
    const f = load<u32>(trimList + (<usize>i << 2));
    if (sizeB(f) > padBytes) total += maybeDecommit(segOf(addr(f)), f, true);
  }
  counterAdd(owner, C_TRIMMED_BYTES, <i64>total);
  return total;
}

// Lists every free block in address order: segments by rank, buckets in order, each bucket's list.
function collect(): void {
  const ranks = <usize>ld32(H_RANKS);
  const segs = <u32>ld64(H_SEGMENTS);
  for (let r: u32 = 0; r < segs; r++) {
    const ix = segEntry(load<u32>(ranks + <usize>r * RANK_BYTES + RK_SEG)) + SG_FREE_IX;
    const nb = load<u32>(ix + IX_BUCKETS);
    for (let b: u32 = 0; b < nb; b++) {
      if (!load<u32>(leafSlot(ix, b))) continue;
      let t = load<u32>(headSlot(ix, b));
      while (t) {
        if (trimCount == trimCap) {
          trimCap = trimCap ? trimCap * 2 : 256;
          trimList = resize(trimList, <usize>trimCap * 4);
        }
        store<u32>(trimList + (<usize>trimCount << 2), t);
        trimCount++;
        t = rgt(t);
      }
    }
  }
}

export function ffDestroy(heapIndex: i32): void {
  use(heapIndex);
  const segs = <u32>ld64(H_SEGMENTS);
  for (let i: u32 = 0; i < segs; i++) {
    const e = segEntry(i);
    let r = load<u32>(e + SG_SENTINEL);
    while (r) { const nx = nextP(r); dropRec(r); r = nx; }
    vmRelease(load<u64>(e + SG_BASE));
    ixDestroy(e + SG_FREE_IX);
    ixDestroy(e + SG_UCR_IX);
  }
  let b = ld32(H_LARGE_HEAD);
  while (b) { const nx = nextP(b); vmRelease(addr(b)); dropRec(b); b = nx; }
  if (ld32(H_SEG_TABLE)) heap.free(<usize>ld32(H_SEG_TABLE));
  if (ld32(H_RANKS)) heap.free(<usize>ld32(H_RANKS));
  heap.free(<usize>ld32(H_FREE_MAXES));
  heap.free(<usize>ld32(H_UCR_MAXES));
  heap.free(<usize>ld32(H_HINTS));
  memory.fill(hs, 0, HS_BYTES);
}

export function ffSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  store<f64>(out + <usize>K_BUSY * 8, <f64>ld64(H_BUSY_BYTES));
  store<f64>(out + <usize>K_FREE * 8, <f64>ld64(H_FREE_BYTES));
  store<f64>(out + <usize>K_FREE_BLOCKS * 8, <f64>ld64(H_FREE_BLOCKS));
  store<f64>(out + <usize>K_LARGEST_FREE * 8, <f64>(<u64>largestFree() << GRANULE_SHIFT));
  store<f64>(out + <usize>K_UNCOMMITTED_RANGES * 8, <f64>ld64(H_UCRS));
  store<f64>(out + <usize>K_SEGMENTS * 8, <f64>ld64(H_SEGMENTS));
  store<f64>(out + <usize>K_VIRTUAL_BLOCKS * 8, <f64>ld64(H_LARGE_BLOCKS));
  store<f64>(out + <usize>K_VIRTUAL_BYTES * 8, <f64>ld64(H_LARGE_BYTES));
}

// ---------------------------------------------------------------- invariants F1..F5

let ckFree: u64 = 0;
let ckFreeBlocks: u64 = 0;
let ckBusy: u64 = 0;
let ckUcrs: u64 = 0;

export function ffCheck(heapIndex: i32): i32 {
  use(heapIndex);
  ckFree = 0; ckFreeBlocks = 0; ckBusy = 0; ckUcrs = 0;
  const segs = <u32>ld64(H_SEGMENTS);
  for (let i: u32 = 0; i < segs; i++) {
    const e = segEntry(i);
    const base = load<u64>(e + SG_BASE), size = load<u64>(e + SG_RESERVE);
    const sentinel = load<u32>(e + SG_SENTINEL);
    if (flags(sentinel) != FL_SENTINEL || addr(sentinel) != base || sizeG(sentinel) != 0) return 1;
    let r = nextP(sentinel);
    let expect = base;
    let prev = sentinel;
    while (r) {
      if (addr(r) != expect || prevP(r) != prev) return 1;
      const fl = flags(r), s = sizeB(r);
      if ((fl == FL_FREE || fl == FL_UCR) && flags(prev) == fl) return 2;
      if (flags(prev) == FL_FREE && !prevMaybeFree(r)) return 2;
      if (fl == FL_UCR) {
        ckUcrs++;
        for (let a = addr(r); a < addr(r) + s; a += PAGE_SIZE_BYTES) if (vmIsCommitted(a)) return 3;
      } else {
        if (!vmIsCommitted(addr(r)) || !vmIsCommitted(addr(r) + s - 1)) return 3;
        if (fl == FL_FREE) { ckFree += s; ckFreeBlocks++; } else ckBusy += s;
      }
      expect += s;
      prev = r;
      r = nextP(r);
    }
    if (expect != base + size) return 1;
  }
  let b = ld32(H_LARGE_HEAD);
  while (b) { ckBusy += sizeB(b); b = nextP(b); }
  if (!indexesOk()) return 4;
  if (ckFree != ld64(H_FREE_BYTES) || ckFreeBlocks != ld64(H_FREE_BLOCKS) || ckBusy != ld64(H_BUSY_BYTES) ||
    ckUcrs != ld64(H_UCRS)) return 5;
  return 0;
}

// One kind's index: every list in address order inside its bucket, of records of that kind only,
// with consistent back links; every bucket maximum equal to a recount, every bound above at least
// the largest entry below it; padding zero; the scan stop in place. Counts the records.
let ckListed: u64 = 0;
function indexOk(e: usize, ix: usize, kind: u32, rkMax: u32): bool {
  const base = load<u64>(e + SG_BASE);
  const shift = <u64>load<u32>(ix + IX_SHIFT);
  const nb = load<u32>(ix + IX_BUCKETS), top = load<u32>(ix + IX_TOP);
  if (<u64>nb != (load<u64>(e + SG_RESERVE) + (<u64>1 << shift) - 1) >> shift) return false;
  if (levelCount(nb, top) > <u32>FAN || (top && levelCount(nb, top - 1) <= <u32>FAN)) return false;
  for (let b: u32 = 0; b < nb; b++) {
    const lo = base + (<u64>b << shift), hi = lo + (<u64>1 << shift);
    let t = load<u32>(headSlot(ix, b)), prev: u32 = 0, m: u32 = 0;
    while (t) {
      if (flags(t) != kind || addr(t) < lo || addr(t) >= hi || lft(t) != prev) return false;
      if (prev && addr(prev) >= addr(t)) return false;
      if (sizeG(t) > m) m = sizeG(t);
      ckListed++;
      prev = t;
      t = rgt(t);
    }
    if (load<u32>(leafSlot(ix, b)) != m) return false;
  }
  for (let l: u32 = 0; l <= top; l++) {
    const c = levelCount(nb, l), p = levelPtr(ix, l);
    for (let x = <usize>c; x < padNodes(c); x++) if (load<u32>(p + (x << 2))) return false;
    if (l) for (let x: usize = 0; x < <usize>c; x++) if (load<u32>(p + (x << 2)) < nodeMax(levelPtr(ix, l - 1), x)) return false;
  }
  if (load<u32>(levelPtr(ix, top) + padNodes(levelCount(nb, top)) * 4) != SCAN_STOP) return false;
  return rkMax >= nodeMax(levelPtr(ix, top), 0);
}

// Rank table in address order and pointing back; both indexes of every segment; every free block
// and UCR the segment walk counted is listed exactly once (listed records are distinct: each list
// is strictly address-ordered inside its own bucket, and buckets do not overlap).
function indexesOk(): bool {
  const ranks = <usize>ld32(H_RANKS);
  const segs = <u32>ld64(H_SEGMENTS);
  const fmx = <usize>ld32(H_FREE_MAXES), umx = <usize>ld32(H_UCR_MAXES);
  if (load<u32>(fmx + (<usize>segs << 2)) != SCAN_STOP || load<u32>(umx + (<usize>segs << 2)) != SCAN_STOP) return false;
  let free: u64 = 0, ucrs: u64 = 0;
  for (let r: u32 = 0; r < segs; r++) {
    const rp = ranks + <usize>r * RANK_BYTES;
    const e = segEntry(load<u32>(rp + RK_SEG));
    if (load<u32>(e + SG_RANK) != r || load<u64>(rp + RK_BASE) != load<u64>(e + SG_BASE)) return false;
    if (r && load<u64>(rp - RANK_BYTES + RK_BASE) >= load<u64>(e + SG_BASE)) return false;
    ckListed = 0;
    if (!indexOk(e, e + SG_FREE_IX, FL_FREE, load<u32>(fmx + (<usize>r << 2)))) return false;
    free += ckListed;
    ckListed = 0;
    if (!indexOk(e, e + SG_UCR_IX, FL_UCR, load<u32>(umx + (<usize>r << 2)))) return false;
    ucrs += ckListed;
  }
  return free == ckFreeBlocks && ucrs == ckUcrs && hintsOk();
}

// The search hints: non-decreasing in g; each at a bucket of a segment (or at the start); no free
// bucket before g's hint holds a block of g granules or more.
function hintsOk(): bool {
  const hints = <usize>ld32(H_HINTS);
  const ranks = <usize>ld32(H_RANKS);
  const segs = <u32>ld64(H_SEGMENTS);
  let prev: u64 = 0;
  for (let g = MIN_G; g <= HINT_G_MAX; g++) {
    const key = load<u64>(hints + (<usize>g << 3));
    if (key < prev) return false;
    prev = key;
    if (!key) continue;
    const hr = <u32>(key >> 32), hb = <u32>key;
    if (hr >= segs) return false;
    for (let r: u32 = 0; r <= hr; r++) {
      const ix = segEntry(load<u32>(ranks + <usize>r * RANK_BYTES + RK_SEG)) + SG_FREE_IX;
      const nb = load<u32>(ix + IX_BUCKETS);
      if (r == hr && hb >= nb) return false;
      const before = r == hr ? hb : nb;
      for (let b: u32 = 0; b < before; b++) if (load<u32>(leafSlot(ix, b)) >= g) return false;
    }
  }
  return true;
}
