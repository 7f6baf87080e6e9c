// === nt back end: segments, uncommitted ranges, free index, split, coalesce, decommit ===
//
// The NT heap back end as docs/nt-heap.md (the project's research notes, "the brief" below) describes
// it. Tags in brackets are the brief's confidence marks: [V] verified in code or primary docs, [O]
// observed in debugger output, [I] inferred or single source, [?] unknown. This file holds the state
// and the back end; lfh.ts is the front end; nt.ts is the policy surface (create, alloc, free,
// realloc, trim, sample, check).
//
// Simulated layout (every block, free block and uncommitted range is a record; nothing of the
// simulated heap lives in linear memory):
// ╒══════════════════════ segment (one VM reservation) ══════════════════════╕
// │ header │ busy │ free │ busy │  UCR (reserved, uncommitted)  │ free │ UCR │  physical list,
// ╘═══════════════════════════════════════════════════════════════════════════╛  prev/next links
//   The first record of a segment is its header block (segment 0: the heap header too); it never
//   changes, so a segment's first record is fixed. Records tile the segment exactly.
//   block bytes = (max(n,1) + 2×granule − 1) rounded down to a granule = n plus one header, rounded
//   up (brief §1.1 [V]); smallest block 2 granules. User address = block + one granule.
//
// Free index: one kit tree (a treap, assembly/kit/tree.ts) keyed by (size, tie), tie = address (default) or insertion order. The
// lowest key with size >= the request is the NT5 search "exact list, then the next non-empty
// larger list, then the first big-enough block of the size-sorted list" (brief §1.4 [V]) in one
// descent: best fit by size.
// UCRs: one address-keyed kit tree per segment, augmented with the subtree's largest range, so "the
// first UCR in address order that can hold the request" (RtlpFindAndCommitPages, brief §1.8 [V])
// is one descent, and the segment's largest UCR (the XP-era Virt correction) is its root's maximum.
//
// ╒══════════════ record (REC_BYTES = 40) ══════════════╕
// │ 0 addr u64 │ 8 sizeG u32 │ 12 flags u32               │  flags: kind (bits 0-7),
// │ 16 prev u32 │ 20 next u32 │ 24 left u32 │ 28 right u32│         log2(alignment) (bits 8-15)
// │ 32 aux u32 │ 36 seg u32                                │
// ╘═══════════════════════════════════════════════════════╛
//   aux: UCR = largest size in its treap subtree; FREE = insertion number (FIFO ties);
//        USERBLOCK = its LFH subsegment index.

import { resize } from "../../mem";
import { Status, RegionType, Usage } from "../../abi";
import { PAGE_SIZE_BYTES, ALLOC_GRANULARITY_BYTES, alignUp, alignDown } from "../../vm/constants";
import { vmReserve, vmCommit, vmDecommit, vmRelease, touchPages } from "../../vm/space";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, poolBytes, reserveForHint } from "../../kit/records";
import { treeInsert, treeRemove, treeRepull, treeLast } from "../../kit/tree";
import { counterAdd } from "../../kit/counters";

// The policy's counter that the back end bumps (kit/counters.ts; all names in index.ts).
export const C_DECOMMITTED_BYTES = 8;

// ---------------------------------------------------------------- real-allocator constants

