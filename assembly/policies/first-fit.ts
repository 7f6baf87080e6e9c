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
// ╒═══════════════ block record (REC_BYTES = 40) ═══════════════╕
// │ 0 addr u64 │ 8 sizeG u32 │ 12 flags u32 (F U L S, align) │
// │ 16 prevPhys u32 │ 20 nextPhys u32 │ 24 left u32 │ 28 right u32│
// │ 32 parent u32 │ 36 maxG u32                                    │
// ╘══════════════════════════════════════════════════════════════╛
//   F: FREE  U: UCR (uncommitted range)  L: LARGE (own reservation)  S: segment sentinel (a zero-size
//   record heading each segment's list, so every block has a predecessor)  bits 8..15: log2(alignment)
//   Free blocks sit in an address-keyed treap (left/right/maxG = subtree max size), so the lowest
//   fitting block is found in O(log n) (the augmented-tree form of AO first fit). Parent links let
//   every update walk up from the changed record and stop as soon as a maximum stops changing, and
//   let removal start at the record instead of searching for it. UCR records sit in a second treap
//   of the same shape, searched first-fit when the heap must commit more.
//
// Invariants (ffCheck returns the number of the first that fails):
//   F1 records of a segment tile it exactly, in address order, prev/next consistent
//   F2 no two adjacent free blocks; no two adjacent UCRs
//   F3 free and busy blocks lie in committed pages; UCR pages are all uncommitted
//   F4 both treaps are ordered by address, heap-ordered on priority, with correct maxG
//   F5 counters (free bytes/blocks, busy bytes, UCR count) equal a recount

import { resize } from "../mem";
import { Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS,
  K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage } from "../abi";
import { PAGE_SIZE_BYTES, ALLOC_GRANULARITY_BYTES, alignUp, alignDown, KiB, MiB } from "../vm/constants";
import { vmReserve, vmCommit, vmDecommit, vmRelease, touchPages, vmIsCommitted } from "../vm/space";
import { CHECKS } from "../checks";

// Geometry (our own choices for a generic boundary-tag allocator).
const GRANULE_SHIFT: u64 = 4;
const GRANULE_BYTES: u64 = 1 << GRANULE_SHIFT;   // 16-byte alignment of every block
const HEADER_BYTES: u64 = 16;                      // size + flags, previous size
const MIN_BLOCK_BYTES: u64 = 32;                   // header + two free-list links
const MIN_G: u32 = <u32>(MIN_BLOCK_BYTES >> GRANULE_SHIFT);

// Parameters (slot index in the HEAP_CREATE params block; NaN = default).
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

// Policy counter slots.
const S_DECOMMITS = K_POLICY_BASE + 0;        // decommit operations on free
const S_DECOMMITTED_BYTES = K_POLICY_BASE + 1; // bytes decommitted, cumulative
const S_TRIMMED_BYTES = K_POLICY_BASE + 2;     // bytes decommitted by TRIM, cumulative

// ---------------------------------------------------------------- records

const REC_BYTES: usize = 40;
const R_ADDR: usize = 0;
const R_SIZEG: usize = 8;
const R_FLAGS: usize = 12;
const R_PREV: usize = 16;
const R_NEXT: usize = 20;
const R_LEFT: usize = 24;
const R_RIGHT: usize = 28;
const R_PARENT: usize = 32;
const R_MAXG: usize = 36;

const FL_BUSY: u32 = 0;
const FL_FREE: u32 = 1;
const FL_UCR: u32 = 2;
const FL_LARGE: u32 = 4;
const FL_SENTINEL: u32 = 8;
const FL_ALIGN_SHIFT: u32 = 8;

let recs: usize = 0;
let recCap: u32 = 0;
let recCount: u32 = 1;
let recFree: u32 = 0;

