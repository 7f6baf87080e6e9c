// === fit: boundary-tag heap with immediate coalescing; best-fit and next-fit choose the block ===
//
// Shared by best-fit and next-fit (not a policy): everything but the choice of the free block.
//   block       16-byte header, 16-byte granule: block bytes = alignUp(max(n, 1) + 16, 16), at least
//               32; an aligned request adds (alignment - 16) and aligns the user pointer inside
//   choice      best-fit: the smallest free block that holds the request, the lowest address among
//               equals. next-fit: the lowest-addressed free block that holds it at or above the
//               rover, else (wrapping round) the lowest-addressed one at all; the rover is then
//               the end of the block handed out
//   split       the block is cut at its front when the rest is at least 32 bytes; the rest stays free
//   no fit      the request is carved from the top of the heap (textbook/arena.ts: Wilson's
//               wilderness, used last); the rover does not move
//   free        merges at once with a free block before and after it; a block that ends at the top
//               of the newest segment goes back to the top
//   realloc     shrinks in place (a tail of 32 bytes or more is freed), grows in place into a free
//               next block, else allocates, copies and frees
//   trim        gives back the committed pages of the tops (textbook/arena.ts)
//
// ╒═══ block record (REC_BYTES = 28) ═══════════════════════════════════════════════════╕
// │ 0 addr (bits 0..55) and flags (bits 56..63) u64 │ 8 sizeG u32 │ 12 left u32             │
// │ 16 right u32 │ 20 prevPhys u32 │ 24 nextPhys u32                                        │
// ╘═════════════════════════════════════════════════════════════════════════════════════╛
//   flags: FREE, bits 1..7 log2(alignment). sizeG: the size in 16-byte granules. A size of 64 GiB
//   or more does not fit 32 bits of granules: the field holds SIZE_WIDE and the value is in the
//   wide table (Blk's accessors read and write both). No segment index: a block's segment is found
//   from its address where it is needed (a block at a segment's end). 28 bytes, not 32: a record
//   may straddle two cache lines, but python.hst's 1.2 M records take an eighth fewer fresh pages
//   (whole run: ~1,200 fewer page faults, CPU 0.96 of 32-byte records, next-fit and best-fit alike).
//   best-fit's free blocks are in kit trees
//   (treaps): below BIN_LIMIT_BYTES one per exact size (a bin), ordered by address, with a bitmap
//   of the bins that hold one (binInsert/binRemove below: the kit's treeInsertDown/RemoveDown with
//   the pool's base and the block's key in locals); from BIN_LIMIT_BYTES up one tree ordered by
//   (size, address) (no summary: the largest block is the last), with the kit's. next-fit's are in
//   a bucket index by address per segment (left/right: the bucket's list; "next-fit's bucket
//   index" below), but for the rover block (H.roverBlk: the free block that starts at the rover,
//   if the rover cut it last), kept out of it; next-fit changes a block whose address stays in
//   its bucket (the front cut off, a neighbour merged in) without unlinking it.
//
// Invariants (fitCheck returns the number of the first that fails):
//   F1 the blocks of each segment tile [base, top) in address order, prev/next links agree
//   F2 no two adjacent free blocks; the newest segment's last block is not free
//   F3 the treaps (best-fit) or the bucket index (next-fit: all but the rover block, a free block
//      at the rover; lists and maxima as checkIndex says) hold exactly the free blocks, in key
//      order, the treaps heap-ordered; best-fit: each bin only
//      blocks of its size, the large tree none below BIN_LIMIT_BYTES, the bitmap and its summary
//      bits set exactly for the bins that hold one
//   F4 counters equal a recount; the arena's pages are [base, frontier) committed (arena.ts)

import { resizeZeroed } from "../../mem";
import {
  Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS,
  K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS,
} from "../../abi";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, poolBytes, reserveForHint } from "../../kit/records";
import { paramInt, PARAM_INVALID } from "../../kit/params";
import { counterAdd, putSlot } from "../../kit/counters";
import { treeInsertDown, treeRemoveDown, treeCheckPriorities, treeFirst, treeLast, treePriority } from "../../kit/tree";
import { PAGE_SIZE_BYTES, alignUp, MiB, KiB } from "../../vm/constants";
import { touchPages, vmIsCommitted } from "../../vm/space";
import { CHECKS } from "../../checks";
import {
  Arena, ARENA_BYTES, arenaInit, arenaDestroy, carve, seg, segOf, isNewest, lowerTop, trimTops,
  topCommittedBytes, uncommittedRanges, abandonedTopBytes, arenaCheck, topBlocks, largestTop,
} from "./arena";
import { HEADER_BYTES, blockBytes, userAddressOf, keptAlign } from "./geometry";
import { NODE_ENTRIES, max2, nodeMax } from "./node-max";

export const RULE_BEST: u32 = 0;
export const RULE_NEXT: u32 = 1;

const MIN_BLOCK_BYTES: u64 = 32;   // a header and two free-list links

// Parameters (slot index in the HEAP_CREATE params block; NaN = default); the same for both rules.
export const FIT_SEGMENT_RESERVE_BYTES = 0;  // default 1 MiB: first reservation of the heap
export const FIT_COMMIT_STEP_BYTES = 1;      // default 64 KiB: the top is committed in these steps
export const FIT_PARAM_COUNT = 2;
const DEFAULT_SEGMENT_RESERVE_BYTES: u64 = 1 * MiB;
const DEFAULT_COMMIT_STEP_BYTES: u64 = 64 * KiB;
const MAX_RESERVE_BYTES: u64 = 1024 * MiB;

// Policy counters (kit/counters.ts; names in the index.ts files, same order; next-fit has two
// more). 1..4 and 8 are counted where they happen, the others computed at sample time.
const C_TOP_COMMITTED_BYTES = 0;  // committed above the tops
const C_CARVED_BLOCKS = 1;        // allocs carved from the top, cumulative
const C_REUSED_BLOCKS = 2;        // allocs served by a free block, cumulative
const C_SPLITS = 3;               // free blocks cut, cumulative
const C_COALESCES = 4;            // merges of neighbours (and with the top), cumulative
const C_TRIMMED_BYTES = 5;
const C_ABANDONED_BYTES = 6;      // left at the tops of older segments
const C_ROVER_ADDRESS = 7;        // next-fit only
const C_WRAPS = 8;                // next-fit only: searches that wrapped round

const FL_FREE: u32 = 1;
const FL_ALIGN_SHIFT: u32 = 1;
const DEAD: u32 = 0xFF;

// ---------------------------------------------------------------- records

@unmanaged class Blk {
  word: u64;       // address (bits 0..55) and flags (bits 56..63)
  sizeG: u32;      // size in granules; SIZE_WIDE: in the wide table
  left: u32;
  right: u32;
  prevPhys: u32;
  nextPhys: u32;

  // The fields as the rest of this file reads and writes them: bytes, flags as one u32, the segment.
  // @ts-ignore: decorator
  @inline get addr(): u64 { return this.word & ADDR_MASK; }
  // @ts-ignore: decorator
  @inline set addr(v: u64) {
    if (CHECKS) assert(v <= ADDR_MASK, "fit address above 2^56");
    this.word = (this.word & ~ADDR_MASK) | v;
  }
  // @ts-ignore: decorator
  @inline get flags(): u32 { return <u32>(this.word >> FLAGS_SHIFT); }
  // @ts-ignore: decorator
  @inline set flags(v: u32) { this.word = (this.word & ADDR_MASK) | (<u64>v << FLAGS_SHIFT); }
  // @ts-ignore: decorator
  @inline get size(): u64 { return granuleBytes(this, WIDE_SIZE, this.sizeG); }
  // @ts-ignore: decorator
  @inline set size(v: u64) {
    if (CHECKS) assert((v & GRANULE_MASK) == 0, "fit size not whole granules");
    setGranules(this, WIDE_SIZE, changetype<usize>(this) + offsetof<Blk>("sizeG"), v);
  }
  // The segment that holds the block (not stored: read where a block is a segment's first or last).
  // @ts-ignore: decorator
  @inline get seg(): u32 { return segOfAddr(this.addr); }
}
const REC_BYTES: usize = 28;
// Records from a cache-line boundary (the pool's first record; 28-byte records then straddle lines).
const POOL_ALIGN_BYTES: u32 = 64;
if (offsetof<Blk>() != REC_BYTES) ERROR("fit record layout");
// Simulated addresses lie below USER_HIGH_X64 (vm/constants.ts, < 2^47): the top byte holds the flags.
const FLAGS_SHIFT: u64 = 56;
const ADDR_MASK: u64 = (<u64>1 << FLAGS_SHIFT) - 1;
// Every block size (and maximum) is whole 16-byte granules (geometry.ts): 32 bits of granules reach
// 64 GiB - 16; a value from 64 GiB up is kept in the wide table, its field holding SIZE_WIDE.
const GRANULE_SHIFT: u64 = 4;
const GRANULE_MASK: u64 = (<u64>1 << GRANULE_SHIFT) - 1;
const SIZE_WIDE: u32 = 0xFFFFFFFF;
const WIDE_SIZE: u32 = 0;