// Granule = sizeof(HEAP_ENTRY): 8 B on x86, 16 B on x64 (brief §1.1, RO-h asserts both) [V].
export const GRANULE_SHIFT_X86: u32 = 3;
export const GRANULE_SHIFT_X64: u32 = 4;
// Largest block a segment holds, in granules: 0xFE00 on x86 = 0x7F000 B, 0xFF00 on x64 = 0xFF000 B
// (brief §1.1, RO-h and MS-RHP for x86, DUMPS for x64) [V].
export const MAX_BLOCK_G_X86: u32 = 0xFE00;
export const MAX_BLOCK_G_X64: u32 = 0xFF00;
// A split remainder becomes a free block only when it is at least 2 granules (RtlpSplitEntry,
// brief §1.5) [V]; a 1-granule remainder stays with the caller.
export const MIN_SPLIT_G: u32 = 2;
// HEAP_VIRTUAL_ALLOC_ENTRY header before a large block's data: 0x20 B on x86, 0x40 B on x64
// (brief §7.3) [I]; a 512 KiB request then commits 0x81000 B as SG15 observed [V].
export const VIRTUAL_ALLOC_HEADER_X86: u64 = 0x20;
export const VIRTUAL_ALLOC_HEADER_X64: u64 = 0x40;
// Heap flags (brief §1.10): HEAP_NO_SERIALIZE 0x1 and HEAP_GROWABLE 0x2 (MS-API) [V]; heap class
// 0x1000 = private heap (PHNT) [V]. A private growable heap prints 00001002 as in the seed.
export const HEAP_NO_SERIALIZE: u32 = 0x1;
export const HEAP_GROWABLE: u32 = 0x2;
export const HEAP_CLASS_PRIVATE: u32 = 0x1000;
// FrontEndHeapType: 0 none, 1 lookaside lists (XP/2003), 2 LFH (brief §4.2) [O].
export const FRONT_END_NONE: u32 = 0;
export const FRONT_END_LFH: u32 = 2;
// Header block at the start of segment 0 (the _HEAP structure plus the first _HEAP_SEGMENT) and of
// every later segment (_HEAP_SEGMENT). The brief gives no sizes: our estimates, close to NT5-era
// structures (a _HEAP with 128 free-list heads is about 0x588 B on x86).
export const HEAP_HEADER_BYTES_X86: u64 = 0x640;
export const HEAP_HEADER_BYTES_X64: u64 = 0xA80;
export const SEGMENT_HEADER_BYTES_X86: u64 = 0x40;
export const SEGMENT_HEADER_BYTES_X64: u64 = 0x70;

// ---------------------------------------------------------------- records

@unmanaged export class Rec {
  addr: u64;
  sizeG: u32;
  flags: u32;
  prev: u32;
  next: u32;
  left: u32;
  right: u32;
  aux: u32;
  seg: u32;
}
export const REC_BYTES: usize = 40;
if (offsetof<Rec>() != REC_BYTES) ERROR("Rec layout");

// Record kinds (flags bits 0-7).
export const RK_USER: u32 = 0;       // busy block handed to the program
export const RK_FREE: u32 = 1;       // back-end free block (in the free index)
export const RK_UCR: u32 = 2;        // uncommitted range (in its segment's UCR treap)
export const RK_HEADER: u32 = 3;     // heap / segment header block (busy)
export const RK_USERBLOCK: u32 = 4;  // LFH user block (busy from the back end's point of view)
export const RK_LARGE: u32 = 5;      // block above VirtualMemoryThreshold, own reservation
export const RK_DEAD: u32 = 0xFF;    // record on the pool's free list
export const ALIGN_SHIFT: u32 = 8;
export const NO_SEG: u32 = 0xFFFFFFFF;

// Every nt heap's records, one kit pool (dropped records link through `left`).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>offsetof<Rec>("left"), 4096);

// Records are indices: never keep a Rec across a call that may create records (the pool moves).
// @ts-ignore: decorator
@inline export function rec(n: u32): Rec { return changetype<Rec>(RECS.base + <usize>n * REC_BYTES); }
// @ts-ignore: decorator
@inline export function kind(n: u32): u32 { return rec(n).flags & 0xFF; }
// @ts-ignore: decorator
@inline export function bytesOf(n: u32): u64 { return <u64>rec(n).sizeG << H.gShift; }

// A new record. Record indices stay below 2^28 (the LFH handle tag) because 2^28 records would need
// 10 GiB of engine memory, more than WASM's 4 GiB: the pool's growth traps first (an engine limit).
export function newRec(a: u64, g: u32, f: u32, s: u32): u32 {
  const n = takeRecord(RECS);
  const r = rec(n);
  r.addr = a; r.sizeG = g; r.flags = f; r.prev = 0; r.next = 0; r.left = 0; r.right = 0; r.aux = 0; r.seg = s;
  return n;
}