// @ts-ignore: decorator
@inline function R(n: u32): usize { return recs + <usize>n * REC_BYTES; }
// @ts-ignore: decorator
@inline function addr(n: u32): u64 { return load<u64>(R(n) + R_ADDR); }
// @ts-ignore: decorator
@inline function sizeG(n: u32): u32 { return load<u32>(R(n) + R_SIZEG); }
// @ts-ignore: decorator
@inline function sizeB(n: u32): u64 { return <u64>load<u32>(R(n) + R_SIZEG) << GRANULE_SHIFT; }
// @ts-ignore: decorator
@inline function flags(n: u32): u32 { return load<u32>(R(n) + R_FLAGS); }
// @ts-ignore: decorator
@inline function prevP(n: u32): u32 { return load<u32>(R(n) + R_PREV); }
// @ts-ignore: decorator
@inline function nextP(n: u32): u32 { return load<u32>(R(n) + R_NEXT); }
// @ts-ignore: decorator
@inline function lft(n: u32): u32 { return load<u32>(R(n) + R_LEFT); }
// @ts-ignore: decorator
@inline function rgt(n: u32): u32 { return load<u32>(R(n) + R_RIGHT); }
// @ts-ignore: decorator
@inline function par(n: u32): u32 { return load<u32>(R(n) + R_PARENT); }
// @ts-ignore: decorator
@inline function maxG(n: u32): u32 { return n ? load<u32>(R(n) + R_MAXG) : 0; }

function newRec(a: u64, g: u32, f: u32): u32 {
  let n = recFree;
  if (n) {
    recFree = load<u32>(R(n) + R_LEFT);
  } else {
    if (recCount >= recCap) {
      recCap = recCap ? recCap * 2 : 1024;
      recs = resize(recs, <usize>recCap * REC_BYTES);
    }
    n = recCount++;
  }
  const p = R(n);
  store<u64>(p + R_ADDR, a);
  store<u32>(p + R_SIZEG, g);
  store<u32>(p + R_FLAGS, f);
  store<u32>(p + R_PREV, 0);
  store<u32>(p + R_NEXT, 0);
  store<u32>(p + R_LEFT, 0);
  store<u32>(p + R_RIGHT, 0);
  store<u32>(p + R_PARENT, 0);
  store<u32>(p + R_MAXG, g);
  return n;
}

function dropRec(n: u32): void {
  store<u32>(R(n) + R_FLAGS, 0xFFFFFFFF);
  store<u32>(R(n) + R_LEFT, recFree);
  recFree = n;
}

// Engine bytes per record, for the memory benchmark.
export function ffRecordBytes(): usize { return REC_BYTES; }
export function ffEngineBytes(): usize { return <usize>recCap * REC_BYTES; }

// ---------------------------------------------------------------- treap over records (free or UCR)
// A tree is named by the address of its root slot in the heap state (H_FREE_ROOT or H_UCR_ROOT).

// Deterministic priority from the record index (a 32-bit integer hash).
// @ts-ignore: decorator
@inline function prio(n: u32): u32 {
  let x = n * 0x9E3779B1;
  x ^= x >> 16; x *= 0x85EBCA6B; x ^= x >> 13;
  return x;
}

function pullR(n: u32): void {
  let m = sizeG(n);
  const a = maxG(lft(n)), b = maxG(rgt(n));
  if (a > m) m = a;
  if (b > m) m = b;
  store<u32>(R(n) + R_MAXG, m);
}

// Recomputes maxima from n upwards, stopping where nothing changes any more.
function fixUp(n: u32): void {
  while (n) {
    const old = load<u32>(R(n) + R_MAXG);
    pullR(n);
    if (load<u32>(R(n) + R_MAXG) == old) return;
    n = par(n);
  }
}

// Replaces child `old` of `p` (or the root) by `nw`.
function replaceChild(rootSlot: usize, p: u32, old: u32, nw: u32): void {
  if (!p) store<u32>(rootSlot, nw);
  else if (lft(p) == old) store<u32>(R(p) + R_LEFT, nw);
  else store<u32>(R(p) + R_RIGHT, nw);
  if (nw) store<u32>(R(nw) + R_PARENT, p);
}

// Rotates n above its parent.
function rotateUp(rootSlot: usize, n: u32): void {
  const p = par(n), g = par(p);
  if (lft(p) == n) {
    const b = rgt(n);
    store<u32>(R(p) + R_LEFT, b);
    if (b) store<u32>(R(b) + R_PARENT, p);
    store<u32>(R(n) + R_RIGHT, p);
  } else {
    const b = lft(n);
    store<u32>(R(p) + R_RIGHT, b);
    if (b) store<u32>(R(b) + R_PARENT, p);
    store<u32>(R(n) + R_LEFT, p);
  }
  store<u32>(R(p) + R_PARENT, n);
  replaceChild(rootSlot, g, p, n);
  pullR(p);
  pullR(n);
}