// Every best-fit and next-fit heap's block records, one kit pool (dropped records link through left).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>offsetof<Blk>("left"), 4096, POOL_ALIGN_BYTES);
// Records per live block the pool is sized for from the replay's hint (kit/hint.ts): each busy
// block, and at most one free block beside it (free neighbours merge).
const RECORDS_PER_LIVE_BLOCK: u32 = 2;

// (The pool's base times the constant record size: recordAt would load the size from the pool.)
// @ts-ignore: decorator
@inline function B(n: u32): Blk { return changetype<Blk>(RECS.base + <usize>n * REC_BYTES); }
// @ts-ignore: decorator
@inline function isFree(n: u32): bool { return (B(n).flags & FL_FREE) != 0; }
// Block b loses its first `bytes` (fewer than it has): its address moves up (within the word's
// address bits: addresses stay below 2^47), its size drops, in granules unless it was wide.
// @ts-ignore: decorator
@inline function cutBlock(b: Blk, bytes: u64): void {
  b.word += bytes;
  const g = b.sizeG;
  if (g != SIZE_WIDE) b.sizeG = g - <u32>(bytes >> GRANULE_SHIFT); else b.size = b.size - bytes;
}
// Block b takes in block c's bytes: in granules while the sum stays narrow.
// @ts-ignore: decorator
@inline function takeIn(b: Blk, c: Blk): void {
  const s = <u64>b.sizeG + <u64>c.sizeG;
  if (s < <u64>SIZE_WIDE) b.sizeG = <u32>s; else b.size = b.size + c.size;
}

// The wide table: sizes and maxima of 64 GiB or more (a block that large is rare: each takes 64
// GiB of the 128 TiB address space), as (key u32, pad u32, value u64) entries, key = record * 2 +
// field, in no order. An entry lives while its field holds SIZE_WIDE (dropRec forgets both).
const WIDE_ENTRY_BYTES: usize = 16;
let wideBase: usize = 0;
let wideCount: u32 = 0;
let wideCap: u32 = 0;

// The wide table's one function (out of line: at about 100 instructions it is above the inliner's
// limit, so the accessors' rare path stays a call): op WIDE_GET gives record b's field's value,
// WIDE_SET sets it to v (adding the entry), WIDE_FORGET removes the entry if there is one.
const WIDE_GET: u32 = 0;
const WIDE_SET: u32 = 1;
const WIDE_FORGET: u32 = 2;
function wide(b: Blk, field: u32, op: u32, v: u64): u64 {
  const k = (<u32>((changetype<usize>(b) - RECS.base) / REC_BYTES) << 1) | field;
  let e: usize = 0;
  for (let i: u32 = 0; i < wideCount; i++) {
    const x = wideBase + <usize>i * WIDE_ENTRY_BYTES;
    if (load<u32>(x) == k) { e = x; break; }
  }
  if (op == WIDE_GET) {
    if (!e) unreachable();   // a field holds SIZE_WIDE without its entry
    return load<u64>(e, 8);
  }
  if (op == WIDE_SET) {
    if (!e) {
      if (wideCount == wideCap) {
        const cap = wideCap ? wideCap * 2 : 8;
        wideBase = resizeZeroed(wideBase, <usize>wideCap * WIDE_ENTRY_BYTES, <usize>cap * WIDE_ENTRY_BYTES);
        wideCap = cap;
      }
      e = wideBase + <usize>wideCount * WIDE_ENTRY_BYTES;
      wideCount++;
      store<u32>(e, k);
    }
    store<u64>(e, v, 8);
    return v;
  }
  if (e) {
    wideCount--;
    const last = wideBase + <usize>wideCount * WIDE_ENTRY_BYTES;
    if (e != last) memory.copy(e, last, WIDE_ENTRY_BYTES);
  }
  return 0;
}
// @ts-ignore: decorator
@inline function wideGet(b: Blk, field: u32): u64 { return wide(b, field, WIDE_GET, 0); }
// @ts-ignore: decorator
@inline function wideSet(b: Blk, field: u32, v: u64): void { wide(b, field, WIDE_SET, v); }
// @ts-ignore: decorator
@inline function wideForget(b: Blk, field: u32): void { wide(b, field, WIDE_FORGET, 0); }
// The bytes of a granule field (size or max) whose stored value is g: g granules, or the side
// table's entry when g is SIZE_WIDE.
// @ts-ignore: decorator
@inline function granuleBytes(b: Blk, field: u32, g: u32): u64 {
  return g != SIZE_WIDE ? <u64>g << GRANULE_SHIFT : wideGet(b, field);
}
// Stores v bytes in the granule field (size or max) at `at` of block b: the granules, or SIZE_WIDE
// with v in the side table (an entry no longer needed is forgotten).
// @ts-ignore: decorator
@inline function setGranules(b: Blk, field: u32, at: usize, v: u64): void {
  const g = v >> GRANULE_SHIFT;
  if (g < <u64>SIZE_WIDE) {
    if (load<u32>(at) == SIZE_WIDE) wideForget(b, field);
    store<u32>(at, <u32>g);
  } else {
    wideSet(b, field, v);
    store<u32>(at, SIZE_WIDE);
  }
}

function newRec(addr: u64, size: u64, flags: u32): u32 {
  const n = takeRecord(RECS);
  const b = B(n);
  const p = changetype<usize>(b);
  b.word = addr | (<u64>flags << FLAGS_SHIFT);
  // sizeG, then the four links in two stores (a taken record holds no wide
  // entry: dropRec forgot them).
  const g = size >> GRANULE_SHIFT;
  store<u32>(p, g < <u64>SIZE_WIDE ? <u32>g : 0, offsetof<Blk>("sizeG"));
  store<u64>(p, 0, offsetof<Blk>("left"));
  store<u64>(p, 0, offsetof<Blk>("prevPhys"));
  if (g >= <u64>SIZE_WIDE) b.size = size;
  return n;
}

// @ts-ignore: decorator
@inline function dropRec(n: u32): void {
  const b = B(n);
  if (b.sizeG == SIZE_WIDE) wideForget(b, WIDE_SIZE);
  b.flags = DEAD;
  dropRecord(RECS, n);
}

export function fitEngineBytes(): usize { return poolBytes(RECS); }
export function fitRecordBytes(): u32 { return <u32>REC_BYTES; }

// ---------------------------------------------------------------- heap state

@unmanaged class FitHeap {
  rule: u32;
  root: u32;          // best-fit: treap of the large free blocks
  firsts: usize;      // u32 per segment: the block at its base (0 = none)
  lasts: usize;       // u32 per segment: the block below its top (0 = none)
  physCap: u32;
  roverBlk: u32;      // next-fit: the free block at the rover, kept out of the tree (0 = none)
  rover: u64;         // next-fit
  busyBytes: u64;
  busyBlocks: u64;
  freeBytes: u64;
  freeBlocks: u64;
  bins: usize;        // best-fit: BIN_COUNT u32 roots (one treap per size), then BIN_WORDS u32 bitmap words
  binSummary: u32;    // best-fit: bit w set iff bitmap word w is not 0
  ixs: usize;         // next-fit: NX_BYTES per segment slot (physCap): each segment's bucket index
}
const HEAP_BYTES: usize = offsetof<FitHeap>();

const states = memory.data(MAX_HEAPS * 4);
let H: FitHeap = changetype<FitHeap>(0);
let A: Arena = changetype<Arena>(0);
let owner: u8 = 0;
let heapNo: i32 = 0;

function use(heapIndex: i32): void {
  H = changetype<FitHeap>(<usize>load<u32>(states + (<usize>heapIndex << 2)));
  A = changetype<Arena>(changetype<usize>(H) + HEAP_BYTES);
  owner = <u8>heapIndex;
  heapNo = heapIndex;
}

// @ts-ignore: decorator
@inline function firstOf(i: u32): u32 { return i < H.physCap ? load<u32>(H.firsts + (<usize>i << 2)) : 0; }
// @ts-ignore: decorator
@inline function lastOf(i: u32): u32 { return i < H.physCap ? load<u32>(H.lasts + (<usize>i << 2)) : 0; }
// @ts-ignore: decorator
@inline function setFirst(i: u32, n: u32): void { store<u32>(H.firsts + (<usize>i << 2), n); }
// @ts-ignore: decorator
@inline function setLast(i: u32, n: u32): void { store<u32>(H.lasts + (<usize>i << 2), n); }

