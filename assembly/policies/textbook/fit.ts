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
// ╒═══ block record (REC_BYTES = 32) ═══════════════════════════════════════════════════╕
// │ 0 addr (bits 0..55) and flags (bits 56..63) u64 │ 8 sizeG u32 │ 12 maxG u32             │
// │ 16 left u32 │ 20 right u32 │ 24 prevPhys u32 │ 28 nextPhys u32                          │
// ╘═════════════════════════════════════════════════════════════════════════════════════╛
//   flags: FREE, bits 1..7 log2(alignment). sizeG: the size in 16-byte granules; maxG (next-fit):
//   the largest free size in the subtree, in granules. A value of 64 GiB or more does not fit 32
//   bits of granules: the field holds SIZE_WIDE and the value is in the wide table (Blk's
//   accessors read and write both). No segment index: a block's segment is found from its address
//   where it is needed (a block at a segment's end). The pool is 64-byte aligned: a record is
//   never split between two cache lines. Free blocks are in kit trees (treaps): best-fit's
//   below BIN_LIMIT_BYTES one per exact size (a bin), ordered by address, with a bitmap of the
//   bins that hold one; from BIN_LIMIT_BYTES up one tree ordered by (size, address) (no summary:
//   the largest block is the last). next-fit's in one tree ordered by address, each node holding
//   the largest size of its subtree, but for the rover block (H.roverBlk: the free block that
//   starts at the rover, if the rover cut it last), kept out of the tree. Inserts and removes
//   go top down (the maxima above the change are not recomputed from the siblings): the trees by
//   address (next-fit's, best-fit's bins) with addrInsertOf/addrRemoveOf below (the kit's
//   treeInsertDown/RemoveDown with the pool's base and the block's key in locals), the large tree
//   with the kit's; next-fit changes a block
//   whose address stays in place (the front cut off, a neighbour merged in) without leaving the tree.
//
// Invariants (fitCheck returns the number of the first that fails):
//   F1 the blocks of each segment tile [base, top) in address order, prev/next links agree
//   F2 no two adjacent free blocks; the newest segment's last block is not free
//   F3 the treaps hold exactly the free blocks, in key order, heap-ordered, with correct maxima
//      (next-fit: all but the rover block, a free block at the rover); best-fit: each bin only
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
import { treeInsertDown, treeRemoveDown, treeGrowDown, treeShrinkFrom, treeRepull, treeCheckPriorities, treeFirst, treeLast, treePriority } from "../../kit/tree";
import { PAGE_SIZE_BYTES, alignUp, MiB, KiB } from "../../vm/constants";
import { touchPages, vmIsCommitted } from "../../vm/space";
import { CHECKS } from "../../checks";
import {
  Arena, ARENA_BYTES, arenaInit, arenaDestroy, carve, seg, segOf, isNewest, lowerTop, trimTops,
  topCommittedBytes, uncommittedRanges, abandonedTopBytes, arenaCheck, topBlocks, largestTop,
} from "./arena";
import { HEADER_BYTES, blockBytes, userAddressOf, keptAlign } from "./geometry";

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
  maxG: u32;       // next-fit: the subtree's largest free size in granules; SIZE_WIDE: in the wide table
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
  // @ts-ignore: decorator
  @inline get max(): u64 { return granuleBytes(this, WIDE_MAX, this.maxG); }
  // @ts-ignore: decorator
  @inline set max(v: u64) { setGranules(this, WIDE_MAX, changetype<usize>(this) + offsetof<Blk>("maxG"), v); }
  // The segment that holds the block (not stored: read where a block is a segment's first or last).
  // @ts-ignore: decorator
  @inline get seg(): u32 { return segOfAddr(this.addr); }
}
const REC_BYTES: usize = 32;
// Records from a cache-line boundary: no record straddles two lines.
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
const WIDE_MAX: u32 = 1;

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
  // sizeG and maxG (0) in one store, then the four links in two (a taken record holds no wide
  // entry: dropRec forgot them).
  const g = size >> GRANULE_SHIFT;
  store<u64>(p, g < <u64>SIZE_WIDE ? g : 0, offsetof<Blk>("sizeG"));
  store<u64>(p, 0, offsetof<Blk>("left"));
  store<u64>(p, 0, offsetof<Blk>("prevPhys"));
  if (g >= <u64>SIZE_WIDE) b.size = size;
  return n;
}

