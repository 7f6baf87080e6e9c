// === tlsf: Two-Level Segregated Fit, block for block as Matthew Conte's implementation (v3, 64-bit) ===
//
// Masmano, Ripoll, Crespo, Real (2004), "TLSF: a new dynamic memory allocator for real-time
// systems", as implemented by Matthew Conte (tlsf 3.x, the version most C projects embed), built
// for a 64-bit target. The heap is one pool created with tlsf_create_with_pool(mem, poolBytes): the
// control structure (bitmaps and list heads, TLSF_CONTROL_BYTES) at mem, the pool right behind it.
// Rules (docs/textbook-policies.md says the same in prose):
//   sizes       a request is rounded up to 8 bytes, at least 24 (block_size_min); requests of 4 GiB
//               or more fail, and so does 0 (tlsf_malloc(0) returns NULL) unless zeroSizeRequest
//               is 1 (the default): then malloc(0) is tlsf_malloc(1), as behind a max(n, 1) wrapper
//   block       an 8-byte size word, then the user bytes; a block's "size" is what follows the size
//               word, and its last 8 bytes hold the next block's back link while it is free, so
//               consecutive size words are 8 + size apart. A zero-size sentinel closes the pool.
//   classes     first level fl = floor(log2 size) - 7 (sizes below 256 all in fl 0), 32 second-level
//               lists per first level (8-byte steps below 256, then 1/32 of the power of two)
//   search      "good fit": the request is rounded up to the next list boundary, then the head of
//               the first non-empty list at or above it (two bitmaps, no scan); lists are LIFO
//   split       when the block has at least 32 bytes more than asked, the tail becomes a free block
//   free        immediate coalescing with the previous and the next physical block
//   realloc     grows into a free next block when the two are large enough, shrinks in place
//               (the cut-off tail merges with a free next block), else malloc + copy + free
//   memalign    asks for size + align + 32, then frees the leading gap as its own block
//   pool        one pool that never grows and never shrinks; TLSF has no call that gives memory back
// Departures from the C code, each where the C code is undefined or cannot apply here: realloc to
// 0 bytes keeps a smallest block (the engine's REALLOC keeps the id alive; traced realloc(p, 0)
// arrives as a free), and realloc to 4 GiB or more fails (the C code would cut the block to 0).
//
// Pages: the memory is one reservation of poolBytes. TLSF writes the control structure, the first
// block's size word and the sentinel at the pool's end when it is created; after that it reaches
// pages from the bottom up. Pages are committed when first reached (as a lazily backed mapping
// is), from mem up to the committed frontier and the last page, and never given back.
//
// ╒═══ block record (REC_BYTES = 24), one per block, sentinel included ══════════════════╕
// │ 0 off u32: the size word's offset from mem │ 4 sizeW u32: size | FREE | PREV_FREE      │
// │ 8 prevPhys u32 │ 12 nextPhys u32 │ 16 nextFree u32 │ 20 prevFree u32                  │
// ╘═════════════════════════════════════════════════════════════════════════════════════╛
//   The memory is at most 4 GiB (MAX_POOL_BYTES), so every offset and every size fits 32 bits.
//   address of the size word = mem + off; user address = that + 8. A handle is the record index
//   of a used block.
//   high_water (heap.native) = the largest user offset from mem + block size handed out so far.
//
// Invariants (tlsfCheck returns the number of the first that fails):
//   T1 the blocks tile the pool: the first at pool, each next one 8 + size further, the sentinel
//      (size 0, used) last; prev/next links agree; sizes are multiples of 8, at least 24
//   T2 each block's PREV_FREE flag equals its predecessor's FREE flag; no two free blocks touch
//   T3 every free block is on the list its size maps to, every list holds free blocks only, the
//      links agree, and both bitmaps say exactly which lists are non-empty
//   T4 counters (used bytes and blocks, free bytes and blocks) equal a recount; high_water is at
//      least the end of every used block
//   T5 committed pages are exactly [mem, frontier) and the pool's last page; the frontier covers
//      every used block and every size word written; while the VM's residency epoch is the heap's
//      resEpoch, every page whose bit is set in resBits is resident (write8 skips its writes)

import {
  Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS,
  K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage,
} from "../../abi";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, recordAt, poolBytes, reserveForHint } from "../../kit/records";
import { paramInt, PARAM_INVALID } from "../../kit/params";
import { counterAdd, putSlot } from "../../kit/counters";
import { PAGE_SIZE_BYTES, PAGE_SHIFT, alignUp, alignDown, GiB } from "../../vm/constants";
import {
  vmReserve, vmCommit, vmRelease, touchPages, vmIsCommitted, vmRegionAt, vmRegionCommittedPages,
  vmResidencyEpoch, vmResidencyHolds, vmIsResident, RESIDENCY_EPOCH_SATURATED,
} from "../../vm/space";
import { CHECKS } from "../../checks";