function tInsert(rootSlot: usize, n: u32): void {
  const a = addr(n), g = sizeG(n);
  store<u32>(R(n) + R_LEFT, 0);
  store<u32>(R(n) + R_RIGHT, 0);
  store<u32>(R(n) + R_MAXG, g);
  let t = load<u32>(rootSlot), p: u32 = 0;
  while (t) {
    p = t;
    if (maxG(t) < g) store<u32>(R(t) + R_MAXG, g); // on the way down: the new maximum of this subtree
    t = a < addr(t) ? lft(t) : rgt(t);
  }
  store<u32>(R(n) + R_PARENT, p);
  if (!p) { store<u32>(rootSlot, n); return; }
  if (a < addr(p)) store<u32>(R(p) + R_LEFT, n); else store<u32>(R(p) + R_RIGHT, n);
  const pr = prio(n);
  while (par(n) && prio(par(n)) < pr) rotateUp(rootSlot, n);
}

function tRemove(rootSlot: usize, n: u32): void {
  // Rotate n down until it has at most one child, then splice it out.
  while (lft(n) && rgt(n)) rotateUp(rootSlot, prio(lft(n)) > prio(rgt(n)) ? lft(n) : rgt(n));
  const c = lft(n) ? lft(n) : rgt(n);
  const p = par(n);
  replaceChild(rootSlot, p, n, c);
  fixUp(p);
}

// Lowest-address record with sizeG >= g.
function tFirstFit(t: u32, g: u32): u32 {
  if (maxG(t) < g) return 0;
  while (t) {
    const l = lft(t);
    if (maxG(l) >= g) { t = l; continue; }
    if (sizeG(t) >= g) return t;
    t = rgt(t);
  }
  return 0;
}

// ---------------------------------------------------------------- heap state

// ╒═══ heap state (HS_BYTES) ═══╕ one per first-fit heap, in a static table indexed by heap
const HS_BYTES: usize = 128;
const H_FREE_ROOT: usize = 0;     // u32 root of the treap of free blocks
const H_UCR_ROOT: usize = 4;      // u32 root of the treap of UCRs
const H_LARGE_HEAD: usize = 12;   // u32 list of large blocks (linked through prev/next)
const H_FREE_BYTES: usize = 16;   // u64
const H_FREE_BLOCKS: usize = 24;  // u64
const H_BUSY_BYTES: usize = 32;   // u64
const H_UCRS: usize = 40;         // u64
const H_SEGMENTS: usize = 48;     // u64
const H_LARGE_BLOCKS: usize = 56; // u64
const H_LARGE_BYTES: usize = 64;  // u64
const H_NEXT_RESERVE: usize = 72; // u64 next segment reservation size
const H_DECOMMITS: usize = 80;    // u64
const H_DECOMMITTED: usize = 88;  // u64
const H_TRIMMED: usize = 96;      // u64
const H_P_DBLOCK: usize = 104;    // u32 bytes
const H_P_SEGCOMMIT: usize = 108; // u32 bytes
const H_P_LARGE: usize = 112;     // u32 bytes
const H_P_DTOTAL: usize = 116;    // u32 bytes
const H_SEG_TABLE: usize = 120;   // u32 pointer to the segment table (SEG_BYTES each)
const H_SEG_CAP: usize = 124;     // u32

// Segment table entry: base u64, reserve bytes u64, sentinel record u32, pad.
const SEG_BYTES: usize = 24;

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
@inline function freeRoot(): usize { return hs + H_FREE_ROOT; }
// @ts-ignore: decorator
@inline function ucrRoot(): usize { return hs + H_UCR_ROOT; }
// @ts-ignore: decorator
@inline function addStat(o: usize, d: i64): void { store<i64>(hs + o, load<i64>(hs + o) + d); }