export function fitCreate(heapIndex: i32, params: usize, count: i32, rule: u32): Status {
  const reserve = paramInt(params, count, FIT_SEGMENT_RESERVE_BYTES, DEFAULT_SEGMENT_RESERVE_BYTES);
  const step = paramInt(params, count, FIT_COMMIT_STEP_BYTES, DEFAULT_COMMIT_STEP_BYTES);
  if (reserve == PARAM_INVALID || step == PARAM_INVALID) return Status.BAD_PARAM;
  if (reserve < <i64>PAGE_SIZE_BYTES || <u64>reserve > MAX_RESERVE_BYTES) return Status.BAD_PARAM;
  if (step < <i64>PAGE_SIZE_BYTES || <u64>step > MAX_RESERVE_BYTES) return Status.BAD_PARAM;
  const st = heap.alloc(HEAP_BYTES + ARENA_BYTES);
  memory.fill(st, 0, HEAP_BYTES + ARENA_BYTES);
  store<u32>(states + (<usize>heapIndex << 2), <u32>st);
  use(heapIndex);
  reserveForHint(RECS, RECORDS_PER_LIVE_BLOCK);
  H.rule = rule;
  if (rule == RULE_BEST) {
    H.bins = heap.alloc(BINS_BYTES);
    memory.fill(H.bins, 0, BINS_BYTES);
  }
  arenaInit(A, heapIndex, <u64>reserve, <u64>step);
  return Status.OK;
}

export function fitDestroy(heapIndex: i32): void {
  use(heapIndex);
  for (let i: u32 = 0; i < A.segCount; i++) {
    let n = firstOf(i);
    while (n) { const x = B(n).nextPhys; dropRec(n); n = x; }
  }
  arenaDestroy(A);
  if (H.firsts) { heap.free(H.firsts); heap.free(H.lasts); }
  if (H.ixs) {
    for (let i: u32 = 0; i < H.physCap; i++) {
      const ix = ixAt(i);
      if (load<u32>(ix + NX_LEVELS)) { heap.free(<usize>load<u32>(ix + NX_HEADS)); heap.free(levelAt(ix, 0)); }
    }
    heap.free(H.ixs);
  }
  if (H.bins) heap.free(H.bins);
  heap.free(changetype<usize>(H));
  store<u32>(states + (<usize>heapIndex << 2), 0);
}

// ---------------------------------------------------------------- the free blocks' tree

// best-fit: ordered by (size, address). No summary: the best fit is a plain descent, and the
// largest block is the last one. (Keeping a maximum would make every split, join and remove read
// the sibling records on its path: a cache miss per level, for a value the order already gives.)
@final @unmanaged class BySize {
  // @ts-ignore: decorator
  @inline left(n: u32): u32 { return B(n).left; }
  // @ts-ignore: decorator
  @inline setLeft(n: u32, v: u32): void { B(n).left = v; }
  // @ts-ignore: decorator
  @inline right(n: u32): u32 { return B(n).right; }
  // @ts-ignore: decorator
  @inline setRight(n: u32, v: u32): void { B(n).right = v; }
  // @ts-ignore: decorator
  @inline less(a: u32, b: u32): bool { return B(a).size != B(b).size ? B(a).size < B(b).size : B(a).addr < B(b).addr; }
  // @ts-ignore: decorator
  @inline pull(n: u32): void {}
  // @ts-ignore: decorator
  @inline grow(t: u32, n: u32): void {}
  // @ts-ignore: decorator
  @inline keeps(t: u32, n: u32): bool { return true; }
}

// best-fit's bins, treaps by address: insert and remove top down, building the trees kit
// treeInsertDown and treeRemoveDown<BinOrder> build (the same priorities, the same ties), with the
// pool's base and the block's address and priority in locals and the split and the join as loops
// (the kit's generic loops reload RECS.base and the block's fields after every store to a record,
// which the compiler cannot tell from them, and recurse for the split and the join).
// @ts-ignore: decorator
@inline function blkAt(base: usize, n: u32): Blk { return changetype<Blk>(base + <usize>n * REC_BYTES); }

function binInsert(t: u32, n: u32): u32 {
  const base = RECS.base;
  const bn = blkAt(base, n);
  // (Keys as words: the words of free blocks order as their addresses, their flags being FL_FREE alike.)
  const w = bn.word, pn = treePriority(n);
  let parent: u32 = 0, wentLeft = false, cur = t;
  // (A test before the loop: pn used twice stays a local, not a hash recomputed in the loop.)
  if (cur && treePriority(cur) > pn) {
    do {
      const b = blkAt(base, cur);
      parent = cur;
      wentLeft = w < b.word;
      cur = wentLeft ? b.left : b.right;
    } while (cur && treePriority(cur) > pn);
  }
  // Split cur's subtree around addr: the records before n become n's left subtree along a chain of
  // rights (lo: its last record, whose right comes next; n while there is none), the records after
  // it n's right subtree along a chain of lefts (hi).
  let lo = n, hi = n;
  while (cur) {
    const b = blkAt(base, cur);
    if (w < b.word) {
      if (hi == n) bn.right = cur; else blkAt(base, hi).left = cur;
      hi = cur;
      cur = b.left;
    } else {
      if (lo == n) bn.left = cur; else blkAt(base, lo).right = cur;
      lo = cur;
      cur = b.right;
    }
  }
  if (lo == n) bn.left = 0; else blkAt(base, lo).right = 0;
  if (hi == n) bn.right = 0; else blkAt(base, hi).left = 0;
  if (!parent) return n;
  if (wentLeft) blkAt(base, parent).left = n; else blkAt(base, parent).right = n;
  return t;
}

function binRemove(t: u32, n: u32): u32 {
  const base = RECS.base;
  const bn = blkAt(base, n);
  const w = bn.word;   // as in binInsert
  let hook: u32 = 0, hookLeft = false, cur = t;
  while (cur != n) {
    const b = blkAt(base, cur);
    hook = cur;
    hookLeft = w < b.word;
    cur = hookLeft ? b.left : b.right;
    if (!cur) unreachable();   // n is not in the tree (a broken order): trap, do not walk record 0
  }
  // Join n's subtrees a (all before addr) and c (all after): the higher priority goes on top, c's
  // on a tie (kit treeJoin); the join goes down a's rights and c's lefts. `at` is the last record
  // placed (0: the joined tree's root comes next), its right (atRight) or left to fill.
  let a = bn.left, c = bn.right, joined: u32 = 0, at: u32 = 0, atRight = false;
  while (a && c) {
    let x: u32;
    if (treePriority(a) > treePriority(c)) x = a; else x = c;
    if (!at) joined = x; else if (atRight) blkAt(base, at).right = x; else blkAt(base, at).left = x;
    at = x;
    atRight = x == a;
    if (atRight) a = blkAt(base, a).right; else c = blkAt(base, c).left;
  }
  const rest = a ? a : c;
  if (!at) joined = rest; else if (atRight) blkAt(base, at).right = rest; else blkAt(base, at).left = rest;
  if (hook) { if (hookLeft) blkAt(base, hook).left = joined; else blkAt(base, hook).right = joined; }
  return hook ? t : joined;
}

// ---------------------------------------------------------------- next-fit's bucket index
//
// next-fit's free blocks (but the rover block) are indexed per segment by address. The segment's
// carved part is cut into buckets of 2^shift bytes (4 KiB; coarser where a segment would need more
// than NX_MAX_BUCKETS of them); a block belongs to the bucket of its first byte; heads[b] is its
// lowest block, the rest follow in address order through right (left points back). Over the
// buckets a tree of maxima, exact at every level: level 0 a u32 per bucket, the granules of its
// largest block (SIZE_WIDE for a wide one: exact for a narrow request), level l+1 a u32 per FAN
// (16: one cache line) entries of level l, their largest. Every level is padded with zero entries
// to whole nodes; the top level is one entry (the segment's largest). The first fit at or above an
// address: its bucket's list from there, then up the tree to the first node with a later entry
// that holds the request, down to its first such bucket, that bucket's first block that holds it;
// then the segments above, in address order. The index covers the segment's carved part and grows
// with it (the newest segment grows in place, arena.ts): doubling, its buckets kept; past
// NX_MAX_BUCKETS the buckets double in size and the index is rebuilt from the segment's blocks.
// A wide request (64 GiB or more) walks the segments' blocks (rare: exact sizes).
//
// ╒═══ segment's index (NX_BYTES, in H.ixs, one per segment slot) ═══════════════════════════╕
// │ 0 heads u32 ptr │ 4 shift u32 │ 8 buckets u32 │ 12 levels u32 (0: none yet) │ 16.. level u32 ptrs │
// ╘════════════════════════════════════════════════════════════════════════════════════════════╛
const NX_HEADS: usize = 0;
const NX_SHIFT: usize = 4;
const NX_BUCKETS: usize = 8;
const NX_LEVELS: usize = 12;
const NX_LEVEL_PTRS: usize = 16;
const NX_MAX_LEVELS: u32 = 8;
const NX_BYTES: usize = NX_LEVEL_PTRS + <usize>NX_MAX_LEVELS * 4;
const NX_FAN_SHIFT: u32 = 4;
const NX_FAN: u32 = 1 << NX_FAN_SHIFT;
const NX_BUCKET_SHIFT: u32 = 12;   // 4 KiB buckets
// At most 2^18 buckets a segment (1 MiB of heads, 1 MiB of level 0: 1 GiB of 4 KiB buckets); debug
// builds stop at 64, so the tests' heaps take the coarser buckets and the rebuild.
const NX_MAX_BUCKETS: u32 = CHECKS ? 64 : 1 << 18;