// Conte's constants for a 64-bit build (tlsf.c enum tlsf_private / tlsf_public).
const ALIGN_SIZE_LOG2: u64 = 3;                       // tlsf.c: ALIGN_SIZE_LOG2 (TLSF_64BIT)
const ALIGN_SIZE: u64 = 1 << ALIGN_SIZE_LOG2;         // tlsf.c: ALIGN_SIZE
const SL_INDEX_COUNT_LOG2: u32 = 5;                   // tlsf.c: SL_INDEX_COUNT_LOG2
const SL_INDEX_COUNT: u32 = 1 << SL_INDEX_COUNT_LOG2; // tlsf.c: SL_INDEX_COUNT
const FL_INDEX_MAX: u32 = 32;                         // tlsf.c: FL_INDEX_MAX (TLSF_64BIT)
const FL_INDEX_SHIFT: u32 = SL_INDEX_COUNT_LOG2 + <u32>ALIGN_SIZE_LOG2; // tlsf.c: FL_INDEX_SHIFT
const FL_INDEX_COUNT: u32 = FL_INDEX_MAX - FL_INDEX_SHIFT + 1;         // tlsf.c: FL_INDEX_COUNT
const SMALL_BLOCK_SIZE: u64 = <u64>1 << FL_INDEX_SHIFT;                // tlsf.c: SMALL_BLOCK_SIZE
const HEADER_OVERHEAD: u64 = 8;                       // tlsf.c: block_header_overhead = sizeof(size_t)
const BLOCK_HEADER_BYTES: u64 = 32;                   // tlsf.c: sizeof(block_header_t), 4 words
const BLOCK_SIZE_MIN: u64 = BLOCK_HEADER_BYTES - 8;   // tlsf.c: block_size_min
const BLOCK_SIZE_MAX: u64 = <u64>1 << FL_INDEX_MAX;   // tlsf.c: block_size_max
const POOL_OVERHEAD: u64 = 2 * HEADER_OVERHEAD;       // tlsf.c: tlsf_pool_overhead()
// tlsf.c: sizeof(control_t) = block_null (32) + fl_bitmap (4) + sl_bitmap[25] (100), padded to 8,
// + blocks[25][32] pointers (6400) = 6536 on x86-64 (checked by the fixture generator's output).
const TLSF_CONTROL_BYTES: u64 = 6536;
if (SMALL_BLOCK_SIZE / <u64>SL_INDEX_COUNT != ALIGN_SIZE) ERROR("tlsf sizes out of tune");
if (FL_INDEX_COUNT != 25) ERROR("tlsf first-level count");

const FREE_BIT: u64 = 1;       // tlsf.c: block_header_free_bit
const PREV_FREE_BIT: u64 = 2;  // tlsf.c: block_header_prev_free_bit
const FLAG_BITS: u64 = FREE_BIT | PREV_FREE_BIT;

// Parameters (slot index in the HEAP_CREATE params block; NaN = default).
export const TLSF_POOL_BYTES = 0;      // bytes given to tlsf_create_with_pool (control + pool)
export const TLSF_ZERO_SIZE = 1;       // default 1: what malloc(0) gets (below)
export const TLSF_PARAM_COUNT = 2;
// malloc(0): tlsf_malloc(0) returns NULL (ZERO_NULL, a failed alloc for the engine); a program
// whose malloc is tlsf_malloc(max(n, 1)) gets the smallest block (ZERO_AS_ONE, the default, so a
// trace recorded under glibc, whose malloc(0) returns a block the program later frees, replays).
const ZERO_NULL: i64 = 0;
const ZERO_AS_ONE: i64 = 1;
// Default: 1 GiB on every architecture (half of a 32-bit process's address space; on x64 the
// 64-bit build takes up to 4 GiB, set poolBytes for more).
const DEFAULT_POOL_BYTES: u64 = 1 * GiB;
const MIN_POOL_BYTES: u64 = 2 * PAGE_SIZE_BYTES;
const MAX_POOL_BYTES: u64 = 4 * GiB;

// Policy counters (kit/counters.ts; names in index.ts, same order). 0..4 and 9 are computed at
// sample time, 5..8 are counted where they happen.
const C_USED_BYTES = 0;        // heap.native used_bytes: sum of tlsf_block_size of used blocks
const C_HIGH_WATER = 1;        // heap.native high_water
const C_POOL_BYTES = 2;        // the pool's first free block size (pool_bytes)
const C_USED_BLOCKS = 3;
const C_FRONTIER_BYTES = 4;    // bytes from mem to the committed frontier
const C_ZERO_NULLS = 5;        // malloc(0) calls answered NULL, cumulative
const C_NO_FIT_NULLS = 6;      // requests no list could serve, cumulative
const C_REALLOC_IN_PLACE = 7;  // reallocs that kept their block, cumulative
const C_REALLOC_MOVED = 8;     // reallocs that moved (malloc + copy + free), cumulative
const C_MEM_ADDRESS = 9;       // mem: the address given to tlsf_create_with_pool

// ---------------------------------------------------------------- records

@unmanaged class Blk {
  off: u32;        // the size word's offset from the heap's mem
  sizeW: u32;      // size | FREE | PREV_FREE
  prevPhys: u32;
  nextPhys: u32;
  nextFree: u32;
  prevFree: u32;

  // The size word's address in the heap being operated on (use() sets memBase to its mem).
  // @ts-ignore: decorator
  @inline get addr(): u64 { return memBase + <u64>this.off; }
  // @ts-ignore: decorator
  @inline get size(): u64 { return <u64>this.sizeW; }
  // @ts-ignore: decorator
  @inline set size(v: u64) {
    if (CHECKS) assert(v <= <u64>DEAD_WORD, "tlsf size word above 32 bits");
    this.sizeW = <u32>v;
  }
}
const REC_BYTES: usize = 24;
// DEAD in the size word of a dropped record (no live size word is all ones: sizes are below 4 GiB).
const DEAD_WORD: u32 = 0xFFFFFFFF;
if (offsetof<Blk>() != REC_BYTES) ERROR("tlsf record layout");

// Every tlsf heap's block records, one kit pool (dropped records link through nextFree).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>offsetof<Blk>("nextFree"), 4096);
// Records per live block the pool is sized for from the replay's hint (kit/hint.ts): each busy
// block, and at most one free block beside it (free neighbours merge).
const RECORDS_PER_LIVE_BLOCK: u32 = 2;