function use(heapIndex: i32): void {
  owner = <u8>heapIndex;
  hs = heapState + <usize>heapIndex * HS_BYTES;
}

function param(params: usize, count: i32, i: i32, def: u64): u64 {
  if (i >= count) return def;
  const v = load<f64>(params + <usize>i * 8);
  return isNaN(v) ? def : <u64>v;
}

export function ffCreate(heapIndex: i32, params: usize, count: i32): Status {
  const dBlock = param(params, count, FF_DECOMMIT_BLOCK_BYTES, DEFAULT_DECOMMIT_BLOCK_BYTES);
  const dTotal = param(params, count, FF_DECOMMIT_TOTAL_BYTES, DEFAULT_DECOMMIT_TOTAL_BYTES);
  const segRes = param(params, count, FF_SEGMENT_RESERVE_BYTES, DEFAULT_SEGMENT_RESERVE_BYTES);
  const segCom = param(params, count, FF_SEGMENT_COMMIT_BYTES, DEFAULT_SEGMENT_COMMIT_BYTES);
  const large = param(params, count, FF_LARGE_BLOCK_BYTES, DEFAULT_LARGE_BLOCK_BYTES);
  if (segRes < ALLOC_GRANULARITY_BYTES || segRes > MAX_SEGMENT_RESERVE_BYTES) return Status.BAD_PARAM;
  if (segCom < PAGE_SIZE_BYTES || segCom > segRes) return Status.BAD_PARAM;
  if (large < MIN_BLOCK_BYTES * 2 || large > segRes) return Status.BAD_PARAM;
  if (dBlock > 0xFFFFFFFF || dTotal > 0xFFFFFFFF) return Status.BAD_PARAM;
  use(heapIndex);
  memory.fill(hs, 0, HS_BYTES);
  st64(H_NEXT_RESERVE, alignUp(segRes, ALLOC_GRANULARITY_BYTES));
  st32(H_P_DBLOCK, <u32>dBlock);
  st32(H_P_DTOTAL, <u32>dTotal);
  st32(H_P_SEGCOMMIT, <u32>alignUp(segCom, PAGE_SIZE_BYTES));
  st32(H_P_LARGE, <u32>large);
  return Status.OK;
}

// ---------------------------------------------------------------- segments and UCRs

function segEntry(i: u32): usize { return <usize>ld32(H_SEG_TABLE) + <usize>i * SEG_BYTES; }

// Sets a's successor to b (b may be 0 = segment end).
// @ts-ignore: decorator
@inline function linkAfter(a: u32, b: u32): void {
  store<u32>(R(a) + R_NEXT, b);
  if (b) store<u32>(R(b) + R_PREV, a);
}

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
    st32(H_SEG_CAP, cap);
  }
  const sentinel = newRec(base, 0, FL_SENTINEL);
  const u = newRec(base, <u32>(reserve >> GRANULE_SHIFT), FL_UCR);
  linkAfter(sentinel, u);
  const e = segEntry(segs);
  store<u64>(e, base);
  store<u64>(e + 8, reserve);
  store<u32>(e + 16, sentinel);
  st64(H_SEGMENTS, segs + 1);
  st64(H_UCRS, ld64(H_UCRS) + 1);
  tInsert(ucrRoot(), u);
  return true;
}

// Merges free block n (counted in the free bytes, not yet in the tree) with free neighbours and
// puts the result in the free treap; returns the surviving record.
function insertFree(n: u32): u32 {
  const p = prevP(n), q = nextP(n);
  let result = n;
  let blocks: i64 = 1;
  if (flags(p) == FL_FREE) {
    // Absorb n into p: p keeps its key and place; its maximum can only grow.
    store<u32>(R(p) + R_SIZEG, sizeG(p) + sizeG(n));
    linkAfter(p, q);
    dropRec(n);
    result = p;
    blocks--;
  }
  if (q && flags(q) == FL_FREE) {
    tRemove(freeRoot(), q);
    store<u32>(R(result) + R_SIZEG, sizeG(result) + sizeG(q));
    linkAfter(result, nextP(q));
    dropRec(q);
    blocks--;
  }
  if (result == n) tInsert(freeRoot(), n);
  else fixUp(result);
  addStat(H_FREE_BLOCKS, blocks);
  return result;
}