// @ts-ignore: decorator
@inline function ixAt(i: u32): usize { return H.ixs + <usize>i * NX_BYTES; }
// @ts-ignore: decorator
@inline function levelAt(ix: usize, l: u32): usize { return <usize>load<u32>(ix + NX_LEVEL_PTRS + (<usize>l << 2)); }
// @ts-ignore: decorator
@inline function headAt(ix: usize, b: u32): usize { return <usize>load<u32>(ix + NX_HEADS) + (<usize>b << 2); }
// @ts-ignore: decorator
@inline function leafAt(ix: usize, b: u32): usize { return levelAt(ix, 0) + (<usize>b << 2); }
// @ts-ignore: decorator
@inline function bucketIn(i: u32, ix: usize, a: u64): u32 { return <u32>((a - seg(A, i).base) >> <u64>load<u32>(ix + NX_SHIFT)); }
// @ts-ignore: decorator
@inline function wholeNodes(count: u32): u32 { return (count + NX_FAN - 1) & ~(NX_FAN - 1); }
if (NX_FAN != NODE_ENTRIES) ERROR("next-fit's nodes are node-max.ts's");

// Bucket b's maximum rose to g (or stayed): the entries above follow while they are below it.
// @ts-ignore: decorator
@inline function ixRaise(ix: usize, b: u32, g: u32): void {
  const levels = load<u32>(ix + NX_LEVELS);
  let j = b;
  for (let l: u32 = 0; l < levels; l++) {
    const q = levelAt(ix, l) + (<usize>j << 2);
    if (load<u32>(q) >= g) return;
    store<u32>(q, g);
    j >>= NX_FAN_SHIFT;
  }
}

// Bucket b lost a block of g granules, or a block of g granules shrank: when g was its maximum,
// the maximum is recounted (a block of g granules still there ends the count: free blocks of one
// size crowd a bucket) and the entries above follow while they change.
function ixLowered(ix: usize, b: u32, g: u32): void {
  const leaf = leafAt(ix, b);
  if (load<u32>(leaf) != g) return;
  let m: u32 = 0;
  let t = load<u32>(headAt(ix, b));
  while (t) {
    const x = B(t).sizeG;
    if (x >= g) return;
    m = max2(m, x);
    t = B(t).right;
  }
  store<u32>(leaf, m);
  const levels = load<u32>(ix + NX_LEVELS);
  let j = b;
  for (let l: u32 = 1; l < levels; l++) {
    const q = levelAt(ix, l) + (<usize>(j >> NX_FAN_SHIFT) << 2);
    if (load<u32>(q) != g) return;   // another entry below it is larger (or as large)
    m = nodeMax(levelAt(ix, l - 1) + (<usize>(j & ~(NX_FAN - 1)) << 2));
    if (m == g) return;
    store<u32>(q, m);
    j >>= NX_FAN_SHIFT;
  }
}

// Links free block n into its bucket of segment i's index, in address order.
function nfInsertIn(i: u32, n: u32): void {
  const ix = ixAt(i);
  const bn = B(n);
  const a = bn.word;   // (free blocks' words order as their addresses)
  const b = bucketIn(i, ix, bn.addr);
  const head = headAt(ix, b);
  let prev: u32 = 0, cur = load<u32>(head);
  while (cur && B(cur).word < a) { prev = cur; cur = B(cur).right; }
  bn.left = prev;
  bn.right = cur;
  if (prev) B(prev).right = n; else store<u32>(head, n);
  if (cur) B(cur).left = n;
  ixRaise(ix, b, bn.sizeG);
}

// Unlinks free block n from its bucket of segment i's index.
function nfRemoveIn(i: u32, n: u32): void {
  const ix = ixAt(i);
  const bn = B(n);
  const b = bucketIn(i, ix, bn.addr);
  const p = bn.left, q = bn.right;
  if (p) B(p).right = q; else store<u32>(headAt(ix, b), q);
  if (q) B(q).left = p;
  ixLowered(ix, b, bn.sizeG);
}

// @ts-ignore: decorator
@inline function nfInsert(n: u32): void { nfInsertIn(B(n).seg, n); }
// @ts-ignore: decorator
@inline function nfRemove(n: u32): void { nfRemoveIn(B(n).seg, n); }

// Free block n grew, its address kept: its bucket's maximum follows.
// @ts-ignore: decorator
@inline function nfGrew(n: u32): void {
  const i = B(n).seg, ix = ixAt(i);
  ixRaise(ix, bucketIn(i, ix, B(n).addr), B(n).sizeG);
}

// Free block q takes in the busy block before it (at address a, q's new address, in its segment i):
// no free block lies between, so q keeps its place in its bucket's list, or becomes the last of the
// earlier bucket's (and was the first of its own).
function nfGrewDown(i: u32, q: u32, a: u64, grownBytes: u64): void {
  const ix = ixAt(i);
  const from = bucketIn(i, ix, B(q).addr), to = bucketIn(i, ix, a);
  if (from != to) nfRemoveIn(i, q);
  B(q).addr = a;
  B(q).size += grownBytes;
  if (from != to) nfInsertIn(i, q); else ixRaise(ix, to, B(q).sizeG);
}

// Free block f (in the index) gives its first cutBytes to a busy block: it keeps its place in its
// bucket's list, or moves to a later bucket's head.
function nfCutFront(f: u32, cutBytes: u64): void {
  const i = B(f).seg, ix = ixAt(i);
  const from = bucketIn(i, ix, B(f).addr), to = bucketIn(i, ix, B(f).addr + cutBytes);
  if (from != to) {
    nfRemoveIn(i, f);
    cutBlock(B(f), cutBytes);
    nfInsertIn(i, f);
    return;
  }
  const g = B(f).sizeG;
  cutBlock(B(f), cutBytes);
  ixLowered(ix, from, g);
}

// Makes segment i's index cover its carved part (arena.ts: the newest segment grows in place).
// @ts-ignore: decorator
@inline function nfCover(i: u32): void {
  const ix = ixAt(i), s = seg(A, i);
  if (s.top - s.base > (<u64>load<u32>(ix + NX_BUCKETS) << <u64>load<u32>(ix + NX_SHIFT))) nfGrowIndex(i);
}