// Records are indices: never keep a Blk across a call that may take records (the pool moves).
// @ts-ignore: decorator
@inline function B(n: u32): Blk { return Bi(recBase, n); }
// Record n of the pool whose base is rb. The hot paths (free, and malloc after its split) read
// recBase once into a local and pass it down (the helpers' ...In forms): a global is a load at
// every use. Valid until a record is taken.
// @ts-ignore: decorator
@inline function Bi(rb: usize, n: u32): Blk { return changetype<Blk>(rb + <usize>n * REC_BYTES); }
// RECS.base kept in a global: read from the pool in memory, it is a load per record access that
// the compiler cannot keep across the stores between them. The pool moves only where records are
// taken (newRec) and where a heap is created (reserveForHint): both set it again.
let recBase: usize = 0;
// @ts-ignore: decorator
@inline function sizeOfIn(rb: usize, n: u32): u64 { return Bi(rb, n).size & ~FLAG_BITS; }
// @ts-ignore: decorator
@inline function sizeOf(n: u32): u64 { return sizeOfIn(recBase, n); }
// @ts-ignore: decorator
@inline function isFreeIn(rb: usize, n: u32): bool { return (Bi(rb, n).size & FREE_BIT) != 0; }
// @ts-ignore: decorator
@inline function isFree(n: u32): bool { return isFreeIn(recBase, n); }
// @ts-ignore: decorator
@inline function isPrevFreeIn(rb: usize, n: u32): bool { return (Bi(rb, n).size & PREV_FREE_BIT) != 0; }
// @ts-ignore: decorator
@inline function isPrevFree(n: u32): bool { return isPrevFreeIn(recBase, n); }
// @ts-ignore: decorator
@inline function setFlagIn(rb: usize, n: u32, f: u64): void { Bi(rb, n).sizeW |= <u32>f; }
// @ts-ignore: decorator
@inline function setFlag(n: u32, f: u64): void { setFlagIn(recBase, n, f); }
// @ts-ignore: decorator
@inline function clearFlagIn(rb: usize, n: u32, f: u64): void { Bi(rb, n).sizeW &= ~<u32>f; }
// @ts-ignore: decorator
@inline function clearFlag(n: u32, f: u64): void { clearFlagIn(recBase, n, f); }
// @ts-ignore: decorator
@inline function setSizeIn(rb: usize, n: u32, s: u64): void { Bi(rb, n).size = s | (Bi(rb, n).size & FLAG_BITS); }
// @ts-ignore: decorator
@inline function setSize(n: u32, s: u64): void { setSizeIn(recBase, n, s); }

// @ts-ignore: decorator
@inline function newRec(addr: u64, size: u64): u32 {
  if (CHECKS) assert(addr >= memBase && addr - memBase < H.memBytes, "tlsf record outside the memory");
  const n = takeRecord(RECS);
  recBase = RECS.base;
  const b = B(n);
  b.off = <u32>(addr - memBase); b.size = size; b.prevPhys = 0; b.nextPhys = 0; b.nextFree = 0; b.prevFree = 0;
  return n;
}

// @ts-ignore: decorator
@inline function dropRecIn(rb: usize, n: u32): void {
  Bi(rb, n).sizeW = DEAD_WORD;
  dropRecord(RECS, n);
}
// @ts-ignore: decorator
@inline function dropRec(n: u32): void { dropRecIn(recBase, n); }

export function tlsfEngineBytes(): usize { return poolBytes(RECS); }
export function tlsfRecordBytes(): u32 { return <u32>REC_BYTES; }

// ---------------------------------------------------------------- heap state

@unmanaged class TlsfHeap {
  mem: u64;           // start of the memory given to tlsf_create_with_pool
  memBytes: u64;
  poolBytes: u64;     // size of the pool's first block (tlsf_add_pool's pool_bytes)
  frontier: u64;      // pages [mem, frontier) are committed
  tailPage: u64;      // first byte of the committed pages at the pool's end
  usedBytes: u64;
  usedBlocks: u64;
  freeBytes: u64;     // sum of block sizes of free blocks
  freeBlocks: u64;
  highWater: u64;
  zeroAsOne: u32;     // TLSF_ZERO_SIZE
  first: u32;
  sentinel: u32;
  flBitmap: u32;
  resEpoch: u32;      // vmResidencyEpoch() when resBits was last valid (write8)
  resBits: usize;     // bit per page of [mem, mem + memBytes): 1 = resident at resEpoch (write8)
}
const HEAP_BYTES: usize = offsetof<TlsfHeap>();
const SL_BITMAP_BYTES: usize = <usize>FL_INDEX_COUNT * 4;
const HEADS_BYTES: usize = <usize>FL_INDEX_COUNT * <usize>SL_INDEX_COUNT * 4;
const STATE_BYTES: usize = HEAP_BYTES + SL_BITMAP_BYTES + HEADS_BYTES;

const states = memory.data(MAX_HEAPS * 4);   // u32 pointer per heap, 0 = none
let H: TlsfHeap = changetype<TlsfHeap>(0);
let memBase: u64 = 0;   // H.mem (records hold offsets from it)
let slBitmap: usize = 0;
let heads: usize = 0;
let owner: u8 = 0;
let heapNo: i32 = 0;

function use(heapIndex: i32): void {
  H = changetype<TlsfHeap>(<usize>load<u32>(states + (<usize>heapIndex << 2)));
  memBase = H.mem;
  slBitmap = changetype<usize>(H) + HEAP_BYTES;
  heads = slBitmap + SL_BITMAP_BYTES;
  owner = <u8>heapIndex;
  heapNo = heapIndex;
}