// Commits room for `needBytes` at the lowest UCR that fits; the new pages become a free block.
function extend(needBytes: u64): bool {
  const step = <u64>ld32(H_P_SEGCOMMIT);
  const want = alignUp(needBytes, PAGE_SIZE_BYTES);
  let u = tFirstFit(ld32(H_UCR_ROOT), <u32>(want >> GRANULE_SHIFT));
  if (!u) {
    if (!addSegment(needBytes)) return false;
    u = tFirstFit(ld32(H_UCR_ROOT), <u32>(want >> GRANULE_SHIFT));
    if (!u) return false;
  }
  const ua = addr(u), ub = sizeB(u);
  let c = want > step ? want : step;
  if (c > ub) c = ub;
  if (vmCommit(ua, c) != Status.OK) return false;
  const f = newRec(ua, <u32>(c >> GRANULE_SHIFT), FL_FREE);
  const before = prevP(u);
  linkAfter(before, f);
  if (c == ub) {
    tRemove(ucrRoot(), u);
    addStat(H_UCRS, -1);
    linkAfter(f, nextP(u));
    dropRec(u);
  } else {
    // The UCR shrinks from the front: its key grows but stays between the same neighbours.
    store<u64>(R(u) + R_ADDR, ua + c);
    store<u32>(R(u) + R_SIZEG, <u32>((ub - c) >> GRANULE_SHIFT));
    fixUp(u);
    linkAfter(f, u);
  }
  touchPages(ua, HEADER_BYTES, owner);
  addStat(H_FREE_BYTES, <i64>c);
  insertFree(f);
  return true;
}