// Segment i's index, made larger: twice the bytes it covered, at least the carved part. Its
// buckets are kept while their size does; past NX_MAX_BUCKETS they double in size (until the
// count fits) and every free block of the segment is linked again.
function nfGrowIndex(i: u32): void {
  const ix = ixAt(i), s = seg(A, i);
  const oldLevels = load<u32>(ix + NX_LEVELS);
  const oldShift = oldLevels ? load<u32>(ix + NX_SHIFT) : NX_BUCKET_SHIFT;
  const oldBuckets = oldLevels ? load<u32>(ix + NX_BUCKETS) : 0;
  const oldHeads = <usize>load<u32>(ix + NX_HEADS), oldMaxes = levelAt(ix, 0);
  let bytes = <u64>oldBuckets << <u64>oldShift << 1;
  if (bytes < s.top - s.base) bytes = s.top - s.base;
  let shift = oldShift;
  while (((bytes + (<u64>1 << shift) - 1) >> shift) > <u64>NX_MAX_BUCKETS) shift++;
  const nb = wholeNodes(<u32>((bytes + (<u64>1 << shift) - 1) >> shift));
  // the levels: nb entries, then one per node of the level below, until one
  let entries: usize = 0, levels: u32 = 0, c = nb;
  while (true) {
    store<u32>(ix + NX_LEVEL_PTRS + (<usize>levels << 2), <u32>entries);   // offsets for now
    entries += wholeNodes(c);
    levels++;
    if (c == 1) break;
    c = (c + NX_FAN - 1) >> NX_FAN_SHIFT;
  }
  if (levels > NX_MAX_LEVELS) unreachable();
  const maxes = heap.alloc(entries << 2);
  memory.fill(maxes, 0, entries << 2);
  const heads = heap.alloc(<usize>nb << 2);
  const kept = shift == oldShift ? oldBuckets : 0;
  if (kept) {
    memory.copy(heads, oldHeads, <usize>kept << 2);
    memory.copy(maxes, oldMaxes, <usize>kept << 2);
  }
  memory.fill(heads + (<usize>kept << 2), 0, <usize>(nb - kept) << 2);
  if (oldLevels) { heap.free(oldHeads); heap.free(oldMaxes); }
  for (let l: u32 = 0; l < levels; l++) {
    const at = ix + NX_LEVEL_PTRS + (<usize>l << 2);
    store<u32>(at, <u32>(maxes + (<usize>load<u32>(at) << 2)));
  }
  store<u32>(ix + NX_HEADS, <u32>heads);
  store<u32>(ix + NX_SHIFT, shift);
  store<u32>(ix + NX_BUCKETS, nb);
  store<u32>(ix + NX_LEVELS, levels);
  if (!kept && oldLevels) {
    // new bucket sizes: the segment's free blocks linked again, in address order (each the last of its bucket)
    store<u32>(ix + NX_LEVELS, 1);   // (level 0 only while they are linked: the levels above are made below)
    let n = firstOf(i), lastB: u32 = 0, last: u32 = 0;
    while (n) {
      if (isFree(n) && n != H.roverBlk) {
        const b = bucketIn(i, ix, B(n).addr);
        if (last && lastB == b) { B(last).right = n; B(n).left = last; }
        else { store<u32>(headAt(ix, b), n); B(n).left = 0; }
        B(n).right = 0;
        ixRaise(ix, b, B(n).sizeG);
        last = n; lastB = b;
      }
      n = B(n).nextPhys;
    }
    store<u32>(ix + NX_LEVELS, levels);
  }
  // the levels above level 0 from it (each entry the largest of its node below)
  let nodes = nb >> NX_FAN_SHIFT;
  for (let l: u32 = 1; l < levels; l++) {
    const below = levelAt(ix, l - 1), here = levelAt(ix, l);
    for (let k: u32 = 0; k < nodes; k++) store<u32>(here + (<usize>k << 2), nodeMax(below + (<usize>k << (NX_FAN_SHIFT + 2))));
    nodes = wholeNodes(nodes) >> NX_FAN_SHIFT;
  }
}

// best-fit's free blocks below BIN_LIMIT_BYTES are kept by exact size: one treap per size (a bin),
// ordered by address, with a bitmap of the bins that hold a block (one bit per bin, and one summary
// bit per bitmap word). Blocks from BIN_LIMIT_BYTES up stay in the (size, address) treap at H.root.
// The best fit of a small request is the lowest-addressed block of the first bin from its size
// that holds one (block sizes are whole granules), else the best fit among the large blocks.
// (A treap per size is shallower than one treap of all sizes: most free blocks are small.)
const BIN_COUNT: u32 = 1024;              // bins for sizes of 0..1023 granules (below 16 KiB)
const BIN_LIMIT_BYTES: u64 = <u64>BIN_COUNT << GRANULE_SHIFT;
const BIN_WORD_BITS: u32 = 32;
const BIN_WORDS: u32 = BIN_COUNT / BIN_WORD_BITS;   // 32: one summary bit each in a u32
const BINS_BYTES: usize = <usize>(BIN_COUNT + BIN_WORDS) * 4;
if (BIN_WORDS > 32) ERROR("fit bin summary is one u32");

// best-fit's bins: ordered by address, no summary.
@final @unmanaged class BinOrder {
  // @ts-ignore: decorator
  @inline left(n: u32): u32 { return B(n).left; }
  // @ts-ignore: decorator
  @inline setLeft(n: u32, v: u32): void { B(n).left = v; }
  // @ts-ignore: decorator
  @inline right(n: u32): u32 { return B(n).right; }
  // @ts-ignore: decorator
  @inline setRight(n: u32, v: u32): void { B(n).right = v; }
  // @ts-ignore: decorator
  @inline less(a: u32, b: u32): bool { return B(a).addr < B(b).addr; }
  // @ts-ignore: decorator
  @inline pull(n: u32): void {}
  // @ts-ignore: decorator
  @inline grow(t: u32, n: u32): void {}
  // @ts-ignore: decorator
  @inline keeps(t: u32, n: u32): bool { return true; }
}

// @ts-ignore: decorator
@inline function binRootSlot(g: u32): usize { return H.bins + (<usize>g << 2); }
// @ts-ignore: decorator
@inline function binWordSlot(w: u32): usize { return H.bins + (<usize>(BIN_COUNT + w) << 2); }

// The bin's root became r (0: the bin is empty): its bit follows.
// @ts-ignore: decorator
@inline function setBinRoot(g: u32, r: u32): void {
  store<u32>(binRootSlot(g), r);
  const w = g >> 5, bit: u32 = 1 << (g & 31);
  const word = load<u32>(binWordSlot(w));
  const now = r ? word | bit : word & ~bit;
  if (now == word) return;
  store<u32>(binWordSlot(w), now);
  if (now) H.binSummary |= <u32>1 << w; else H.binSummary &= ~(<u32>1 << w);
}

// The first bin from g on that holds a block, or BIN_COUNT.
function firstBinFrom(g: u32): u32 {
  let w = g >> 5;
  const bits = load<u32>(binWordSlot(w)) & (<u32>0xFFFFFFFF << (g & 31));
  if (bits) return (w << 5) + ctz(bits);
  const above = H.binSummary & ~((<u32>2 << w) - 1);   // words after w (none when w is 31)
  if (!above) return BIN_COUNT;
  w = ctz(above);
  return (w << 5) + ctz(load<u32>(binWordSlot(w)));
}

function addFreeBest(n: u32): void {
  const g = B(n).sizeG;   // (SIZE_WIDE is no bin)
  if (g < BIN_COUNT) {
    setBinRoot(g, binInsert(load<u32>(binRootSlot(g)), n));
  } else {
    H.root = treeInsertDown<BySize>(H.root, n);
  }
}

function removeFreeBest(n: u32): void {
  const size = B(n).size;
  if (size < BIN_LIMIT_BYTES) {
    const g = <u32>(size >> GRANULE_SHIFT);
    setBinRoot(g, binRemove(load<u32>(binRootSlot(g)), n));
  } else {
    H.root = treeRemoveDown<BySize>(H.root, n);
  }
}

// @ts-ignore: decorator
@inline function before(a: u32, b: u32): bool {
  if (H.rule == RULE_BEST && B(a).size != B(b).size) return B(a).size < B(b).size;
  return B(a).addr < B(b).addr;
}

function addFree(n: u32): void { addFreeOf(n, H.rule); }
function removeFree(n: u32): void { removeFreeOf(n, H.rule); }

// addFree and removeFree for a rule known where they are called (the batch loops' alloc and free
// bodies, index.ts): no call, and the rule's test folds away.
// @ts-ignore: decorator
@inline function addFreeOf(n: u32, rule: u32): void {
  B(n).flags = FL_FREE;
  if (rule == RULE_BEST) addFreeBest(n); else nfInsert(n);
  H.freeBytes += B(n).size;
  H.freeBlocks++;
}

// @ts-ignore: decorator
@inline function removeFreeOf(n: u32, rule: u32): void {
  if (rule == RULE_BEST) removeFreeBest(n);
  else if (n == H.roverBlk) H.roverBlk = 0;
  else nfRemove(n);
  H.freeBytes -= B(n).size;
  H.freeBlocks--;
}

// Free block f gives its first cutBytes to a busy block: its address moves up, its size drops.
// Next-fit's index is by address alone, which the cut keeps (the front becomes the busy block
// below f): f stays in its bucket's list, or becomes the head of a later bucket's.
function cutFront(f: u32, cutBytes: u64): void {
  if (H.rule == RULE_NEXT) {
    if (f != H.roverBlk) { nfCutFront(f, cutBytes); H.freeBytes -= cutBytes; return; }
    // the rover block cut from its front no longer starts at the rover: into the index
    H.roverBlk = 0;
    cutBlock(B(f), cutBytes);
    nfInsert(f);
    H.freeBytes -= cutBytes;
    return;
  }
  removeFree(f);
  cutBlock(B(f), cutBytes);
  addFree(f);
}

// next-fit's cut of the block nextFit found: its rest starts at the new rover, so it becomes (or
// stays) the rover block, out of the tree; a former rover block goes into the tree. The cut of the
// rover block, the common case (the rover carves one block again and again), leaves the tree alone.
// @ts-ignore: decorator
@inline function cutRoverBlock(f: u32, cutBytes: u64): void {
  const r = H.roverBlk;
  if (f != r) {
    nfRemove(f);
    if (r) nfInsert(r);
    H.roverBlk = f;
  }
  cutBlock(B(f), cutBytes);
  H.freeBytes -= cutBytes;
}