// @ts-ignore: decorator
@inline function slMap(fl: u32): u32 { return load<u32>(slBitmap + (<usize>fl << 2)); }
// @ts-ignore: decorator
@inline function setSlMap(fl: u32, v: u32): void { store<u32>(slBitmap + (<usize>fl << 2), v); }
// @ts-ignore: decorator
@inline function headAt(fl: u32, sl: u32): usize { return heads + ((<usize>fl * <usize>SL_INDEX_COUNT + <usize>sl) << 2); }

// ---------------------------------------------------------------- size classes

// tlsf.c fls on a size_t: index of the highest set bit.
// @ts-ignore: decorator
@inline function fls(x: u64): u32 { return 63 - <u32>clz(x); }

let mapFl: u32 = 0;
let mapSl: u32 = 0;

// tlsf.c mapping_insert: the list a free block of `size` bytes belongs to.
// @ts-ignore: decorator
@inline function mappingInsert(size: u64): void {
  if (size < SMALL_BLOCK_SIZE) {
    mapFl = 0;
    mapSl = <u32>(size / (SMALL_BLOCK_SIZE / <u64>SL_INDEX_COUNT));
  } else {
    const f = fls(size);
    mapSl = <u32>(size >> (f - SL_INDEX_COUNT_LOG2)) ^ SL_INDEX_COUNT;
    mapFl = f - (FL_INDEX_SHIFT - 1);
  }
}

// tlsf.c mapping_search: rounds the request up to the next list boundary first.
// @ts-ignore: decorator
@inline function mappingSearch(size: u64): void {
  if (size >= SMALL_BLOCK_SIZE) size += (<u64>1 << (fls(size) - SL_INDEX_COUNT_LOG2)) - 1;
  mappingInsert(size);
}

// tlsf.c adjust_request_size: 0 when the request cannot be served.
// @ts-ignore: decorator
@inline function adjustRequest(size: u64, align: u64): u64 {
  if (!size || size > BLOCK_SIZE_MAX) return 0;
  const a = alignUp(size, align);
  if (a >= BLOCK_SIZE_MAX) return 0;
  return a > BLOCK_SIZE_MIN ? a : BLOCK_SIZE_MIN;
}

// ---------------------------------------------------------------- free lists

// @ts-ignore: decorator
@inline function removeFreeIn(rb: usize, n: u32, fl: u32, sl: u32): void {
  const prev = Bi(rb, n).prevFree, next = Bi(rb, n).nextFree;
  if (next) Bi(rb, next).prevFree = prev;
  if (prev) Bi(rb, prev).nextFree = next;
  const h = headAt(fl, sl);
  if (load<u32>(h) == n) {
    store<u32>(h, next);
    if (!next) {
      setSlMap(fl, slMap(fl) & ~(<u32>1 << sl));
      if (!slMap(fl)) H.flBitmap &= ~(<u32>1 << fl);
    }
  }
  H.freeBytes -= sizeOfIn(rb, n);
  H.freeBlocks--;
}
// @ts-ignore: decorator
@inline function removeFree(n: u32, fl: u32, sl: u32): void { removeFreeIn(recBase, n, fl, sl); }

// @ts-ignore: decorator
@inline function insertFreeIn(rb: usize, n: u32, fl: u32, sl: u32): void {
  const h = headAt(fl, sl);
  const cur = load<u32>(h);
  Bi(rb, n).nextFree = cur;
  Bi(rb, n).prevFree = 0;
  if (cur) Bi(rb, cur).prevFree = n;
  store<u32>(h, n);
  H.flBitmap |= <u32>1 << fl;
  setSlMap(fl, slMap(fl) | (<u32>1 << sl));
  H.freeBytes += sizeOfIn(rb, n);
  H.freeBlocks++;
}
// @ts-ignore: decorator
@inline function insertFree(n: u32, fl: u32, sl: u32): void { insertFreeIn(recBase, n, fl, sl); }

// @ts-ignore: decorator
@inline function blockRemoveIn(rb: usize, n: u32): void { mappingInsert(sizeOfIn(rb, n)); removeFreeIn(rb, n, mapFl, mapSl); }
// @ts-ignore: decorator
@inline function blockRemove(n: u32): void { blockRemoveIn(recBase, n); }
// @ts-ignore: decorator
@inline function blockInsertIn(rb: usize, n: u32): void { mappingInsert(sizeOfIn(rb, n)); insertFreeIn(rb, n, mapFl, mapSl); }
// @ts-ignore: decorator
@inline function blockInsert(n: u32): void { blockInsertIn(recBase, n); }

// tlsf.c search_suitable_block on (mapFl, mapSl); sets them to the list found.
// @ts-ignore: decorator
@inline function searchSuitable(): u32 {
  let fl = mapFl;
  let sm = slMap(fl) & (<u32>0xFFFFFFFF << mapSl);
  if (!sm) {
    const fm = fl + 1 < 32 ? H.flBitmap & (<u32>0xFFFFFFFF << (fl + 1)) : 0;
    if (!fm) return 0;
    fl = <u32>ctz(fm);
    sm = slMap(fl);
  }
  const sl = <u32>ctz(sm);
  mapFl = fl;
  mapSl = sl;
  return load<u32>(headAt(fl, sl));
}

// tlsf.c block_locate_free.
// @ts-ignore: decorator
@inline function locateFree(size: u64): u32 {
  if (!size) return 0;
  mappingSearch(size);
  if (mapFl >= FL_INDEX_COUNT) return 0;
  const n = searchSuitable();
  if (n) removeFree(n, mapFl, mapSl);
  return n;
}

// ---------------------------------------------------------------- pages