// Decommits the whole pages inside free block f (in the free treap) if the rule says so or `force`.
// The head and tail pieces stay free blocks; the pages become a UCR merged with UCR neighbours.
function maybeDecommit(f: u32, force: bool): u64 {
  const s = sizeB(f);
  if (!force) {
    if (s < <u64>ld32(H_P_DBLOCK) || ld64(H_FREE_BYTES) < <u64>ld32(H_P_DTOTAL)) return 0;
  }
  const a = addr(f), e = a + s;
  let ps = alignUp(a, PAGE_SIZE_BYTES), pe = alignDown(e, PAGE_SIZE_BYTES);
  // Leave no piece smaller than a minimum block: give such a sliver a whole page instead.
  if (ps > a && ps - a < MIN_BLOCK_BYTES) ps += PAGE_SIZE_BYTES;
  if (pe < e && e - pe < MIN_BLOCK_BYTES) pe -= PAGE_SIZE_BYTES;
  if (pe <= ps) return 0;
  const bytes = pe - ps;
  if (vmDecommit(ps, bytes) != Status.OK) return 0;
  const before = prevP(f), after = nextP(f);
  tRemove(freeRoot(), f);
  let blocks: i64 = -1;
  // Head piece.
  let left: u32 = before;
  if (ps > a) {
    const h = newRec(a, <u32>((ps - a) >> GRANULE_SHIFT), FL_FREE);
    linkAfter(before, h);
    tInsert(freeRoot(), h);
    blocks++;
    left = h;
  }
  // Tail piece.
  let right: u32 = after;
  if (pe < e) {
    const t = newRec(pe, <u32>((e - pe) >> GRANULE_SHIFT), FL_FREE);
    linkAfter(t, after);
    tInsert(freeRoot(), t);
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
    fixUp(u);
  } else {
    u = newRec(ps, <u32>(bytes >> GRANULE_SHIFT), FL_UCR);
    linkAfter(left, u);
    tInsert(ucrRoot(), u);
    addStat(H_UCRS, 1);
  }
  if (right && right == after && flags(right) == FL_UCR) {
    tRemove(ucrRoot(), right);
    store<u32>(R(u) + R_SIZEG, sizeG(u) + sizeG(right));
    linkAfter(u, nextP(right));
    dropRec(right);
    fixUp(u);
    addStat(H_UCRS, -1);
  } else {
    linkAfter(u, right);
  }
  dropRec(f);
  addStat(H_DECOMMITS, 1);
  addStat(H_DECOMMITTED, <i64>bytes);
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

export function ffAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  use(heapIndex);
  if (size > 0xFFFFFFFF0 || alignLog2 > 28) return 0;
  const need = blockBytes(size, alignLog2);
  const alignBits = alignLog2 > <u32>GRANULE_SHIFT ? alignLog2 << FL_ALIGN_SHIFT : 0;
  if (need >= <u64>ld32(H_P_LARGE)) return allocLarge(need, alignBits);
  const g = <u32>(need >> GRANULE_SHIFT);
  let f = tFirstFit(ld32(H_FREE_ROOT), g);
  if (!f) {
    if (!extend(need)) return 0;
    f = tFirstFit(ld32(H_FREE_ROOT), g);
    if (CHECKS) assert(f, "extend made no room");
  }
  const a = addr(f), fg = sizeG(f);
  let b: u32;
  if (fg - g >= MIN_G) {
    // Carve the front; the free record keeps the rest and its place in the order.
    b = newRec(a, g, FL_BUSY | alignBits);
    linkAfter(prevP(f), b);
    linkAfter(b, f);
    store<u64>(R(f) + R_ADDR, a + need);
    store<u32>(R(f) + R_SIZEG, fg - g);
    fixUp(f);
    touchPages(a + need, HEADER_BYTES, owner);
    addStat(H_FREE_BYTES, -<i64>need);
  } else {
    tRemove(freeRoot(), f);
    store<u32>(R(f) + R_FLAGS, FL_BUSY | alignBits);
    b = f;
    addStat(H_FREE_BYTES, -<i64>sizeB(f));
    addStat(H_FREE_BLOCKS, -1);
  }
  const bytes = sizeB(b);
  addStat(H_BUSY_BYTES, <i64>bytes);
  touchPages(a, bytes, owner);
  return b;
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

export function ffFree(heapIndex: i32, b: u32): void {
  use(heapIndex);
  const fl = flags(b);
  if (fl & FL_LARGE) { freeLarge(b); return; }
  const bytes = sizeB(b);
  addStat(H_BUSY_BYTES, -<i64>bytes);
  addStat(H_FREE_BYTES, <i64>bytes);
  store<u32>(R(b) + R_FLAGS, FL_FREE);
  touchPages(addr(b), HEADER_BYTES, owner);
  const f = insertFree(b);
  maybeDecommit(f, false);
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
        store<u64>(R(q) + R_ADDR, addr(q) + extra);
        store<u32>(R(q) + R_SIZEG, <u32>((qb - extra) >> GRANULE_SHIFT));
        fixUp(q);
        store<u32>(R(b) + R_SIZEG, <u32>(need >> GRANULE_SHIFT));
        addStat(H_FREE_BYTES, -<i64>extra);
        addStat(H_BUSY_BYTES, <i64>extra);
        touchPages(addr(q), HEADER_BYTES, owner);
      } else {
        tRemove(freeRoot(), q);
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
  const f = insertFree(t);
  maybeDecommit(f, false);
}

export function ffUserAddress(b: u32): u64 {
  const fl = flags(b);
  const alignLog2 = (fl >> FL_ALIGN_SHIFT) & 0xFF;
  const u = addr(b) + HEADER_BYTES;
  return alignLog2 ? alignUp(u, <u64>1 << alignLog2) : u;
}

export function ffBlockBytes(b: u32): u64 { return sizeB(b); }

// HeapCompact-like: decommit the whole pages of every free block, thresholds ignored.
let trimList: usize = 0;
let trimCap: u32 = 0;
let trimCount: u32 = 0;
export function ffTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  trimCount = 0;
  collect(ld32(H_FREE_ROOT));
  let total: u64 = 0;
  for (let i: u32 = 0; i < trimCount; i++) {
    const f = load<u32>(trimList + (<usize>i << 2));
    if (sizeB(f) > padBytes) total += maybeDecommit(f, true);
  }
  addStat(H_TRIMMED, <i64>total);
  return total;
}

function collect(t: u32): void {
  if (!t) return;
  collect(lft(t));
  if (trimCount == trimCap) {
    trimCap = trimCap ? trimCap * 2 : 256;
    trimList = resize(trimList, <usize>trimCap * 4);
  }
  store<u32>(trimList + (<usize>trimCount << 2), t);
  trimCount++;
  collect(rgt(t));
}