export function dropRec(n: u32): void {
  rec(n).flags = RK_DEAD;
  dropRecord(RECS, n);
}

export function recEngineBytes(): usize { return poolBytes(RECS); }

// Records per live block the pool is sized for from the replay's hint (kit/hint.ts): each busy
// back-end block, and at most one free block or UCR between two busy ones (neighbours coalesce).
const RECORDS_PER_LIVE_BLOCK: u32 = 2;
// Sizes the record pool once for the replay's hint (a heap's create).
export function recReserve(): void { reserveForHint(RECS, RECORDS_PER_LIVE_BLOCK); }

// @ts-ignore: decorator
@inline export function link(a: u32, b: u32): void {
  rec(a).next = b;
  if (b) rec(b).prev = a;
}


// ---------------------------------------------------------------- heap state

@unmanaged export class Seg {
  base: u64;
  size: u64;
  first: u32;    // the header record
  ucrRoot: u32;  // address-keyed UCR treap
}
export const SEG_BYTES: usize = 24;
if (offsetof<Seg>() != SEG_BYTES) ERROR("Seg layout");

@unmanaged export class NtHeap {
  // geometry and parameters
  index: u32;
  gShift: u32;
  maxG: u32;
  flags: u32;
  dfbt: u64;           // decommitFreeBlockThreshold, bytes
  dtft: u64;           // decommitTotalFreeThreshold, bytes
  vmt: u64;            // virtualMemoryThreshold, bytes
  segCommit: u64;      // segmentCommitBytes
  reserveMax: u64;     // segmentReserveMaxBytes, 0 = no cap
  virtLargeUcr: u64;   // virtLargeUcrBytes
  nextReserve: u64;    // reservation of the next segment
  growth: u32;         // segmentGrowthFactor
  virtRule: u32;       // virtCorrection
  lfhAllowed: u32;     // lfh && !noSerialize
  lfhFastBytes: u32;   // requests of 1..this many bytes go to the LFH when their bucket is on (0 = none): nt.ts
  randomChunks: u32;   // lfhRandomChunks
  fifo: u32;           // freeListOrder = 1
  lfhCreated: u32;     // the LFH front end exists (FrontEndHeapType 2)
  tieSeq: u32;
  prng: u32;
  // segments
  segTable: usize;
  segCap: u32;
  segCount: u32;
  freeRoot: u32;
  largeHead: u32;
  // counters (bytes unless named otherwise)
  segReserved: u64;
  freeBytes: u64;
  freeBlocks: u64;
  freeWholePageBytes: u64;
  busyBytes: u64;      // busy records inside segments: program blocks, headers, LFH user blocks
  ucrCount: u64;
  ucrBytes: u64;
  largeUcrBytes: u64;  // UCRs of at least virtLargeUcr bytes
  largeBlocks: u64;
  largeBytes: u64;
  decommits: u64;
  trimmedBytes: u64;
  // LFH
  usage: usize;        // u16 per block size in granules (FrontEndHeapUsageData)
  usageLen: u32;
  buckets: usize;      // lfh.ts Bucket × LFH_BUCKETS
  userBlocks: u64;
  userBlockBytes: u64;
  allChunkBytes: u64;      // bytes of every chunk of the user blocks, live or free (free = this − liveChunkBytes)
  liveChunkBytes: u64;
  liveChunks: u64;
}

// The heap being operated on, and its VM owner index (nt heaps sit directly on the VM).
export let H: NtHeap = changetype<NtHeap>(0);
export let owner: u8 = 0;

// @ts-ignore: decorator
@inline export function seg(i: u32): Seg { return changetype<Seg>(H.segTable + <usize>i * SEG_BYTES); }
// @ts-ignore: decorator
@inline export function granuleBytes(): u64 { return <u64>1 << H.gShift; }

export function setCurrent(heap: NtHeap, index: i32): void {
  H = heap;
  owner = <u8>index;
}