// The simulated process writes 8 bytes at `a`: commit up to there (pages are reached from the bottom
// up; the pool's last page is committed from the start) and make the page resident. Inline, with
// reach's first test: nearly every write lands below the frontier (no call at all then).
// Every 8-byte write lies in one page: block addresses and sizes are multiples of 8 and the pool
// starts 8-aligned (mem is page-aligned, TLSF_CONTROL_BYTES a multiple of 8). A page whose bit in
// H.resBits is set was made resident by a write here while the VM's residency epoch was H.resEpoch:
// while the epoch holds (no page anywhere has stopped being resident) it is resident and committed
// still, so the write commits and touches nothing and is skipped (the page-table walk of touchPages
// costs more than the bit). When the epoch has moved, the bits are cleared before one is set again.
// @ts-ignore: decorator
@inline function write8(a: u64): void { write8At(a - memBase); }

// write8 of the word at offset `off` from mem (a record's off: no address formed on the common path).
// @ts-ignore: decorator
@inline function write8At(off: u64): void {
  const a = memBase + off;
  if (CHECKS) assert((off & (ALIGN_SIZE - 1)) == 0, "tlsf: unaligned size word");
  const page = off >> PAGE_SHIFT;
  const word = H.resBits + (<usize>(page >> 5) << 2);
  const bit: u32 = <u32>1 << (<u32>page & 31);
  if (!(load<u32>(word) & bit) || !vmResidencyHolds(H.resEpoch)) write8Reach(a, word, bit);
  else if (CHECKS) assert(vmIsResident(a), "tlsf: skipped write to a page not resident");
}

// write8's write to a page not known resident: commits up to it (pages are reached from the bottom
// up; the pool's last page is committed from the start), makes it resident and sets its bit.
function write8Reach(a: u64, word: usize, bit: u32): void {
  if (a < H.tailPage && a + 8 > H.frontier) reach(a + 8);
  touchPages(a, 8, owner);
  const epoch = vmResidencyEpoch();
  if (epoch == RESIDENCY_EPOCH_SATURATED) return;
  if (epoch != H.resEpoch) {
    memory.fill(H.resBits, 0, resBitsBytes(H.memBytes));
    H.resEpoch = epoch;
  }
  store<u32>(word, load<u32>(word) | bit);
}

// Bytes of a heap's page bits (write8): one bit per page of the memory, in whole u32 words.
// @ts-ignore: decorator
@inline function resBitsBytes(memBytes: u64): usize {
  return <usize>(((memBytes >> PAGE_SHIFT) + PAGE_BITS_PER_WORD - 1) / PAGE_BITS_PER_WORD) << 2;
}
const PAGE_BITS_PER_WORD: u64 = 32;

// Commits the pages up to `end` (exclusive) if the frontier is below.
function reach(end: u64): void {
  if (end <= H.frontier) return;
  let f = alignUp(end, PAGE_SIZE_BYTES);
  if (f > H.tailPage) f = H.tailPage;
  if (f > H.frontier) {
    vmCommit(H.frontier, f - H.frontier);
    H.frontier = f;
  }
}

// ---------------------------------------------------------------- block operations (tlsf.c names)

// Links n's successor back to n (the next block's prev_phys_block word, in n's last 8 bytes).
// @ts-ignore: decorator
@inline function linkNextIn(rb: usize, n: u32): u32 {
  const next = Bi(rb, n).nextPhys;
  Bi(rb, next).prevPhys = n;
  write8At(<u64>Bi(rb, next).off - 8);
  return next;
}
// @ts-ignore: decorator
@inline function linkNext(n: u32): u32 { return linkNextIn(recBase, n); }

// @ts-ignore: decorator
@inline function markAsFreeIn(rb: usize, n: u32): void {
  const next = linkNextIn(rb, n);
  setFlagIn(rb, next, PREV_FREE_BIT);
  setFlagIn(rb, n, FREE_BIT);
  write8At(<u64>Bi(rb, n).off);
}
// @ts-ignore: decorator
@inline function markAsFree(n: u32): void { markAsFreeIn(recBase, n); }

// @ts-ignore: decorator
@inline function markAsUsedIn(rb: usize, n: u32): void {
  clearFlagIn(rb, Bi(rb, n).nextPhys, PREV_FREE_BIT);
  clearFlagIn(rb, n, FREE_BIT);
  write8At(<u64>Bi(rb, Bi(rb, n).nextPhys).off);
  write8At(<u64>Bi(rb, n).off);
}
// @ts-ignore: decorator
@inline function markAsUsed(n: u32): void { markAsUsedIn(recBase, n); }

// @ts-ignore: decorator
@inline function canSplit(n: u32, size: u64): bool { return sizeOf(n) >= BLOCK_HEADER_BYTES + size; }

// tlsf.c block_split: n keeps `size` bytes, the rest becomes a new free block behind it.
// @ts-ignore: decorator
@inline function split(n: u32, size: u64): u32 {
  const remainSize = sizeOf(n) - (size + HEADER_OVERHEAD);
  const r = newRec(B(n).addr + HEADER_OVERHEAD + size, remainSize);
  const next = B(n).nextPhys;
  B(r).nextPhys = next;
  B(r).prevPhys = n;
  B(n).nextPhys = r;
  setSize(n, size);
  markAsFree(r);   // sets next's PREV_FREE and its back link
  return r;
}

// tlsf.c block_absorb: prev takes over n (which is dropped); flags of prev unchanged.
// @ts-ignore: decorator
@inline function absorbIn(rb: usize, prev: u32, n: u32): u32 {
  Bi(rb, prev).size += sizeOfIn(rb, n) + HEADER_OVERHEAD;
  const next = Bi(rb, n).nextPhys;
  Bi(rb, prev).nextPhys = next;
  dropRecIn(rb, n);
  linkNextIn(rb, prev);
  return prev;
}
// @ts-ignore: decorator
@inline function absorb(prev: u32, n: u32): u32 { return absorbIn(recBase, prev, n); }