// next-fit's block nextFit found, used whole: the new rover (its end) starts a busy block or none,
// so there is no rover block after it; a former one goes into the tree.
// @ts-ignore: decorator
@inline function takeWholeNext(f: u32): void {
  const r = H.roverBlk;
  if (f != r) {
    nfRemove(f);
    if (r) nfInsert(r);
  }
  H.roverBlk = 0;
  H.freeBytes -= B(f).size;
  H.freeBlocks--;
}

// Best fit: the first block in (size, addr) order with size >= need: the lowest-addressed block of
// the first bin from need's that holds one, else the first large block with size >= need. For a
// bin's block sets bestBin (its bin) and bestParent (its parent in the bin's treap, 0 at the root);
// for a large one bestBin = BIN_COUNT and bestPred, the block just before it in (size, addr) order
// (0 if none): the last one the descent passed on its right.
let bestPred: u32 = 0;
let bestBin: u32 = 0;
let bestParent: u32 = 0;
function bestFit(need: u64): u32 {
  if (need < BIN_LIMIT_BYTES) {
    const g = firstBinFrom(<u32>(need >> GRANULE_SHIFT));
    bestBin = g;
    if (g < BIN_COUNT) {
      let t = load<u32>(binRootSlot(g)), parent: u32 = 0;
      while (B(t).left) { parent = t; t = B(t).left; }
      bestParent = parent;
      return t;
    }
  }
  bestBin = BIN_COUNT;
  let t = H.root, found: u32 = 0, pred: u32 = 0;
  while (t) {
    if (B(t).size >= need) { found = t; t = B(t).left; } else { pred = t; t = B(t).right; }
  }
  bestPred = pred;
  return found;
}

// Takes the block bestFit just found in a bin off it: the bin's lowest address has no left child,
// so its right subtree takes its place (the treap of the rest, as treeRemove would leave it).
function takeBestFromBin(f: u32): void {
  const r = B(f).right;
  if (bestParent) B(bestParent).left = r; else setBinRoot(bestBin, r);
  H.freeBytes -= B(f).size;
  H.freeBlocks--;
}

// best-fit's removal of the block bestFit just found (used whole).
function takeBest(f: u32): void {
  if (bestBin < BIN_COUNT) takeBestFromBin(f); else removeFree(f);
}

// best-fit's cut of the block bestFit just found. A bin's block always changes bins. A large one:
// the cut makes its key smaller, so it keeps its place in the order when it stays large and still
// comes after bestPred; the tree then stays as it is (a treap's shape depends only on its records
// and their order, and best-fit's tree keeps no summary).
function cutFrontBest(f: u32, cutBytes: u64): void {
  const size = B(f).size - cutBytes, addr = B(f).addr + cutBytes, p = bestPred;
  if (bestBin < BIN_COUNT) {
    takeBestFromBin(f);
    B(f).addr = addr;
    B(f).size = size;
    addFree(f);
    return;
  }
  if (size < BIN_LIMIT_BYTES || (p && (B(p).size != size ? B(p).size > size : B(p).addr > addr))) { cutFront(f, cutBytes); return; }
  B(f).addr = addr;
  B(f).size = size;
  H.freeBytes -= cutBytes;
}

// The first fit in segment i's index: the lowest-addressed block at or above `from` with at least
// needG granules (a narrow request), 0 if none.
function ixFindIn(i: u32, from: u64, needG: u32): u32 {
  if (i >= H.physCap) return 0;   // (a segment a failed carve reserved: nothing carved, no index)
  const ix = ixAt(i);
  const levels = load<u32>(ix + NX_LEVELS);
  if (!levels || load<u32>(levelAt(ix, levels - 1)) < needG) return 0;
  const base = seg(A, i).base;
  let b: u32 = 0;
  if (from > base) {
    const d = (from - base) >> <u64>load<u32>(ix + NX_SHIFT);
    if (d >= <u64>load<u32>(ix + NX_BUCKETS)) return 0;
    b = <u32>d;
  }
  // from's bucket, from `from` on
  if (load<u32>(leafAt(ix, b)) >= needG) {
    let t = load<u32>(headAt(ix, b));
    while (t) {
      if (B(t).addr >= from && B(t).sizeG >= needG) return t;
      t = B(t).right;
    }
  }
  // up to the first node with a later entry that holds needG
  let l: u32 = 0, j = b;
  while (true) {
    const p = levelAt(ix, l);
    const end = j | (NX_FAN - 1);
    let k = j + 1;
    while (k <= end && load<u32>(p + (<usize>k << 2)) < needG) k++;
    if (k <= end) { j = k; break; }
    l++;
    if (l == levels) return 0;
    j >>= NX_FAN_SHIFT;
  }
  // down to its first bucket that holds it (the maxima are exact: each node below has one)
  while (l) {
    l--;
    j <<= NX_FAN_SHIFT;
    const p = levelAt(ix, l);
    while (load<u32>(p + (<usize>j << 2)) < needG) j++;
  }
  let t = load<u32>(headAt(ix, j));
  while (B(t).sizeG < needG) {
    t = B(t).right;
    if (!t) unreachable();   // a bucket's maximum above its blocks (a broken index): trap, do not loop
  }
  return t;
}

// The first fit of a wide request (64 GiB or more) in segment i: its blocks walked, sizes exact.
function wideFindIn(i: u32, from: u64, need: u64): u32 {
  let n = firstOf(i);
  while (n) {
    if (isFree(n) && n != H.roverBlk && B(n).addr >= from && B(n).size >= need) return n;
    n = B(n).nextPhys;
  }
  return 0;
}

// The lowest-addressed free block at or above `from` that holds need bytes (but the rover block):
// the segments in address order, from the one that holds `from` (or the first above it).
function nfFind(from: u64, need: u64): u32 {
  const wide = (need >> GRANULE_SHIFT) >= <u64>SIZE_WIDE;
  const needG = <u32>(need >> GRANULE_SHIFT), count = A.segCount;
  if (count == 1 && !wide) return ixFindIn(0, from, needG);
  let x = from;
  while (true) {
    let next = count, nextBase = U64.MAX_VALUE;
    for (let i: u32 = 0; i < count; i++) {
      const s = seg(A, i);
      if (s.end > x && s.base < nextBase) { next = i; nextBase = s.base; }
    }
    if (next == count) return 0;
    const f = wide ? wideFindIn(next, x, need) : ixFindIn(next, x, needG);
    if (f) return f;
    x = seg(A, next).end;
  }
  return 0;
}

// The rover block (H.roverBlk, not in the index) starts at the rover: it is the first fit when it
// holds the request; else the index's answer is, which the rover block could not change.
// @ts-ignore: decorator
@inline function nextFit(need: u64): u32 {
  const r = H.roverBlk;
  if (r && B(r).size >= need) return r;
  return nextFitInIndex(need);
}

function nextFitInIndex(need: u64): u32 {
  const f = nfFind(H.rover, need);
  if (f) return f;
  const w = nfFind(0, need);
  if (w) counterAdd(heapNo, C_WRAPS, 1);
  return w;
}

// ---------------------------------------------------------------- alloc / free / realloc

// The segment holding address x: the newest one, else found by arena.ts segOf (records keep no
// segment; it is needed only where a block is its segment's first or last).
function segOfAddr(x: u64): u32 {
  const i = A.segCount - 1;
  const s = seg(A, i);
  return x >= s.base && x < s.end ? i : segOf(A, x);
}

// Links a between p and q (either may be 0: the segment's ends) in segment i.
function linkBetweenIn(p: u32, a: u32, q: u32, i: u32): void {
  B(a).prevPhys = p;
  B(a).nextPhys = q;
  if (p) B(p).nextPhys = a; else setFirst(i, a);
  if (q) B(q).prevPhys = a; else setLast(i, a);
}

// linkBetweenIn in a's segment (found out of line: only at a segment's end).
// @ts-ignore: decorator
@inline function linkBetween(p: u32, a: u32, q: u32): void {
  if (p && q) {
    B(a).prevPhys = p;
    B(a).nextPhys = q;
    B(p).nextPhys = a;
    B(q).prevPhys = a;
  } else {
    linkBetweenIn(p, a, q, B(a).seg);
  }
}

// @ts-ignore: decorator
@inline function unlink(a: u32): void {
  const p = B(a).prevPhys, q = B(a).nextPhys;
  if (p && q) {
    B(p).nextPhys = q;
    B(q).prevPhys = p;
  } else {
    unlinkAtEnd(a, p, q);
  }
}

function unlinkAtEnd(a: u32, p: u32, q: u32): void {
  const i = B(a).seg;
  if (p) B(p).nextPhys = q; else setFirst(i, q);
  if (q) B(q).prevPhys = p; else setLast(i, p);
}