// ---------------------------------------------------------------- free index: treap on (size, tie)

// The free index as a kit tree (assembly/kit/tree.ts): ordered by (size, tie), no summary.
@final @unmanaged class FreeShape {
  // @ts-ignore: decorator
  @inline left(n: u32): u32 { return rec(n).left; }
  // @ts-ignore: decorator
  @inline setLeft(n: u32, v: u32): void { rec(n).left = v; }
  // @ts-ignore: decorator
  @inline right(n: u32): u32 { return rec(n).right; }
  // @ts-ignore: decorator
  @inline setRight(n: u32, v: u32): void { rec(n).right = v; }
  // @ts-ignore: decorator
  @inline less(a: u32, b: u32): bool {
    const ga = rec(a).sizeG, gb = rec(b).sizeG;
    if (ga != gb) return ga < gb;
    return H.fifo ? rec(a).aux < rec(b).aux : rec(a).addr < rec(b).addr;
  }
  // @ts-ignore: decorator
  @inline pull(n: u32): void {}
}

// Best fit: the smallest free block of at least g granules (lowest tie among equals).
export function freeBestFit(g: u32): u32 {
  let t = H.freeRoot, best: u32 = 0;
  while (t) {
    if (rec(t).sizeG >= g) { best = t; t = rec(t).left; } else t = rec(t).right;
  }
  return best;
}

export function freeLargest(): u32 { return treeLast<FreeShape>(H.freeRoot); }

export function wholePageBytes(a: u64, s: u64): u64 {
  const ps = alignUp(a, PAGE_SIZE_BYTES), pe = alignDown(a + s, PAGE_SIZE_BYTES);
  return pe > ps ? pe - ps : 0;
}

// Adds free record n (linked in its segment, not indexed) to the index and the counters.
export function freeInsert(n: u32): void {
  if (H.fifo) {
    if (H.tieSeq == 0xFFFFFFFF) renumberTies();
    rec(n).aux = ++H.tieSeq;
  }
  H.freeRoot = treeInsert<FreeShape>(H.freeRoot, n);
  const s = bytesOf(n);
  H.freeBytes += s;
  H.freeBlocks++;
  H.freeWholePageBytes += wholePageBytes(rec(n).addr, s);
}

export function freeRemove(n: u32): void {
  H.freeRoot = treeRemove<FreeShape>(H.freeRoot, n);
  const s = bytesOf(n);
  H.freeBytes -= s;
  H.freeBlocks--;
  H.freeWholePageBytes -= wholePageBytes(rec(n).addr, s);
}

// FIFO ties after 2^32 insertions: renumber in index order (keeps the order, frees the numbers).
let renumberNext: u32 = 0;
function renumberTies(): void {
  renumberNext = 0;
  renumberWalk(H.freeRoot);
  H.tieSeq = renumberNext;
}
function renumberWalk(t: u32): void {
  if (!t) return;
  renumberWalk(rec(t).left);
  rec(t).aux = ++renumberNext;
  renumberWalk(rec(t).right);
}

// ---------------------------------------------------------------- UCR treaps (per segment, by address)

// @ts-ignore: decorator
@inline export function uMax(t: u32): u32 { return t ? rec(t).aux : 0; }

// A segment's UCRs as a kit tree: ordered by address, summary = the largest size in the subtree (aux).
@final @unmanaged class UcrShape {
  // @ts-ignore: decorator
  @inline left(n: u32): u32 { return rec(n).left; }
  // @ts-ignore: decorator
  @inline setLeft(n: u32, v: u32): void { rec(n).left = v; }
  // @ts-ignore: decorator
  @inline right(n: u32): u32 { return rec(n).right; }
  // @ts-ignore: decorator
  @inline setRight(n: u32, v: u32): void { rec(n).right = v; }
  // @ts-ignore: decorator
  @inline less(a: u32, b: u32): bool { return rec(a).addr < rec(b).addr; }
  // @ts-ignore: decorator
  @inline pull(n: u32): void {
    let m = rec(n).sizeG;
    const a = uMax(rec(n).left), b = uMax(rec(n).right);
    if (a > m) m = a;
    if (b > m) m = b;
    rec(n).aux = m;
  }
}