// @ts-ignore: decorator
@inline function mergePrevIn(rb: usize, n: u32): u32 {
  if (isPrevFreeIn(rb, n)) {
    const prev = Bi(rb, n).prevPhys;
    blockRemoveIn(rb, prev);
    n = absorbIn(rb, prev, n);
  }
  return n;
}
// @ts-ignore: decorator
@inline function mergePrev(n: u32): u32 { return mergePrevIn(recBase, n); }

// @ts-ignore: decorator
@inline function mergeNextIn(rb: usize, n: u32): u32 {
  const next = Bi(rb, n).nextPhys;
  if (isFreeIn(rb, next)) {
    blockRemoveIn(rb, next);
    n = absorbIn(rb, n, next);
  }
  return n;
}
// @ts-ignore: decorator
@inline function mergeNext(n: u32): u32 { return mergeNextIn(recBase, n); }

// @ts-ignore: decorator
@inline function trimFree(n: u32, size: u64): void {
  if (canSplit(n, size)) {
    const r = split(n, size);
    linkNext(n);
    setFlag(r, PREV_FREE_BIT);
    blockInsert(r);
  }
}

function trimUsed(n: u32, size: u64): void {
  if (canSplit(n, size)) {
    let r = split(n, size);
    clearFlag(r, PREV_FREE_BIT);
    r = mergeNext(r);
    blockInsert(r);
  }
}

function trimFreeLeading(n: u32, size: u64): u32 {
  let r = n;
  if (canSplit(n, size)) {
    r = split(n, size - HEADER_OVERHEAD);
    setFlag(r, PREV_FREE_BIT);
    linkNext(n);
    blockInsert(n);
  }
  return r;
}

// tlsf.c block_prepare_used; also keeps the used counters and the high-water mark.
// @ts-ignore: decorator
@inline function prepareUsed(n: u32, size: u64): u32 {
  if (!n) return 0;
  trimFree(n, size);   // (its split takes a record: the pool may move)
  const rb = recBase;
  markAsUsedIn(rb, n);
  H.usedBytes += sizeOfIn(rb, n);
  H.usedBlocks++;
  handedOutIn(rb, n);
  return n;
}

// @ts-ignore: decorator
@inline function handedOutIn(rb: usize, n: u32): void {
  const end = Bi(rb, n).addr + HEADER_OVERHEAD + sizeOfIn(rb, n);
  if (end > H.frontier) reach(end);   // reach's own first test, inline: most blocks end below
  const hw = end - H.mem;
  if (hw > H.highWater) H.highWater = hw;
}

// ---------------------------------------------------------------- create / destroy

export function tlsfCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  const v = paramInt(params, count, TLSF_POOL_BYTES, DEFAULT_POOL_BYTES);
  if (v == PARAM_INVALID || v < <i64>MIN_POOL_BYTES || v > <i64>MAX_POOL_BYTES) return Status.BAD_PARAM;
  const bytes = <u64>v;
  if (bytes & (PAGE_SIZE_BYTES - 1)) return Status.BAD_PARAM;
  const zero = paramInt(params, count, TLSF_ZERO_SIZE, <u64>ZERO_AS_ONE);
  if (zero != ZERO_NULL && zero != ZERO_AS_ONE) return Status.BAD_PARAM;
  const mem = vmReserve(bytes, 0, RegionType.PRIVATE, Usage.HEAP, heapIndex, 0);
  if (!mem) return Status.OUT_OF_MEMORY;
  const st = heap.alloc(STATE_BYTES);
  memory.fill(st, 0, STATE_BYTES);
  store<u32>(states + (<usize>heapIndex << 2), <u32>st);
  use(heapIndex);
  reserveForHint(RECS, RECORDS_PER_LIVE_BLOCK);
  recBase = RECS.base;   // the reservation may have moved the pool
  H.mem = mem;
  memBase = mem;
  H.memBytes = bytes;
  H.resBits = heap.alloc(resBitsBytes(bytes));
  memory.fill(H.resBits, 0, resBitsBytes(bytes));
  H.resEpoch = 0;   // no epoch: every bit is cleared before the first is set
  // tlsf_create_with_pool: the control structure at mem, then tlsf_add_pool(mem + tlsf_size()).
  const pool = mem + TLSF_CONTROL_BYTES;
  const poolBytes = alignDown(bytes - TLSF_CONTROL_BYTES - POOL_OVERHEAD, ALIGN_SIZE);
  H.poolBytes = poolBytes;
  H.zeroAsOne = zero == ZERO_AS_ONE ? 1 : 0;
  H.frontier = mem;
  const sentinelAddr = pool + HEADER_OVERHEAD + poolBytes;
  H.tailPage = alignDown(sentinelAddr - HEADER_OVERHEAD, PAGE_SIZE_BYTES);
  vmCommit(H.tailPage, mem + bytes - H.tailPage);
  reach(pool);
  touchPages(mem, TLSF_CONTROL_BYTES, owner);
  // The first block's size word sits at the pool's start (its back link just before, unused).
  const first = newRec(pool, poolBytes);
  const sentinel = newRec(sentinelAddr, 0);
  B(first).nextPhys = sentinel;
  B(sentinel).prevPhys = first;
  H.first = first;
  H.sentinel = sentinel;
  setFlag(first, FREE_BIT);
  write8(pool);
  blockInsert(first);
  linkNext(first);
  setFlag(sentinel, PREV_FREE_BIT);
  write8(sentinelAddr);
  return Status.OK;
}