export function ffDestroy(heapIndex: i32): void {
  use(heapIndex);
  const segs = <u32>ld64(H_SEGMENTS);
  for (let i: u32 = 0; i < segs; i++) {
    const e = segEntry(i);
    let r = load<u32>(e + 16);
    while (r) { const nx = nextP(r); dropRec(r); r = nx; }
    vmRelease(load<u64>(e));
  }
  let b = ld32(H_LARGE_HEAD);
  while (b) { const nx = nextP(b); vmRelease(addr(b)); dropRec(b); b = nx; }
  if (ld32(H_SEG_TABLE)) heap.free(<usize>ld32(H_SEG_TABLE));
  memory.fill(hs, 0, HS_BYTES);
}

export function ffSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  store<f64>(out + <usize>K_BUSY * 8, <f64>ld64(H_BUSY_BYTES));
  store<f64>(out + <usize>K_FREE * 8, <f64>ld64(H_FREE_BYTES));
  store<f64>(out + <usize>K_FREE_BLOCKS * 8, <f64>ld64(H_FREE_BLOCKS));
  store<f64>(out + <usize>K_LARGEST_FREE * 8, <f64>(<u64>maxG(ld32(H_FREE_ROOT)) << GRANULE_SHIFT));
  store<f64>(out + <usize>K_UNCOMMITTED_RANGES * 8, <f64>ld64(H_UCRS));
  store<f64>(out + <usize>K_SEGMENTS * 8, <f64>ld64(H_SEGMENTS));
  store<f64>(out + <usize>K_VIRTUAL_BLOCKS * 8, <f64>ld64(H_LARGE_BLOCKS));
  store<f64>(out + <usize>K_VIRTUAL_BYTES * 8, <f64>ld64(H_LARGE_BYTES));
  store<f64>(out + <usize>S_DECOMMITS * 8, <f64>ld64(H_DECOMMITS));
  store<f64>(out + <usize>S_DECOMMITTED_BYTES * 8, <f64>ld64(H_DECOMMITTED));
  store<f64>(out + <usize>S_TRIMMED_BYTES * 8, <f64>ld64(H_TRIMMED));
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
    const base = load<u64>(e), size = load<u64>(e + 8);
    const sentinel = load<u32>(e + 16);
    if (flags(sentinel) != FL_SENTINEL || addr(sentinel) != base || sizeG(sentinel) != 0) return 1;
    let r = nextP(sentinel);
    let expect = base;
    let prev = sentinel;
    while (r) {
      if (addr(r) != expect || prevP(r) != prev) return 1;
      const fl = flags(r), s = sizeB(r);
      if ((fl == FL_FREE || fl == FL_UCR) && flags(prev) == fl) return 2;
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
  if (!treapOk(ld32(H_FREE_ROOT), 0, FL_FREE, 0, 0xFFFFFFFFFFFFFFFF) ||
    !treapOk(ld32(H_UCR_ROOT), 0, FL_UCR, 0, 0xFFFFFFFFFFFFFFFF)) return 4;
  if (ckFree != ld64(H_FREE_BYTES) || ckFreeBlocks != ld64(H_FREE_BLOCKS) || ckBusy != ld64(H_BUSY_BYTES) ||
    ckUcrs != ld64(H_UCRS)) return 5;
  return 0;
}

function treapOk(t: u32, parent: u32, kindFlag: u32, lo: u64, hi: u64): bool {
  if (!t) return true;
  if (flags(t) != kindFlag || addr(t) < lo || addr(t) >= hi || par(t) != parent) return false;
  const l = lft(t), r = rgt(t);
  if ((l && prio(l) > prio(t)) || (r && prio(r) > prio(t))) return false;
  let m = sizeG(t);
  if (maxG(l) > m) m = maxG(l);
  if (maxG(r) > m) m = maxG(r);
  if (m != maxG(t)) return false;
  return treapOk(l, t, kindFlag, lo, addr(t)) && treapOk(r, t, kindFlag, addr(t) + 1, hi);
}