// @ts-ignore: decorator
@inline function dropRec(n: u32): void {
  const b = B(n);
  if (b.sizeG == SIZE_WIDE || b.maxG == SIZE_WIDE) dropWide(b);
  b.flags = DEAD;
  dropRecord(RECS, n);
}

function dropWide(b: Blk): void {
  if (b.sizeG == SIZE_WIDE) wideForget(b, WIDE_SIZE);
  if (b.maxG == SIZE_WIDE) wideForget(b, WIDE_MAX);
}

export function fitEngineBytes(): usize { return poolBytes(RECS); }
export function fitRecordBytes(): u32 { return <u32>REC_BYTES; }

// ---------------------------------------------------------------- heap state

@unmanaged class FitHeap {
  rule: u32;
  root: u32;          // treap of free blocks
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
  pad2: u32;
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
  if (H.bins) heap.free(H.bins);
  heap.free(changetype<usize>(H));
  store<u32>(states + (<usize>heapIndex << 2), 0);
}

// ---------------------------------------------------------------- the free blocks' tree

// @ts-ignore: decorator
@inline function maxOf(t: u32): u64 { return t ? B(t).max : 0; }

// @ts-ignore: decorator
@inline function pullMax(t: u32): void {
  let m = B(t).size;
  const l = maxOf(B(t).left), r = maxOf(B(t).right);
  if (l > m) m = l;
  if (r > m) m = r;
  B(t).max = m;
}

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

// next-fit: ordered by address.
@final @unmanaged class ByAddress {
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
  @inline pull(n: u32): void { pullMax(n); }
  // @ts-ignore: decorator
  @inline grow(t: u32, n: u32): void { if (B(n).size > B(t).max) B(t).max = B(n).size; }
  // @ts-ignore: decorator
  @inline keeps(t: u32, n: u32): bool { return B(t).max > B(n).size; }
}

// Block n's size grew, its address kept (or moved down past no other free block): the maxima on
// the path from t to n grow to it (kit treeGrowDown<ByAddress>'s walk, with the pool's base and
// n's address and size in locals: the kit's loop reloads them after each store to a maximum, as
// the compiler cannot tell the stores from those loads).
// @ts-ignore: decorator
@inline function growPathTo(t: u32, n: u32): void {
  const base = RECS.base;
  const w = B(n).word, sg = B(n).sizeG;
  if (sg == SIZE_WIDE) { treeGrowDown<ByAddress>(t, n); return; }
  // (In granules: a narrow size against a field, SIZE_WIDE above every narrow value, is exact; the
  // words of free blocks order as their addresses, their flags being FL_FREE alike.)
  while (t != n) {
    if (!t) unreachable();   // n is not in the tree (a broken order): trap, do not walk record 0
    const b = changetype<Blk>(base + <usize>t * REC_BYTES);
    if (b.maxG < sg) b.maxG = sg;
    t = w < b.word ? b.left : b.right;
  }
  const b = changetype<Blk>(base + <usize>n * REC_BYTES);
  if (b.maxG < sg) b.maxG = sg;
}