function growPhys(): void {
  const i = A.segCount - 1;
  if (i < H.physCap) return;
  const cap = H.physCap ? H.physCap * 2 : 4;
  H.firsts = resizeZeroed(H.firsts, <usize>H.physCap * 4, <usize>cap * 4);
  H.lasts = resizeZeroed(H.lasts, <usize>H.physCap * 4, <usize>cap * 4);
  if (H.rule == RULE_NEXT) H.ixs = resizeZeroed(H.ixs, <usize>H.physCap * NX_BYTES, <usize>cap * NX_BYTES);
  H.physCap = cap;
}

export function fitAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  use(heapIndex);
  return fitAllocUsed(heapIndex, size, alignLog2, H.rule);
}

// fitAlloc's body for a heap whose rule is known where it is called (best-fit's and next-fit's
// batch loops, index.ts: the rule's tests fold away).
// @ts-ignore: decorator
@inline export function fitAllocOf(heapIndex: i32, size: u64, alignLog2: u32, rule: u32): u32 {
  use(heapIndex);
  return fitAllocUsed(heapIndex, size, alignLog2, rule);
}

// @ts-ignore: decorator
@inline function fitAllocUsed(heapIndex: i32, size: u64, alignLog2: u32, rule: u32): u32 {
  if (size > (<u64>1 << 46) || alignLog2 > 28) return 0;
  let need = blockBytes(size, alignLog2);
  if (need < MIN_BLOCK_BYTES) need = MIN_BLOCK_BYTES;
  const alignBits = keptAlign(alignLog2) << FL_ALIGN_SHIFT;
  const f = rule == RULE_BEST ? bestFit(need) : nextFit(need);
  let n: u32;
  let at: u64, got = need;   // the block's address and size
  if (f) {
    const fs = B(f).size;
    at = B(f).addr;
    if (fs - need >= MIN_BLOCK_BYTES) {
      n = newRec(at, need, alignBits);
      linkBetween(B(f).prevPhys, n, f);
      if (rule == RULE_BEST) cutFrontBest(f, need); else cutRoverBlock(f, need);
      touchPages(at + need, HEADER_BYTES, owner);
      counterAdd(heapNo, C_SPLITS, 1);
    } else {
      if (rule == RULE_BEST) takeBest(f); else takeWholeNext(f);
      n = f;
      got = fs;
      B(n).flags = alignBits;
    }
    if (rule == RULE_NEXT) H.rover = at + got;   // (best-fit keeps no rover)
    counterAdd(heapNo, C_REUSED_BLOCKS, 1);
  } else {
    const before = A.segCount;
    at = carve(A, need);
    if (!at) return 0;
    if (A.segCount > H.physCap) growPhys();   // (growPhys's own test, inline: a new segment is rare)
    const i = A.segCount - 1;
    if (rule == RULE_NEXT) nfCover(i);
    n = newRec(at, need, alignBits);
    linkBetweenIn(A.segCount != before ? 0 : lastOf(i), n, 0, i);
    counterAdd(heapNo, C_CARVED_BLOCKS, 1);
  }
  H.busyBytes += got;
  H.busyBlocks++;
  touchPages(at, HEADER_BYTES, owner);
  return n;
}

// Block n (off every index) becomes free: merged with free neighbours, or given to the top.
function release(n: u32): void { releaseOf(n, H.rule); }

// release's body for a heap of the given rule (inlined into the batch loops' free and into release).
// @ts-ignore: decorator
@inline function releaseOf(n: u32, rule: u32): void {
  const p = B(n).prevPhys;
  if (rule == RULE_NEXT && p && isFree(p) && (B(n).nextPhys || !isNewest(A, B(n).seg))) {
    // next-fit, p absorbs n (and a free next block) and does not reach the top: p keeps its
    // address, so its place in its bucket's list; only the maxima above it grow.
    // (A free next block is never the newest segment's last block, F2: the merge cannot reach
    // the top when n has a next block; without one it does exactly in the newest segment.)
    let grownBytes = B(n).size;
    unlink(n);
    dropRec(n);
    counterAdd(heapNo, C_COALESCES, 1);
    const q = B(p).nextPhys;
    if (q && isFree(q)) {
      removeFreeOf(q, rule);
      grownBytes += B(q).size;
      unlink(q);
      dropRec(q);
      counterAdd(heapNo, C_COALESCES, 1);
    }
    B(p).size += grownBytes;
    H.freeBytes += grownBytes;
    if (p != H.roverBlk) nfGrew(p);
    touchPages(B(p).addr, HEADER_BYTES, owner);
    return;
  }
  if (rule == RULE_NEXT && !(p && isFree(p))) {
    // next-fit, n takes in a free next block q (not the rover block, which is out of the index):
    // no free block lies between n and q, so q's record keeps the merged block, at n's address,
    // in its place in the address order (a free next block is never the newest segment's last
    // block, F2: the merge does not reach the top).
    const q = B(n).nextPhys;
    if (q && isFree(q) && q != H.roverBlk) {
      const grownBytes = B(n).size;
      nfGrewDown(B(n).seg, q, B(n).addr, grownBytes);
      unlink(n);
      dropRec(n);
      counterAdd(heapNo, C_COALESCES, 1);
      H.freeBytes += grownBytes;
      touchPages(B(q).addr, HEADER_BYTES, owner);
      return;
    }
  }
  if (p && isFree(p)) {
    removeFreeOf(p, rule);
    takeIn(B(p), B(n));
    unlink(n);
    dropRec(n);
    n = p;
    counterAdd(heapNo, C_COALESCES, 1);
  }
  const q = B(n).nextPhys;
  if (q && isFree(q)) {
    removeFreeOf(q, rule);
    takeIn(B(n), B(q));
    unlink(q);
    dropRec(q);
    counterAdd(heapNo, C_COALESCES, 1);
  }
  if (!B(n).nextPhys && isNewest(A, B(n).seg)) {
    lowerTop(A, B(n).addr);
    unlink(n);
    dropRec(n);
    counterAdd(heapNo, C_COALESCES, 1);
    return;
  }
  addFreeOf(n, rule);
  touchPages(B(n).addr, HEADER_BYTES, owner);
}

export function fitFree(heapIndex: i32, n: u32): void {
  use(heapIndex);
  fitFreeUsed(n, H.rule);
}

// fitFree for a heap whose rule is known where it is called (the batch loops, index.ts).
// @ts-ignore: decorator
@inline export function fitFreeOf(heapIndex: i32, n: u32, rule: u32): void {
  use(heapIndex);
  fitFreeUsed(n, rule);
}

// @ts-ignore: decorator
@inline function fitFreeUsed(n: u32, rule: u32): void {
  H.busyBytes -= B(n).size;
  H.busyBlocks--;
  releaseOf(n, rule);
}

export function fitRealloc(heapIndex: i32, n: u32, size: u64): u32 {
  use(heapIndex);
  const alignLog2 = (B(n).flags >> FL_ALIGN_SHIFT) & 0xFF;
  if (size > (<u64>1 << 46)) return 0;
  let need = blockBytes(size, alignLog2);
  if (need < MIN_BLOCK_BYTES) need = MIN_BLOCK_BYTES;
  const have = B(n).size;
  if (need <= have) {
    if (have - need >= MIN_BLOCK_BYTES) {
      const t = newRec(B(n).addr + need, have - need, 0);
      linkBetween(n, t, B(n).nextPhys);
      B(n).size = need;
      H.busyBytes -= have - need;
      release(t);
    }
    return n;
  }
  const q = B(n).nextPhys;
  if (q && isFree(q) && have + B(q).size >= need) {
    const extra = need - have;
    if (B(q).size - extra >= MIN_BLOCK_BYTES) {
      cutFront(q, extra);
      touchPages(B(q).addr, HEADER_BYTES, owner);
      B(n).size = need;
    } else {
      removeFree(q);
      B(n).size += B(q).size;
      unlink(q);
      dropRec(q);
    }
    H.busyBytes += B(n).size - have;
    return n;
  }
  const m = fitAlloc(heapIndex, size, alignLog2);
  if (!m) return 0;
  const old = have - HEADER_BYTES;
  touchPages(fitUserAddress(heapIndex, m), old < size ? old : size, owner);   // the copy
  fitFree(heapIndex, n);
  return m;
}

export function fitTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  return trimTops(A, padBytes);
}

export function fitUserAddress(heapIndex: i32, n: u32): u64 {
  return userAddressOf(B(n).addr, (B(n).flags >> FL_ALIGN_SHIFT) & 0xFF);
}

// ---------------------------------------------------------------- sample