// Lowest-address UCR of at least g granules.
function uFirstFit(t: u32, g: u32): u32 {
  if (uMax(t) < g) return 0;
  while (t) {
    const l = rec(t).left;
    if (uMax(l) >= g) { t = l; continue; }
    if (rec(t).sizeG >= g) return t;
    t = rec(t).right;
  }
  return 0;
}

function ucrAccount(n: u32, add: bool): void {
  const s = bytesOf(n);
  const large = s >= H.virtLargeUcr;
  if (add) { H.ucrBytes += s; if (large) H.largeUcrBytes += s; }
  else { H.ucrBytes -= s; if (large) H.largeUcrBytes -= s; }
}

function ucrNew(a: u64, bytes: u64, si: u32): u32 {
  const u = newRec(a, <u32>(bytes >> H.gShift), RK_UCR, si);
  ucrAccount(u, true);
  seg(si).ucrRoot = treeInsert<UcrShape>(seg(si).ucrRoot, u);
  H.ucrCount++;
  return u;
}

// Grows (or shrinks, negative) UCR u at its end by `bytes`.
function ucrGrow(u: u32, bytes: i64): void {
  ucrAccount(u, false);
  rec(u).sizeG = <u32>(<i64>rec(u).sizeG + (bytes >> H.gShift));
  ucrAccount(u, true);
  treeRepull<UcrShape>(seg(rec(u).seg).ucrRoot, u);
}

function ucrDelete(u: u32): void {
  const sg = seg(rec(u).seg);
  sg.ucrRoot = treeRemove<UcrShape>(sg.ucrRoot, u);
  ucrAccount(u, false);
  H.ucrCount--;
}

// ---------------------------------------------------------------- coalescing

// Merges free record n (not indexed) with its free neighbours, each side only when asked and when
// the merged block stays within the largest block size (RtlpCoalesceFreeBlocks, brief §1.6 [V]).
// Neighbours are never across a UCR (a UCR is no free block) or a segment end (lists are per segment).
// Returns the surviving record, not indexed.
export function coalesce(n: u32, withPrev: bool, withNext: bool): u32 {
  if (withPrev) {
    const p = rec(n).prev;
    if (p && kind(p) == RK_FREE && rec(p).sizeG + rec(n).sizeG <= H.maxG) {
      freeRemove(p);
      rec(p).sizeG += rec(n).sizeG;
      link(p, rec(n).next);
      dropRec(n);
      n = p;
    }
  }
  if (withNext) {
    const q = rec(n).next;
    if (q && kind(q) == RK_FREE && rec(n).sizeG + rec(q).sizeG <= H.maxG) {
      freeRemove(q);
      rec(n).sizeG += rec(q).sizeG;
      link(n, rec(q).next);
      dropRec(q);
    }
  }
  return n;
}

// Makes [a, a + bytes) of segment si, between records p and q, into free blocks of at most maxG
// granules (merged with free neighbours where the size cap allows) and indexes them.
function addFreeRun(a: u64, bytes: u64, si: u32, p: u32, q: u32): void {
  const maxB = <u64>H.maxG << H.gShift;
  const minB = <u64>MIN_SPLIT_G << H.gShift;
  let left = p;
  let off: u64 = 0;
  let firstPiece: u32 = 0;
  while (off < bytes) {
    let piece = bytes - off;
    if (piece > maxB) {
      piece = maxB;
      if (bytes - off - piece < minB) piece -= minB; // never leave a sliver below the smallest block
    }
    const r = newRec(a + off, <u32>(piece >> H.gShift), RK_FREE, si);
    link(left, r);
    if (!firstPiece) firstPiece = r;
    left = r;
    off += piece;
  }
  link(left, q);
  // Index the pieces: the first may merge backwards, the last forwards.
  let r = firstPiece;
  while (r && r != q) {
    const nx = rec(r).next;
    freeInsert(coalesce(r, r == firstPiece, nx == q));
    r = nx;
  }
}