export function tlsfDestroy(heapIndex: i32): void {
  use(heapIndex);
  let n = H.first;
  while (n) { const next = B(n).nextPhys; dropRec(n); n = next; }
  vmRelease(H.mem);
  heap.free(H.resBits);
  heap.free(changetype<usize>(H));
  store<u32>(states + (<usize>heapIndex << 2), 0);
}

// ---------------------------------------------------------------- malloc / memalign / free / realloc

// @ts-ignore: decorator
@inline function malloc(size: u64): u32 {
  const adjust = adjustRequest(size, ALIGN_SIZE);
  if (!adjust) {
    if (size) counterAdd(heapNo, C_NO_FIT_NULLS, 1); else counterAdd(heapNo, C_ZERO_NULLS, 1);
    return 0;
  }
  const n = prepareUsed(locateFree(adjust), adjust);
  if (!n) counterAdd(heapNo, C_NO_FIT_NULLS, 1);
  return n;
}

// tlsf_memalign.
function memalign(align: u64, size: u64): u32 {
  const adjust = adjustRequest(size, ALIGN_SIZE);
  if (!adjust) {
    if (size) counterAdd(heapNo, C_NO_FIT_NULLS, 1); else counterAdd(heapNo, C_ZERO_NULLS, 1);
    return 0;
  }
  const gapMinimum = BLOCK_HEADER_BYTES;
  const withGap = adjustRequest(adjust + align + gapMinimum, align);
  const alignedSize = align > ALIGN_SIZE ? withGap : adjust;
  let n = locateFree(alignedSize);
  if (n) {
    const ptr = B(n).addr + HEADER_OVERHEAD;
    let aligned = alignUp(ptr, align);
    let gap = aligned - ptr;
    if (gap && gap < gapMinimum) {
      const gapRemain = gapMinimum - gap;
      const offset = gapRemain > align ? gapRemain : align;
      aligned = alignUp(aligned + offset, align);
      gap = aligned - ptr;
    }
    if (gap) n = trimFreeLeading(n, gap);
  }
  n = prepareUsed(n, adjust);
  if (!n) counterAdd(heapNo, C_NO_FIT_NULLS, 1);
  return n;
}

// @ts-ignore: decorator
@inline function freeIn(rb: usize, n: u32): void {
  H.usedBytes -= sizeOfIn(rb, n);
  H.usedBlocks--;
  markAsFreeIn(rb, n);
  n = mergePrevIn(rb, n);
  n = mergeNextIn(rb, n);
  blockInsertIn(rb, n);
}
// @ts-ignore: decorator
@inline function free(n: u32): void { freeIn(recBase, n); }

// tlsfAlloc and tlsfFree, inline: their bodies in the batch loop made for this policy (index.ts),
// where a call per op costs V8's frame and spills.
export function tlsfAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  return tlsfAllocInline(heapIndex, size, alignLog2);
}
export function tlsfFree(heapIndex: i32, n: u32): void { tlsfFreeInline(heapIndex, n); }

// @ts-ignore: decorator
@inline export function tlsfAllocInline(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  use(heapIndex);
  if (!size && H.zeroAsOne) size = 1;
  if (alignLog2 > <u32>ALIGN_SIZE_LOG2) return memalign(<u64>1 << alignLog2, size);
  return malloc(size);
}

// @ts-ignore: decorator
@inline export function tlsfFreeInline(heapIndex: i32, n: u32): void {
  use(heapIndex);
  free(n);
}

// tlsf_realloc for a live block and a size the engine keeps alive (see the header for 0).
export function tlsfRealloc(heapIndex: i32, n: u32, size: u64): u32 {
  use(heapIndex);
  if (size >= BLOCK_SIZE_MAX) { counterAdd(heapNo, C_NO_FIT_NULLS, 1); return 0; }
  const adjust = size ? adjustRequest(size, ALIGN_SIZE) : BLOCK_SIZE_MIN;
  const next = B(n).nextPhys;
  const cur = sizeOf(n);
  const combined = cur + sizeOf(next) + HEADER_OVERHEAD;
  if (adjust > cur && (!isFree(next) || adjust > combined)) {
    const m = malloc(size ? size : 1);
    if (!m) return 0;
    touchPages(B(m).addr + HEADER_OVERHEAD, cur < adjust ? cur : adjust, owner);  // the copy
    free(n);
    counterAdd(heapNo, C_REALLOC_MOVED, 1);
    return m;
  }
  H.usedBytes -= cur;
  if (adjust > cur) {
    mergeNext(n);
    markAsUsed(n);
  }
  trimUsed(n, adjust);
  H.usedBytes += sizeOf(n);
  handedOutIn(recBase, n);
  counterAdd(heapNo, C_REALLOC_IN_PLACE, 1);
  return n;
}

// TLSF has no call that gives memory back.
export function tlsfTrim(heapIndex: i32, padBytes: u64): u64 { return 0; }

export function tlsfUserAddress(heapIndex: i32, n: u32): u64 {
  use(heapIndex);
  return B(n).addr + HEADER_OVERHEAD;
}

// tlsf_block_size of a live block (for tests and the host).
export function tlsfBlockSize(n: u32): u64 { return sizeOf(n); }

// ---------------------------------------------------------------- sample