// The largest free block: best-fit's last large record, else the size of its highest bin that
// holds a block; next-fit's largest top entry (a wide one: the blocks walked) or the rover block.
function largestFree(): u64 {
  if (H.rule != RULE_BEST) {
    let m: u64 = 0;
    for (let i: u32 = 0; i < A.segCount && i < H.physCap; i++) {
      const ix = ixAt(i), levels = load<u32>(ix + NX_LEVELS);
      if (!levels) continue;
      const g = load<u32>(levelAt(ix, levels - 1));
      if (g == SIZE_WIDE) { m = largestWalked(); break; }
      if (<u64>g << GRANULE_SHIFT > m) m = <u64>g << GRANULE_SHIFT;
    }
    const r = H.roverBlk;
    return r && B(r).size > m ? B(r).size : m;
  }
  if (H.root) return B(treeLast<BySize>(H.root)).size;
  if (!H.binSummary) return 0;
  const w = 31 - clz(H.binSummary);
  const g = (w << 5) + 31 - clz(load<u32>(binWordSlot(w)));
  return <u64>g << GRANULE_SHIFT;
}

// next-fit's largest free block but the rover block, every segment's blocks walked.
function largestWalked(): u64 {
  let m: u64 = 0;
  for (let i: u32 = 0; i < A.segCount; i++) {
    let n = firstOf(i);
    while (n) {
      if (isFree(n) && n != H.roverBlk && B(n).size > m) m = B(n).size;
      n = B(n).nextPhys;
    }
  }
  return m;
}

export function fitSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  const topBytes = topCommittedBytes(A);
  const top = largestTop(A), tree = largestFree();
  const largest = top > tree ? top : tree;
  putSlot(out, K_BUSY, H.busyBytes);
  putSlot(out, K_FREE, H.freeBytes + topBytes);
  putSlot(out, K_FREE_BLOCKS, H.freeBlocks + topBlocks(A));
  putSlot(out, K_LARGEST_FREE, largest);
  putSlot(out, K_UNCOMMITTED_RANGES, uncommittedRanges(A));
  putSlot(out, K_SEGMENTS, A.segCount);
  putSlot(out, K_VIRTUAL_BLOCKS, 0);
  putSlot(out, K_VIRTUAL_BYTES, 0);
  putSlot(out, K_POLICY_BASE + C_TOP_COMMITTED_BYTES, topBytes);
  putSlot(out, K_POLICY_BASE + C_TRIMMED_BYTES, A.trimmedBytes);
  putSlot(out, K_POLICY_BASE + C_ABANDONED_BYTES, abandonedTopBytes(A));
  if (H.rule == RULE_NEXT) putSlot(out, K_POLICY_BASE + C_ROVER_ADDRESS, H.rover);
}

// ---------------------------------------------------------------- invariants F1..F4

let ckCount: u64 = 0;
let ckBad: bool = false;

// best-fit's in-order walk: keys strictly increasing, only free blocks; counts the nodes.
function walk(t: u32, prev: u32): u32 {
  if (!t || ckBad) return prev;
  if (B(t).flags != FL_FREE) { ckBad = true; return prev; }
  prev = walk(B(t).left, prev);
  if (prev && !before(prev, t)) { ckBad = true; return prev; }
  ckCount++;
  return walk(B(t).right, t);
}

// next-fit's part of F3: every segment's index lists free blocks only (not the rover block), each
// in the bucket of its address within the carved part, in address order with consistent back
// links; every level 0 entry is its bucket's recount, every entry above the largest of its node
// below, padding zero; the index covers the carved part. The blocks listed, or -1 when one fails.
function checkIndex(): i64 {
  let count: i64 = 0;
  for (let i: u32 = 0; i < A.segCount; i++) {
    const s = seg(A, i);
    if (i >= H.physCap) { if (s.top != s.base) return -1; continue; }
    const ix = ixAt(i), levels = load<u32>(ix + NX_LEVELS);
    if (!levels) { if (s.top != s.base) return -1; continue; }
    const nb = load<u32>(ix + NX_BUCKETS), shift = <u64>load<u32>(ix + NX_SHIFT);
    if (s.top - s.base > (<u64>nb << shift)) return -1;
    for (let b: u32 = 0; b < nb; b++) {
      let t = load<u32>(headAt(ix, b)), prev: u32 = 0, m: u32 = 0;
      while (t) {
        const a = B(t).addr;
        if (B(t).flags != FL_FREE || t == H.roverBlk || B(t).left != prev) return -1;
        if (a < s.base || a >= s.top || <u32>((a - s.base) >> shift) != b) return -1;
        if (prev && B(prev).addr >= a) return -1;
        m = max2(m, B(t).sizeG);
        if (<u64>++count > H.freeBlocks) return -1;   // (a cycle)
        prev = t;
        t = B(t).right;
      }
      if (load<u32>(leafAt(ix, b)) != m) return -1;
    }
    let below = nb;   // real entries of the level below
    for (let l: u32 = 1; l < levels; l++) {
      const here = levelAt(ix, l), lower = levelAt(ix, l - 1), entries = wholeNodes((below + NX_FAN - 1) >> NX_FAN_SHIFT);
      for (let k: u32 = 0; k < entries; k++) {
        const want = k << NX_FAN_SHIFT < below ? nodeMax(lower + (<usize>k << (NX_FAN_SHIFT + 2))) : 0;
        if (load<u32>(here + (<usize>k << 2)) != want) return -1;
      }
      below = (below + NX_FAN - 1) >> NX_FAN_SHIFT;
    }
    if (below != 1) return -1;
  }
  return count;
}

// best-fit's part of F3: the large treap holds only blocks from BIN_LIMIT_BYTES up (its records
// were walked and counted already, `largeNodes` of them by their priorities); each bin is a treap
// by address of free blocks of exactly its size, its bitmap bit set iff it holds one, each summary
// bit set iff its word is not 0. Adds the bins' blocks to ckCount. Returns true when one fails.
function checkBins(largeNodes: i64): bool {
  if (largeNodes < 0 || largeNodes != <i64>ckCount) return true;
  if (H.root && B(treeFirst<BySize>(H.root)).size < BIN_LIMIT_BYTES) return true;
  for (let w: u32 = 0; w < BIN_WORDS; w++) {
    const word = load<u32>(binWordSlot(w));
    if (((H.binSummary >> w) & 1) != (word ? 1 : 0)) return true;
    for (let b: u32 = 0; b < BIN_WORD_BITS; b++) {
      const g = (w << 5) + b, r = load<u32>(binRootSlot(g));
      if (((word >> b) & 1) != (r ? 1 : 0)) return true;
      if (!r) continue;
      const before = ckCount;
      walk(r, 0);
      if (ckBad || treeCheckPriorities<BinOrder>(r) != <i64>(ckCount - before)) return true;
      if (!binSizesAre(r, <u64>g << GRANULE_SHIFT)) return true;
    }
  }
  return false;
}

// Every block of subtree t has size `size`.
function binSizesAre(t: u32, size: u64): bool {
  if (!t) return true;
  return B(t).size == size && binSizesAre(B(t).left, size) && binSizesAre(B(t).right, size);
}

export function fitCheck(heapIndex: i32): i32 {
  use(heapIndex);
  let busy: u64 = 0, busyBlocks: u64 = 0, free: u64 = 0, freeBlocks: u64 = 0;
  for (let i: u32 = 0; i < A.segCount; i++) {
    const s = seg(A, i);
    let n = firstOf(i), prev: u32 = 0, expect = s.base;
    while (n) {
      if (B(n).addr != expect || B(n).prevPhys != prev || B(n).seg != i || B(n).size < MIN_BLOCK_BYTES) return 1;
      if (isFree(n)) {
        if (prev && isFree(prev)) return 2;
        free += B(n).size; freeBlocks++;
      } else {
        busy += B(n).size; busyBlocks++;
      }
      if (!vmIsCommitted(B(n).addr) || !vmIsCommitted(B(n).addr + B(n).size - 1)) return 4;
      expect += B(n).size;
      prev = n;
      n = B(n).nextPhys;
    }
    if (expect != s.top || lastOf(i) != prev) return 1;
    if (isNewest(A, i) && prev && isFree(prev)) return 2;
  }
  ckCount = 0;
  ckBad = false;
  let nodes: i64;
  if (H.rule == RULE_BEST) {
    walk(H.root, 0);
    if (checkBins(treeCheckPriorities<BySize>(H.root))) return 3;
    nodes = <i64>ckCount; // the bins' blocks, walked and counted by checkBins, with the large tree's
  } else {
    nodes = checkIndex();
    if (nodes < 0) return 3;
    ckCount = <u64>nodes;
  }
  if (H.rule == RULE_NEXT && H.roverBlk) {
    // F3 (next-fit): the rover block is a free block at the rover, out of the tree (walk)
    const r = H.roverBlk;
    if (B(r).flags != FL_FREE || B(r).addr != H.rover) return 3;
    ckCount++;
    nodes++;
  }
  if (ckBad || ckCount != freeBlocks || nodes != <i64>freeBlocks) return 3;
  if (busy != H.busyBytes || busyBlocks != H.busyBlocks || free != H.freeBytes || freeBlocks != H.freeBlocks) return 4;
  if (arenaCheck(A)) return 4;
  return 0;
}