// ---------------------------------------------------------------- segments

function headerBytes(first: bool): u64 {
  if (H.gShift == GRANULE_SHIFT_X86) return first ? HEAP_HEADER_BYTES_X86 : SEGMENT_HEADER_BYTES_X86;
  return first ? HEAP_HEADER_BYTES_X64 : SEGMENT_HEADER_BYTES_X64;
}

// A new segment with room for a block of `need` bytes (RtlpExtendHeap, brief §1.3 [V]): reserve
// max(next reservation, need + page) rounded to 64 KiB, halving on failure down to that minimum;
// commit max(segmentCommitBytes, need + page). The next reservation grows by (growth − 1) × this
// one: growth 2 doubles as ReactOS does (SegmentReserve += ReserveSize) [V for ReactOS, ? for Vista+].
export function addSegment(need: u64): bool {
  const first = H.segCount == 0;
  const hdr = headerBytes(first);
  const minRes = alignUp(need + PAGE_SIZE_BYTES, ALLOC_GRANULARITY_BYTES);
  let reserve = H.nextReserve > minRes ? H.nextReserve : minRes;
  let base = vmReserve(reserve, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  while (!base && reserve > minRes) {
    reserve = alignUp(reserve >> 1, ALLOC_GRANULARITY_BYTES);
    if (reserve < minRes) reserve = minRes;
    base = vmReserve(reserve, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  }
  if (!base) return false;
  let commit = alignUp(need + PAGE_SIZE_BYTES > H.segCommit ? need + PAGE_SIZE_BYTES : H.segCommit, PAGE_SIZE_BYTES);
  if (commit > reserve) commit = reserve;
  if (vmCommit(base, commit) != Status.OK) { vmRelease(base); return false; }
  const si = H.segCount;
  if (si == H.segCap) {
    const cap = si ? si * 2 : 8;
    H.segTable = resize(H.segTable, <usize>cap * SEG_BYTES);
    H.segCap = cap;
  }
  const sg = seg(si);
  sg.base = base;
  sg.size = reserve;
  sg.ucrRoot = 0;
  H.segCount = si + 1;
  H.segReserved += reserve;
  const h = newRec(base, <u32>(hdr >> H.gShift), RK_HEADER, si);
  seg(si).first = h;
  H.busyBytes += hdr;
  let q: u32 = 0;
  if (commit < reserve) q = ucrNew(base + commit, reserve - commit, si);
  addFreeRun(base + hdr, commit - hdr, si, h, q);
  touchPages(base, hdr + granuleBytes(), owner);
  let next = H.nextReserve + <u64>(H.growth - 1) * reserve;
  if (H.reserveMax && next > H.reserveMax) next = H.reserveMax;
  H.nextReserve = alignUp(next, ALLOC_GRANULARITY_BYTES);
  return true;
}

// Commits `bytes` at the start of UCR u; the new pages become free blocks merged with free
// neighbours (RtlpFindAndCommitPages, brief §1.8 [V]).
function commitInUcr(u: u32, bytes: u64): bool {
  const ua = rec(u).addr, ub = bytesOf(u), si = rec(u).seg;
  const c = bytes < ub ? bytes : ub;
  if (vmCommit(ua, c) != Status.OK) return false;
  const p = rec(u).prev;
  let q: u32;
  if (c == ub) {
    q = rec(u).next;
    ucrDelete(u);
    dropRec(u);
  } else {
    // The UCR shrinks from the front: its key grows but keeps its place in the address order.
    ucrAccount(u, false);
    rec(u).addr = ua + c;
    rec(u).sizeG = <u32>((ub - c) >> H.gShift);
    ucrAccount(u, true);
    treeRepull<UcrShape>(seg(si).ucrRoot, u);
    q = u;
  }
  addFreeRun(ua, c, si, p, q);
  touchPages(ua, granuleBytes(), owner);
  return true;
}

// Makes room for a block of `need` bytes: the first segment (in creation order) whose first
// fitting UCR (in address order) can hold the request's pages, else a new segment (brief §1.3).
function extend(need: u64): bool {
  const want = alignUp(need, PAGE_SIZE_BYTES);
  const g = <u32>(want >> H.gShift);
  for (let i: u32 = 0; i < H.segCount; i++) {
    const u = uFirstFit(seg(i).ucrRoot, g);
    if (u) return commitInUcr(u, want);
  }
  return addSegment(need);
}

// ---------------------------------------------------------------- decommit

// Decommits the whole pages inside free block n (linked, not indexed): [round_up(start),
// round_down(end)), moved one more page inwards on a side whose piece would be exactly one granule
// (RtlpDeCommitFreeBlock, brief §1.7 [V]). The head and tail pieces stay free blocks; the pages
// become a UCR merged with neighbouring UCRs (RtlpInsertUnCommittedPages). Returns the bytes
// decommitted; 0 = nothing to do, n untouched. After a decommit, decommitResume is the first record
// not yet looked at in address order (the tail piece, or what follows the UCR).
export let decommitResume: u32 = 0;
export function decommitBlock(n: u32): u64 {
  const G = granuleBytes();
  const a = rec(n).addr, e = a + bytesOf(n);
  let ps = alignUp(a, PAGE_SIZE_BYTES), pe = alignDown(e, PAGE_SIZE_BYTES);
  if (ps - a == G) ps += PAGE_SIZE_BYTES;
  if (pe > ps && e - pe == G) pe -= PAGE_SIZE_BYTES;
  if (pe <= ps) return 0;
  const bytes = pe - ps;
  if (vmDecommit(ps, bytes) != Status.OK) return 0;
  const si = rec(n).seg;
  const before = rec(n).prev, after = rec(n).next;
  let head: u32 = 0, tail: u32 = 0;
  if (ps > a) { head = n; rec(n).sizeG = <u32>((ps - a) >> H.gShift); }
  if (pe < e) tail = newRec(pe, <u32>((e - pe) >> H.gShift), RK_FREE, si);
  let u: u32;
  if (!head && before && kind(before) == RK_UCR) {
    u = before;
    ucrGrow(u, <i64>bytes);
  } else {
    u = ucrNew(ps, bytes, si);
    link(head ? head : before, u);
  }
  if (!tail && after && kind(after) == RK_UCR) {
    const extra = bytesOf(after), nx = rec(after).next;
    ucrDelete(after);
    dropRec(after);
    ucrGrow(u, <i64>extra);
    link(u, nx);
  } else if (tail) {
    link(u, tail);
    link(tail, after);
  } else {
    link(u, after);
  }
  if (!head) dropRec(n);
  if (head) freeInsert(coalesce(head, true, false));
  if (tail) {
    tail = coalesce(tail, false, true);
    freeInsert(tail);
    decommitResume = tail;
  } else {
    decommitResume = rec(u).next;
  }
  H.decommits++;
  counterAdd(<i32>H.index, C_DECOMMITTED_BYTES, <i64>bytes);
  return bytes;
}

// ---------------------------------------------------------------- back-end alloc / free

// A busy back-end block of exactly `need` bytes (granule multiple, <= the largest block), kind and
// alignment bits in `flags`; the 1-granule remainder rule applies. 0 when the heap cannot grow.
export function backAlloc(need: u64, flags: u32): u32 {
  const g = <u32>(need >> H.gShift);
  let f = freeBestFit(g);
  if (!f) {
    if (!extend(need)) return 0;
    f = freeBestFit(g);
    if (!f) return 0;
  }
  freeRemove(f);
  const fg = rec(f).sizeG;
  if (fg - g >= MIN_SPLIT_G) {
    // The caller gets the low part; the remainder becomes a free block (merged with a free successor).
    const r = newRec(rec(f).addr + need, fg - g, RK_FREE, rec(f).seg);
    link(r, rec(f).next);
    link(f, r);
    rec(f).sizeG = g;
    freeInsert(coalesce(r, false, true));
    touchPages(rec(r).addr, granuleBytes(), owner);
  }
  rec(f).flags = flags;
  H.busyBytes += bytesOf(f);
  return f;
}

// The NT5 decommit rule (brief §1.7 [V]): after coalescing to S bytes, decommit the whole pages
// inside when S >= decommitFreeBlockThreshold and (free total + S) >= decommitTotalFreeThreshold.
export function backFree(b: u32): void {
  H.busyBytes -= bytesOf(b);
  rec(b).flags = RK_FREE;
  touchPages(rec(b).addr, granuleBytes(), owner);
  const n = coalesce(b, true, true);
  const s = bytesOf(n);
  if (s >= H.dfbt && H.freeBytes + s >= H.dtft && decommitBlock(n)) return;
  freeInsert(n);
}

// Cuts busy block b down to `keep` bytes; the tail goes through the free path (coalesce, decommit rule).
export function backShrink(b: u32, keep: u64): void {
  const have = bytesOf(b);
  const t = newRec(rec(b).addr + keep, <u32>((have - keep) >> H.gShift), RK_USER, rec(b).seg);
  link(t, rec(b).next);
  link(b, t);
  rec(b).sizeG = <u32>(keep >> H.gShift);
  // The tail is momentarily a busy block of its own, then freed.
  backFree(t);
}

// Grows busy block b in place to `need` bytes from a free successor; false when it cannot.
export function backGrowInPlace(b: u32, need: u64): bool {
  const q = rec(b).next;
  const have = bytesOf(b);
  if (!q || kind(q) != RK_FREE || have + bytesOf(q) < need) return false;
  const qb = bytesOf(q);
  const extra = need - have;
  freeRemove(q);
  if (qb - extra >= (<u64>MIN_SPLIT_G << H.gShift)) {
    rec(q).addr += extra;
    rec(q).sizeG = <u32>((qb - extra) >> H.gShift);
    rec(b).sizeG = <u32>(need >> H.gShift);
    H.busyBytes += extra;
    // Smaller now, q may fit one block with a free successor it was capped against.
    freeInsert(coalesce(q, false, true));
    touchPages(rec(q).addr, granuleBytes(), owner);
  } else {
    rec(b).sizeG += rec(q).sizeG;
    link(b, rec(q).next);
    dropRec(q);
    H.busyBytes += qb;
  }
  return true;
}

// ---------------------------------------------------------------- large blocks

export function largeHeaderBytes(): u64 {
  return H.gShift == GRANULE_SHIFT_X86 ? VIRTUAL_ALLOC_HEADER_X86 : VIRTUAL_ALLOC_HEADER_X64;
}

// A block above VirtualMemoryThreshold: its own reservation of header + data rounded up to pages,
// all committed, released on free (brief §1.9 [V]).
export function largeAlloc(req: u64, alignBits: u32): u32 {
  const bytes = alignUp(req + largeHeaderBytes(), PAGE_SIZE_BYTES);
  if ((bytes >> H.gShift) > 0xFFFFFFFF) return 0;
  const base = vmReserve(bytes, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  if (!base) return 0;
  if (vmCommit(base, bytes) != Status.OK) { vmRelease(base); return 0; }
  const b = newRec(base, <u32>(bytes >> H.gShift), RK_LARGE | alignBits, NO_SEG);
  link(b, H.largeHead);
  H.largeHead = b;
  H.largeBlocks++;
  H.largeBytes += bytes;
  touchPages(base, req + largeHeaderBytes(), owner);
  return b;
}

export function largeFree(b: u32): void {
  const p = rec(b).prev, q = rec(b).next;
  if (p) link(p, q);
  else { H.largeHead = q; if (q) rec(q).prev = 0; }
  vmRelease(rec(b).addr);
  H.largeBlocks--;
  H.largeBytes -= bytesOf(b);
  dropRec(b);
}