export function tlsfSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  // Footprints: a block occupies its size word and its size; the uncommitted pages between the
  // frontier and the last page lie inside the last free block and are not "free committed" bytes.
  const uncommitted = H.tailPage > H.frontier ? H.tailPage - H.frontier : 0;
  putSlot(out, K_BUSY, H.usedBytes + H.usedBlocks * HEADER_OVERHEAD);
  putSlot(out, K_FREE, H.freeBytes + H.freeBlocks * HEADER_OVERHEAD - uncommitted);
  putSlot(out, K_FREE_BLOCKS, H.freeBlocks);
  putSlot(out, K_LARGEST_FREE, largestFree());
  putSlot(out, K_UNCOMMITTED_RANGES, uncommitted ? 1 : 0);
  putSlot(out, K_SEGMENTS, 1);
  putSlot(out, K_VIRTUAL_BLOCKS, 0);
  putSlot(out, K_VIRTUAL_BYTES, 0);
  putSlot(out, K_POLICY_BASE + C_USED_BYTES, H.usedBytes);
  putSlot(out, K_POLICY_BASE + C_HIGH_WATER, H.highWater);
  putSlot(out, K_POLICY_BASE + C_POOL_BYTES, H.poolBytes);
  putSlot(out, K_POLICY_BASE + C_USED_BLOCKS, H.usedBlocks);
  putSlot(out, K_POLICY_BASE + C_FRONTIER_BYTES, H.frontier - H.mem);
  putSlot(out, K_POLICY_BASE + C_MEM_ADDRESS, H.mem);
}

// The largest free block's size (the whole block, uncommitted pages included): the largest block
// lies in the highest non-empty list; that list is scanned.
function largestFree(): u64 {
  if (!H.flBitmap) return 0;
  const fl = 31 - <u32>clz(H.flBitmap);
  const sl = 31 - <u32>clz(slMap(fl));
  let best: u64 = 0;
  let n = load<u32>(headAt(fl, sl));
  while (n) { if (sizeOf(n) > best) best = sizeOf(n); n = B(n).nextFree; }
  return best;
}

// ---------------------------------------------------------------- invariants T1..T5

export function tlsfCheck(heapIndex: i32): i32 {
  use(heapIndex);
  const pool = H.mem + TLSF_CONTROL_BYTES;
  let usedBytes: u64 = 0, usedBlocks: u64 = 0, freeBytes: u64 = 0, freeBlocks: u64 = 0;
  let n = H.first, prev: u32 = 0, expect = pool, prevFree = false, maxEnd: u64 = 0;
  if (B(n).prevPhys != 0) return 1;
  while (true) {
    const s = sizeOf(n);
    if (B(n).addr != expect || B(n).prevPhys != prev || (s & (ALIGN_SIZE - 1))) return 1;
    if (n == H.sentinel) break;
    if (s < BLOCK_SIZE_MIN || !B(n).nextPhys) return 1;
    if (isPrevFree(n) != prevFree) return 2;
    if (isFree(n)) {
      if (prevFree) return 2;
      freeBytes += s; freeBlocks++;
      mappingInsert(s);
      let m = load<u32>(headAt(mapFl, mapSl));
      while (m && m != n) m = B(m).nextFree;
      if (m != n) return 3;
    } else {
      usedBytes += s; usedBlocks++;
      const end = B(n).addr + HEADER_OVERHEAD + s;
      if (end > maxEnd) maxEnd = end;
    }
    prevFree = isFree(n);
    prev = n;
    expect = B(n).addr + HEADER_OVERHEAD + s;
    n = B(n).nextPhys;
  }
  if (sizeOf(n) != 0 || isFree(n) || isPrevFree(n) != prevFree || n != H.sentinel) return 1;
  if (expect != pool + HEADER_OVERHEAD + H.poolBytes) return 1;
  // Lists and bitmaps.
  let listed: u64 = 0;
  for (let fl: u32 = 0; fl < FL_INDEX_COUNT; fl++) {
    const sm = slMap(fl);
    if (((H.flBitmap >> fl) & 1) != (sm ? 1 : 0)) return 3;
    for (let sl: u32 = 0; sl < SL_INDEX_COUNT; sl++) {
      let m = load<u32>(headAt(fl, sl));
      if (((sm >> sl) & 1) != (m ? 1 : 0)) return 3;
      let back: u32 = 0;
      while (m) {
        if (!isFree(m) || B(m).prevFree != back) return 3;
        mappingInsert(sizeOf(m));
        if (mapFl != fl || mapSl != sl) return 3;
        listed++;
        back = m;
        m = B(m).nextFree;
      }
    }
  }
  if (listed != freeBlocks) return 3;
  if (usedBytes != H.usedBytes || usedBlocks != H.usedBlocks || freeBytes != H.freeBytes || freeBlocks != H.freeBlocks) return 4;
  if (maxEnd && maxEnd - H.mem > H.highWater) return 4;
  // Pages: [mem, frontier) and [tailPage, end) committed, nothing between (boundary pages and the
  // region's count of committed pages).
  if (maxEnd > H.frontier && H.frontier < H.tailPage) return 5;
  const end = H.mem + H.memBytes;
  const low = H.frontier < H.tailPage ? H.frontier - H.mem : H.tailPage - H.mem;
  const pages = (low + end - H.tailPage) >> PAGE_SHIFT;
  if (<u64>vmRegionCommittedPages(vmRegionAt(H.mem)) != pages) return 5;
  if (H.frontier > H.mem && !vmIsCommitted(H.frontier - 1)) return 5;
  if (!vmIsCommitted(H.tailPage)) return 5;
  if (H.frontier < H.tailPage && (vmIsCommitted(H.frontier) || vmIsCommitted(H.tailPage - 1))) return 5;
  // write8's page bits: while their epoch holds, every page with its bit set is resident.
  if (vmResidencyHolds(H.resEpoch)) {
    const words = resBitsBytes(H.memBytes) >> 2;
    for (let w: usize = 0; w < words; w++) {
      let bits = load<u32>(H.resBits + (w << 2));
      while (bits) {
        const page = (<u64>w << 5) + <u64>ctz(bits);
        if (!vmIsResident(H.mem + (page << PAGE_SHIFT))) return 5;
        bits &= bits - 1;
      }
    }
  }
  return 0;
}