// next-fit's address tree: insert and remove, top down, building the tree kit treeInsertDown and
// treeRemoveDown<ByAddress> build (the same priorities, the same ties), with the pool's base and the
// block's address, size and priority in locals and the split and the join as loops (the kit's
// generic loops reload RECS.base and the block's fields after every store to a record, which the
// compiler cannot tell from them, and recurse for the split and the join). The records whose
// maxima must be recomputed (those the split or the join relinks, and the removal's path below its
// last kept maximum) lie on the search path of the block's address in the new tree; they wait on a
// stack and are pulled deepest first. When the stack is full, that path is pulled by a recursive
// walk instead. Debug builds use a short stack, so the tests take both ways.
const ADDR_STACK_ENTRIES: u32 = 128;
const ADDR_STACK_ENTRIES_CHECKED: u32 = 4;
const addrStack = memory.data(<i32>ADDR_STACK_ENTRIES * 4);
// @ts-ignore: decorator
@inline function blkAt(base: usize, n: u32): Blk { return changetype<Blk>(base + <usize>n * REC_BYTES); }

// pullMax with the pool's base in a local.
// @ts-ignore: decorator
@inline function pullMaxAt(base: usize, t: u32): void {
  const b = blkAt(base, t);
  let m = b.sizeG;
  const l = b.left, r = b.right;
  if (l) { const x = blkAt(base, l).maxG; if (x > m) m = x; }
  if (r) { const x = blkAt(base, r).maxG; if (x > m) m = x; }
  if (m == SIZE_WIDE) { pullMax(t); return; }   // a wide value among them: compared exactly
  if (b.maxG == SIZE_WIDE) wideForget(b, WIDE_MAX);
  b.maxG = m;
}

// Pulls the `depth` records on addrStack, the last pushed first.
// @ts-ignore: decorator
@inline function pullStacked(base: usize, depth: u32): void {
  while (depth) {
    depth--;
    pullMaxAt(base, load<u32>(addrStack + (<usize>depth << 2)));
  }
}

// Pulls every record on the search path of `addr` from t (addr is no record's key there), deepest first.
function repullToward(t: u32, addr: u64): void {
  if (!t) return;
  repullToward(addr < B(t).addr ? B(t).left : B(t).right, addr);
  pullMax(t);
}

// treeInsertDown<ByAddress>(t, n) (maxed) or treeInsertDown<BinOrder>(t, n): the same order by
// address, best-fit's bins without the maxima.
function addrInsert(t: u32, n: u32): u32 { return addrInsertOf(t, n, true); }
function binInsert(t: u32, n: u32): u32 { return addrInsertOf(t, n, false); }
// @ts-ignore: decorator
@inline function addrInsertOf(t: u32, n: u32, maxed: bool): u32 {
  const base = RECS.base;
  const bn = blkAt(base, n);
  // Keys and maxima in the loops as in growPathTo: words, granules; a wide block by the kit's loop.
  const w = bn.word, sg = bn.sizeG, pn = treePriority(n);
  if (maxed && sg == SIZE_WIDE) return treeInsertDown<ByAddress>(t, n);
  let parent: u32 = 0, wentLeft = false, cur = t;
  // (A test before the loop: pn used twice stays a local, not a hash recomputed in the loop.)
  if (cur && treePriority(cur) > pn) {
    do {
      const b = blkAt(base, cur);
      if (maxed && b.maxG < sg) b.maxG = sg;
      parent = cur;
      wentLeft = w < b.word;
      cur = wentLeft ? b.left : b.right;
    } while (cur && treePriority(cur) > pn);
  }
  // Split cur's subtree around addr: the records before n become n's left subtree along a chain of
  // rights (lo: its last record, whose right comes next; n while there is none), the records after
  // it n's right subtree along a chain of lefts (hi).
  const cap = CHECKS ? ADDR_STACK_ENTRIES_CHECKED : ADDR_STACK_ENTRIES;
  let lo = n, hi = n, depth: u32 = 0, over = false;
  while (cur) {
    const b = blkAt(base, cur);
    if (maxed) { if (depth < cap) { store<u32>(addrStack + (<usize>depth << 2), cur); depth++; } else over = true; }
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
  if (maxed) {
    if (over) { repullToward(bn.left, bn.addr); repullToward(bn.right, bn.addr); } else pullStacked(base, depth);
    pullMaxAt(base, n);
  }
  if (!parent) return n;
  if (wentLeft) blkAt(base, parent).left = n; else blkAt(base, parent).right = n;
  return t;
}

// treeRemoveDown<ByAddress>(t, n) (maxed) or treeRemoveDown<BinOrder>(t, n).
function addrRemove(t: u32, n: u32): u32 { return addrRemoveOf(t, n, true); }
function binRemove(t: u32, n: u32): u32 { return addrRemoveOf(t, n, false); }
// @ts-ignore: decorator
@inline function addrRemoveOf(t: u32, n: u32, maxed: bool): u32 {
  const base = RECS.base;
  const bn = blkAt(base, n);
  const w = bn.word, sg = bn.sizeG;   // as in addrInsertOf
  if (maxed && sg == SIZE_WIDE) return treeRemoveDown<ByAddress>(t, n);
  // Down while the maximum stays (another record below exceeds n's size).
  let parent: u32 = 0, wentLeft = false, cur = t;
  while (cur != n) {
    const b = blkAt(base, cur);
    if (maxed && b.maxG <= sg) break;
    parent = cur;
    wentLeft = w < b.word;
    cur = wentLeft ? b.left : b.right;
    if (!cur) unreachable();   // n is not in the tree (a broken order): trap, do not walk record 0
  }
  // From there down to n every maximum may drop: stacked.
  const cap = CHECKS ? ADDR_STACK_ENTRIES_CHECKED : ADDR_STACK_ENTRIES;
  const top = cur;
  let depth: u32 = 0, over = false;
  let hook = parent, hookLeft = wentLeft;
  while (cur != n) {
    const b = blkAt(base, cur);
    if (maxed) { if (depth < cap) { store<u32>(addrStack + (<usize>depth << 2), cur); depth++; } else over = true; }
    hook = cur;
    hookLeft = w < b.word;
    cur = hookLeft ? b.left : b.right;
    if (!cur) unreachable();
  }
  // Join n's subtrees a (all before addr) and c (all after): the higher priority goes on top, c's
  // on a tie (kit treeJoin); the join goes down a's rights and c's lefts. `at` is the last record
  // placed (0: the joined tree's root comes next), its right (atRight) or left to fill.
  let a = bn.left, c = bn.right, joined: u32 = 0, at: u32 = 0, atRight = false;
  while (a && c) {
    let x: u32;
    if (treePriority(a) > treePriority(c)) x = a; else x = c;
    if (!at) joined = x; else if (atRight) blkAt(base, at).right = x; else blkAt(base, at).left = x;
    if (maxed) { if (depth < cap) { store<u32>(addrStack + (<usize>depth << 2), x); depth++; } else over = true; }
    at = x;
    atRight = x == a;
    if (atRight) a = blkAt(base, a).right; else c = blkAt(base, c).left;
  }
  const rest = a ? a : c;
  if (!at) joined = rest; else if (atRight) blkAt(base, at).right = rest; else blkAt(base, at).left = rest;
  if (hook) { if (hookLeft) blkAt(base, hook).left = joined; else blkAt(base, hook).right = joined; }
  if (maxed) { if (over) repullToward(top == n ? joined : top, bn.addr); else pullStacked(base, depth); }
  return hook ? t : joined;
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
  if (rule == RULE_BEST) addFreeBest(n); else H.root = addrInsert(H.root, n);
  H.freeBytes += B(n).size;
  H.freeBlocks++;
}

// @ts-ignore: decorator
@inline function removeFreeOf(n: u32, rule: u32): void {
  if (rule == RULE_BEST) removeFreeBest(n);
  else if (n == H.roverBlk) H.roverBlk = 0;
  else H.root = addrRemove(H.root, n);
  H.freeBytes -= B(n).size;
  H.freeBlocks--;
}

// Free block f gives its first cutBytes to a busy block: its address moves up, its size drops.
// Next-fit's tree is ordered by address alone, which the cut keeps (the front becomes the busy
// block below f): f stays where it is and only the maxima on its path can drop.
function cutFront(f: u32, cutBytes: u64): void {
  if (H.rule == RULE_NEXT) {
    if (f != H.roverBlk) { cutFrontNext(f, cutBytes); return; }
    // the rover block cut from its front no longer starts at the rover: into the tree
    H.roverBlk = 0;
    cutBlock(B(f), cutBytes);
    H.root = addrInsert(H.root, f);
    H.freeBytes -= cutBytes;
    return;
  }
  removeFree(f);
  cutBlock(B(f), cutBytes);
  addFree(f);
}

// cutFront's next-fit case for a block in the tree.
// @ts-ignore: decorator
@inline function cutFrontNext(f: u32, cutBytes: u64): void {
  const from = treeShrinkFrom<ByAddress>(H.root, f);
  cutBlock(B(f), cutBytes);
  treeRepull<ByAddress>(from, f);
  H.freeBytes -= cutBytes;
}

// next-fit's cut of the block nextFit found: its rest starts at the new rover, so it becomes (or
// stays) the rover block, out of the tree; a former rover block goes into the tree. The cut of the
// rover block, the common case (the rover carves one block again and again), leaves the tree alone.
// @ts-ignore: decorator
@inline function cutRoverBlock(f: u32, cutBytes: u64): void {
  const r = H.roverBlk;
  if (f != r) {
    H.root = addrRemove(H.root, f);
    if (r) H.root = addrInsert(H.root, r);
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
    H.root = addrRemove(H.root, f);
    if (r) H.root = addrInsert(H.root, r);
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

// The lowest-addressed block at or above `from` with size >= need, in subtree t (address order).
// Without recursion (a WASM call per level costs V8's frame and spills): the nodes whose left subtree
// is being searched wait on a stack; when a subtree has no fit (empty, or its maximum below need),
// the latest waiting node is the next in address order: it fits, or its right subtree is searched.
// A tree deeper than the stack (treaps are shallow: ~3 ln n levels) takes the recursive search.
// Debug builds use a small stack, so the tests' small trees take both ways, and check each answer
// against the recursive search.
const FIT_STACK_ENTRIES: u32 = 128;
const FIT_STACK_ENTRIES_CHECKED: u32 = 6;
const fitStack = memory.data(<i32>FIT_STACK_ENTRIES * 4);
// @ts-ignore: decorator
@inline function firstFitFromIter(root: u32, from: u64, need: u64): u32 {
  if ((need >> GRANULE_SHIFT) >= <u64>SIZE_WIDE) return firstFitFrom(root, from, need);   // wide: exact values
  const f = firstFitFromStack(root, from, need);
  if (CHECKS) assert(f == firstFitFrom(root, from, need), "next-fit: iterative search differs");
  return f;
}
// @ts-ignore: decorator
@inline function firstFitFromStack(root: u32, from: u64, need: u64): u32 {
  const cap = CHECKS ? FIT_STACK_ENTRIES_CHECKED : FIT_STACK_ENTRIES;
  // A narrow need in granules and `from` as a free block's word (growPathTo says why that is exact).
  const needG = <u32>(need >> GRANULE_SHIFT), fromW = from | (<u64>FL_FREE << FLAGS_SHIFT);
  let t = root;
  let depth: u32 = 0;
  while (true) {
    while (t) {
      if (B(t).maxG < needG) break;
      if (B(t).word < fromW) { t = B(t).right; continue; }
      if (depth == cap) return firstFitFrom(root, from, need);
      store<u32>(fitStack + (<usize>depth << 2), t);
      depth++;
      t = B(t).left;
    }
    if (!depth) return 0;
    depth--;
    const u = load<u32>(fitStack + (<usize>depth << 2));
    if (B(u).sizeG >= needG) return u;
    t = B(u).right;
  }
  return 0;
}

// The recursive form (the reference, and the fallback for a tree deeper than the stack).
function firstFitFrom(t: u32, from: u64, need: u64): u32 {
  while (t) {
    if (B(t).max < need) return 0;
    if (B(t).addr < from) { t = B(t).right; continue; }
    const l = firstFitFrom(B(t).left, from, need);
    if (l) return l;
    if (B(t).size >= need) return t;
    t = B(t).right;
  }
  return 0;
}

// The rover block (H.roverBlk, not in the tree) starts at the rover: it is the first fit when it
// holds the request; else the tree's answer is, which the rover block could not change.
// @ts-ignore: decorator
@inline function nextFit(need: u64): u32 {
  const r = H.roverBlk;
  if (r && B(r).size >= need) return r;
  return nextFitInTree(need);
}

function nextFitInTree(need: u64): u32 {
  const f = firstFitFromIter(H.root, H.rover, need);
  if (f) return f;
  if (maxOf(H.root) < need) return 0;
  counterAdd(heapNo, C_WRAPS, 1);
  return firstFitFromIter(H.root, 0, need);
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
    // address, so its place in the address-ordered tree; only the maxima on its path grow.
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
    if (p != H.roverBlk) growPathTo(H.root, p);
    touchPages(B(p).addr, HEADER_BYTES, owner);
    return;
  }
  if (rule == RULE_NEXT && !(p && isFree(p))) {
    // next-fit, n takes in a free next block q (not the rover block, which is out of the tree): no
    // free block lies between n and q, so q's record keeps the merged block, at n's address, in
    // its place in the address-ordered tree; only the maxima on its path grow (a free next block
    // is never the newest segment's last block, F2: the merge does not reach the top).
    const q = B(n).nextPhys;
    if (q && isFree(q) && q != H.roverBlk) {
      const grownBytes = B(n).size;
      B(q).addr = B(n).addr;
      B(q).size += grownBytes;
      unlink(n);
      dropRec(n);
      counterAdd(heapNo, C_COALESCES, 1);
      H.freeBytes += grownBytes;
      growPathTo(H.root, q);
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
// holds a block; next-fit's root maximum.
function largestFree(): u64 {
  if (H.rule != RULE_BEST) {
    const m = maxOf(H.root), r = H.roverBlk;
    return r && B(r).size > m ? B(r).size : m;
  }
  if (H.root) return B(treeLast<BySize>(H.root)).size;
  if (!H.binSummary) return 0;
  const w = 31 - clz(H.binSummary);
  const g = (w << 5) + 31 - clz(load<u32>(binWordSlot(w)));
  return <u64>g << GRANULE_SHIFT;
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

// In-order walk: keys strictly increasing, maxima right (next-fit; best-fit's tree keeps none),
// only free blocks; counts the nodes.
function walk(t: u32, prev: u32): u32 {
  if (!t || ckBad) return prev;
  if (B(t).flags != FL_FREE || (H.rule == RULE_NEXT && t == H.roverBlk)) { ckBad = true; return prev; }
  prev = walk(B(t).left, prev);
  if (prev && !before(prev, t)) { ckBad = true; return prev; }
  if (H.rule == RULE_NEXT) {
    const m = B(t).max;
    pullMax(t);
    if (B(t).max != m) { ckBad = true; return prev; }
  }
  ckCount++;
  return walk(B(t).right, t);
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
  walk(H.root, 0);
  let nodes = H.rule == RULE_BEST ? treeCheckPriorities<BySize>(H.root) : treeCheckPriorities<ByAddress>(H.root);
  if (H.rule == RULE_BEST) {
    if (checkBins(nodes)) return 3;
    nodes = <i64>ckCount; // the bins' blocks, walked and counted by checkBins, with the large tree's
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
