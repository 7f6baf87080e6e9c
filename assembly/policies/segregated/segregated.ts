// === segregated: size-class free lists, blocks split from the wilderness, no coalescing ===
//
// The classic segregated-storage design of Knuth (TAOCP 2.5) and Wilson et al. (1995, "segregated
// free lists"): every request is rounded up to a size class; each class keeps its own free list;
// a class whose list is empty splits a new block of exactly its size off the wilderness (the top
// of the heap, textbook/arena.ts). Freed blocks go back on their class's list and stay that size
// for ever: blocks are never coalesced, never split again, never moved to another class, and the
// wilderness never grows back. That is the design's known cost: memory freed in one class cannot
// serve another, so a phase change (many small blocks, then many large ones) keeps both peaks.
//
//   block       16-byte header, 16-byte granule: block bytes = alignUp(max(n, 1) + 16, 16); an
//               aligned request adds (alignment - 16) and aligns the user pointer inside
//   classes     the class table is generated from three parameters: minClassBytes, then steps of
//               max(16, 2^floor(log2 c) / classesPerDoubling) up to maxClassBytes (block bytes,
//               header included). classesPerDoubling = 1 gives the classic powers of two.
//   lists       LIFO (a freed block is the next one its class hands out)
//   large       requests above the largest class get their own reservation, released on free
//   realloc     in place when the new size maps to the same class (or the same pages, for a large
//               block), else allocate, copy, free
//   trim        gives back the committed pages of the wilderness (textbook/arena.ts); the blocks on
//               the lists keep their pages
//
// ╒═══ block record (REC_BYTES = 12) ═════════════════════════════════════════════════════╕
// │ 0 word u64: address >> 4 (bits 0..42) | flags << 43 │ 8 next u32 (class list; large list) │
// ╘═════════════════════════════════════════════════════════════════════════════════════════╛
//   flags (21 bits): FREE | LARGE, bits 2..4 the heap's index, bits 5..9 log2(alignment), bits
//   10..20 class index; all ones for a dropped record (DEAD). Every block starts on a 16-byte
//   granule below USER_HIGH_X64 (2^47), so its address takes 43 bits. A class block's bytes are its
//   class's size (classSize), a large block's those of its own VM reservation (largeBytesOf):
//   neither is kept in the record. No carving-order link either: the check finds a segment's blocks
//   by their addresses (segCheck G1) and destroy walks the record table for the heap's records.
//   12 bytes (32 until the session of 2026-12-07 13:55, then 24, then 16 from that evening) cut
//   the fresh pages written as blocks are carved: a replay's 1.2 M blocks wrote ~4,800 pages of
//   records at 16 bytes.

// Invariants (segCheck returns the number of the first that fails):
//   G1 the heap's class blocks, in address order, tile each segment's [base, top)
//   G2 every block on a class list is free, of that class's size; each list's length is the
//      class's free count; every free block of a segment is on its class's list
//   G3 counters (busy, free and large bytes and blocks) equal a recount
//   G4 the arena's pages: [base, frontier) committed exactly (textbook/arena.ts)

import {
  Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS,
  K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage,
} from "../../abi";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, recordAt, poolBytes, reserveForHint } from "../../kit/records";
import { paramInt, PARAM_INVALID } from "../../kit/params";
import { counterAdd, putSlot } from "../../kit/counters";
import { sortByKey } from "../../kit/sort";
import { PAGE_SIZE_BYTES, USER_HIGH_X64, alignUp, KiB, MiB } from "../../vm/constants";
import {
  vmReserve, vmCommit, vmRelease, touchPages, vmIsCommitted, vmResidencyEpoch, vmResidencyHolds, vmAllResident,
  vmRegionAt, vmRegionEnd,
} from "../../vm/space";
import { CHECKS } from "../../checks";
import {
  Arena, ARENA_BYTES, arenaInit, arenaDestroy, carve, seg, segOf, trimTops, topCommittedBytes,
  uncommittedRanges, abandonedTopBytes, arenaCheck, topBlocks, largestTop, carvedBytes,
} from "../textbook/arena";
import { HEADER_BYTES, GRANULE_BYTES, GRANULE_LOG2, blockBytes, userAddressOf, keptAlign } from "../textbook/geometry";


// Parameters (slot index in the HEAP_CREATE params block; NaN = default).
export const SEG_MIN_CLASS_BYTES = 0;        // default 32: smallest class, block bytes (header included)
export const SEG_MAX_CLASS_BYTES = 1;        // default 64 KiB: no class above; larger blocks get a reservation
export const SEG_CLASSES_PER_DOUBLING = 2;   // default 1: classes between two powers of two (1, 2, 4, 8 or 16)
export const SEG_SEGMENT_RESERVE_BYTES = 3;  // default 1 MiB: first reservation of the heap
export const SEG_COMMIT_STEP_BYTES = 4;      // default 64 KiB: the wilderness is committed in these steps
export const SEG_PARAM_COUNT = 5;
const DEFAULT_MIN_CLASS_BYTES: u64 = 32;
const DEFAULT_MAX_CLASS_BYTES: u64 = 64 * KiB;
const DEFAULT_CLASSES_PER_DOUBLING: u64 = 1;
const DEFAULT_SEGMENT_RESERVE_BYTES: u64 = 1 * MiB;
const DEFAULT_COMMIT_STEP_BYTES: u64 = 64 * KiB;
const MAX_CLASS_LIMIT_BYTES: u64 = 256 * MiB;
const MAX_CLASSES: u32 = 512;
const MAX_RESERVE_BYTES: u64 = 1024 * MiB;

// Policy counters (kit/counters.ts; names in index.ts, same order). 5 and 6 are counted where
// they happen, the others computed at sample time.
const C_CLASSES = 0;
const C_LIST_FREE_BYTES = 1;     // bytes of freed blocks on the class lists
const C_LIST_FREE_BLOCKS = 2;
const C_TOP_COMMITTED_BYTES = 3; // committed, never carved
const C_CARVED_BYTES = 4;        // bytes split off the wilderness (all segments)
const C_REUSED_BLOCKS = 5;       // allocs served from a class list, cumulative
const C_CARVED_BLOCKS = 6;       // allocs split off the wilderness, cumulative
const C_TRIMMED_BYTES = 7;       // given back by trim, cumulative
const C_ABANDONED_BYTES = 8;     // left at the tops of older segments
const C_LARGEST_CLASS_BYTES = 9;

const MAX_ALIGN_LOG2: u32 = 28;

const FL_FREE: u32 = 1;
const FL_LARGE: u32 = 2;
const FL_HEAP_SHIFT: u32 = 2;
const FL_HEAP_MASK: u32 = 0x7;
if (<u32>MAX_HEAPS - 1 > FL_HEAP_MASK) ERROR("segregated: heap index bits");
const FL_ALIGN_SHIFT: u32 = 5;
const FL_ALIGN_MASK: u32 = 0x1F;
if (MAX_ALIGN_LOG2 > FL_ALIGN_MASK) ERROR("segregated: alignment bits");
const FL_CLASS_SHIFT: u32 = 10;

// ---------------------------------------------------------------- records

// The record's word: the block's address in granules, the flags above it.
const ADDR_BITS: u32 = 43;
const ADDR_MASK: u64 = (<u64>1 << ADDR_BITS) - 1;
const FLAG_BITS: u32 = 64 - ADDR_BITS;
if ((USER_HIGH_X64 >> GRANULE_LOG2) > ADDR_MASK + 1) ERROR("segregated: a block address must fit the record's bits");
// A class index below 2^(FLAG_BITS - FL_CLASS_SHIFT) - 1 keeps a live record's flags apart from DEAD.
if (MAX_CLASSES >= (<u32>1 << (FLAG_BITS - FL_CLASS_SHIFT)) - 1) ERROR("segregated: class index bits");
const DEAD: u32 = (1 << FLAG_BITS) - 1;
const REC_BYTES: usize = 12;
const REC_NEXT: usize = 8;

// Every segregated heap's block records, one kit pool (dropped records link through next).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>REC_NEXT, 4096, 16);
// Records per live block the pool is sized for from the replay's hint (kit/hint.ts): each busy
// block and, in the worst case, as many free blocks kept in the class lists.
const RECORDS_PER_LIVE_BLOCK: u32 = 2;

// @ts-ignore: decorator
@inline function recWord(n: u32): u64 { return load<u64>(recordAt(RECS, n)); }
// @ts-ignore: decorator
@inline function recAddr(n: u32): u64 { return (recWord(n) & ADDR_MASK) << GRANULE_LOG2; }
// @ts-ignore: decorator
@inline function recFlags(n: u32): u32 { return <u32>(recWord(n) >> ADDR_BITS); }
// The flags of record n set to f; its address kept.
// @ts-ignore: decorator
@inline function setFlags(n: u32, f: u32): void {
  const r = recordAt(RECS, n);
  store<u64>(r, (load<u64>(r) & ADDR_MASK) | (<u64>f << ADDR_BITS));
}
// @ts-ignore: decorator
@inline function recNext(n: u32): u32 { return load<u32>(recordAt(RECS, n) + REC_NEXT); }
// @ts-ignore: decorator
@inline function setNext(n: u32, v: u32): void { store<u32>(recordAt(RECS, n) + REC_NEXT, v); }

// @ts-ignore: decorator
@inline function heapBits(heapIndex: i32): u32 { return <u32>heapIndex << FL_HEAP_SHIFT; }
// @ts-ignore: decorator
@inline function heapOf(n: u32): u32 { return (recFlags(n) >> FL_HEAP_SHIFT) & FL_HEAP_MASK; }

// Inline: a carve makes one per block (a call cost more than its body). `flags` holds the heap's
// bits.
// @ts-ignore: decorator
@inline function newRec(addr: u64, flags: u32): u32 {
  const n = takeRecord(RECS);
  if (CHECKS) assert(!(addr & (GRANULE_BYTES - 1)) && addr < USER_HIGH_X64, "segregated: block address outside the record's bits");
  const r = recordAt(RECS, n);
  store<u64>(r, (addr >> GRANULE_LOG2) | (<u64>flags << ADDR_BITS));
  store<u32>(r + REC_NEXT, 0);
  return n;
}

// A large block's bytes: its own reservation's (allocLarge reserves exactly the block).
function largeBytesOf(n: u32): u64 {
  const addr = recAddr(n);
  return vmRegionEnd(vmRegionAt(addr)) - addr;
}

function dropRec(n: u32): void {
  setFlags(n, DEAD);
  dropRecord(RECS, n);
}

export function segEngineBytes(): usize { return poolBytes(RECS); }
export function segRecordBytes(): u32 { return <u32>REC_BYTES; }

// ---------------------------------------------------------------- heap state

@unmanaged class SegHeap {
  classSizes: usize;    // u64 per class
  heads: usize;         // u32 per class
  freeCounts: usize;    // u64 per class
  classes: u32;
  largeHead: u32;       // large blocks, linked through next
  residentEpoch: u32;   // headersResident(): the VM's residency epoch after the heap's last own drop
  busyBytes: u64;       // class blocks in use
  busyBlocks: u64;
  freeBytes: u64;       // class blocks on the lists
  freeBlocks: u64;
  largeBytes: u64;
  largeBlocks: u64;
}
const HEAP_BYTES: usize = offsetof<SegHeap>();

const states = memory.data(MAX_HEAPS * 4);
let H: SegHeap = changetype<SegHeap>(0);
let A: Arena = changetype<Arena>(0);
let owner: u8 = 0;
let heapNo: i32 = 0;

function use(heapIndex: i32): void {
  H = changetype<SegHeap>(<usize>load<u32>(states + (<usize>heapIndex << 2)));
  A = changetype<Arena>(changetype<usize>(H) + HEAP_BYTES);
  owner = <u8>heapIndex;
  heapNo = heapIndex;
}

// Skipped touches. Every class block's header is touched when the block is carved, and the heap's
// own drops never reach a header (a large block's release drops only its own region; trimTops
// decommits only above each segment's top, past every carved block). So while no page anywhere
// stopped being resident except by the heap's own calls (the VM's residency epoch is the one the
// heap recorded after its last own drop), every header is resident and a touch of one (a free's
// list link, a reuse) would change nothing. Once another drop moves the epoch, the heap touches
// through the VM from then on.
// @ts-ignore: decorator
@inline function headersResident(): bool { return vmResidencyHolds(H.residentEpoch); }

// The touch of a class block's header (its list link or its reuse).
// @ts-ignore: decorator
@inline function touchHeader(addr: u64): void {
  if (headersResident()) {
    if (CHECKS) assert(vmAllResident(addr, HEADER_BYTES), "segregated: skipped touch of a header not resident");
    return;
  }
  touchPages(addr, HEADER_BYTES, owner);
}

// Runs before and after one of the heap's own drops: the headers stay resident through it.
// @ts-ignore: decorator
@inline function ownDropBegin(): bool { return headersResident(); }
// @ts-ignore: decorator
@inline function ownDropEnd(trusted: bool): void { if (trusted) H.residentEpoch = vmResidencyEpoch(); }

// @ts-ignore: decorator
@inline function classSize(c: u32): u64 { return load<u64>(H.classSizes + (<usize>c << 3)); }
// @ts-ignore: decorator
@inline function headSlot(c: u32): usize { return H.heads + (<usize>c << 2); }
// @ts-ignore: decorator
@inline function classOf(n: u32): u32 { return recFlags(n) >>> FL_CLASS_SHIFT; }
// Block bytes of a class block.
// @ts-ignore: decorator
@inline function classBlockBytes(n: u32): u64 { return classSize(classOf(n)); }
// Block bytes of any block.
function blockBytesOf(n: u32): u64 { return recFlags(n) & FL_LARGE ? largeBytesOf(n) : classBlockBytes(n); }

// Class sizes from minClassBytes by steps of max(16, 2^floor(log2 c) / perDoubling), up to maxBytes.
function classCount(min: u64, max: u64, perDoubling: u64): u32 {
  let n: u32 = 0;
  for (let c = min; c <= max; c += classStep(c, perDoubling)) n++;
  return n;
}

// @ts-ignore: decorator
@inline function classStep(c: u64, perDoubling: u64): u64 {
  const s = (<u64>1 << (63 - clz(c))) / perDoubling;
  return s > GRANULE_BYTES ? s : GRANULE_BYTES;
}

export function segCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  const min = paramInt(params, count, SEG_MIN_CLASS_BYTES, DEFAULT_MIN_CLASS_BYTES);
  const max = paramInt(params, count, SEG_MAX_CLASS_BYTES, DEFAULT_MAX_CLASS_BYTES);
  const per = paramInt(params, count, SEG_CLASSES_PER_DOUBLING, DEFAULT_CLASSES_PER_DOUBLING);
  const reserve = paramInt(params, count, SEG_SEGMENT_RESERVE_BYTES, DEFAULT_SEGMENT_RESERVE_BYTES);
  const step = paramInt(params, count, SEG_COMMIT_STEP_BYTES, DEFAULT_COMMIT_STEP_BYTES);
  if (min == PARAM_INVALID || max == PARAM_INVALID || per == PARAM_INVALID || reserve == PARAM_INVALID || step == PARAM_INVALID) return Status.BAD_PARAM;
  if (min < <i64>(HEADER_BYTES + GRANULE_BYTES) || (<u64>min & (GRANULE_BYTES - 1))) return Status.BAD_PARAM;
  if (max < min || <u64>max > MAX_CLASS_LIMIT_BYTES) return Status.BAD_PARAM;
  if (per != 1 && per != 2 && per != 4 && per != 8 && per != 16) return Status.BAD_PARAM;
  if (reserve < <i64>PAGE_SIZE_BYTES || <u64>reserve > MAX_RESERVE_BYTES) return Status.BAD_PARAM;
  if (step < <i64>PAGE_SIZE_BYTES || <u64>step > MAX_RESERVE_BYTES) return Status.BAD_PARAM;
  const classes = classCount(<u64>min, <u64>max, <u64>per);
  if (classes > MAX_CLASSES) return Status.BAD_PARAM;
  const st = heap.alloc(HEAP_BYTES + ARENA_BYTES);
  memory.fill(st, 0, HEAP_BYTES + ARENA_BYTES);
  store<u32>(states + (<usize>heapIndex << 2), <u32>st);
  use(heapIndex);
  reserveForHint(RECS, RECORDS_PER_LIVE_BLOCK);
  H.classes = classes;
  H.classSizes = heap.alloc(<usize>classes * 8);
  H.heads = heap.alloc(<usize>classes * 4);
  H.freeCounts = heap.alloc(<usize>classes * 8);
  memory.fill(H.heads, 0, <usize>classes * 4);
  memory.fill(H.freeCounts, 0, <usize>classes * 8);
  let c = <u64>min;
  for (let i: u32 = 0; i < classes; i++) {
    store<u64>(H.classSizes + (<usize>i << 3), c);
    c += classStep(c, <u64>per);
  }
  arenaInit(A, heapIndex, <u64>reserve, <u64>step);
  H.residentEpoch = vmResidencyEpoch(); // no block yet: every header is resident
  return Status.OK;
}

export function segDestroy(heapIndex: i32): void {
  use(heapIndex);
  let n = H.largeHead;
  while (n) { const x = recNext(n); vmRelease(recAddr(n)); dropRec(n); n = x; }
  // The class blocks: every live record of the heap (dropped ones are DEAD, large ones gone above).
  for (let m: u32 = 1; m < RECS.high; m++) {
    const f = recFlags(m);
    if (f != DEAD && ((f >> FL_HEAP_SHIFT) & FL_HEAP_MASK) == <u32>heapIndex) dropRec(m);
  }
  arenaDestroy(A);
  heap.free(H.classSizes); heap.free(H.heads); heap.free(H.freeCounts);
  heap.free(changetype<usize>(H));
  store<u32>(states + (<usize>heapIndex << 2), 0);
}

// ---------------------------------------------------------------- alloc / free / realloc

// The smallest class that holds `need` bytes, or H.classes when none does.
function classFor(need: u64): u32 {
  let lo: u32 = 0, hi = H.classes;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (classSize(mid) < need) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function allocLarge(need: u64, alignBits: u32, heapIndex: i32): u32 {
  const bytes = alignUp(need, PAGE_SIZE_BYTES);
  const base = vmReserve(bytes, 0, RegionType.PRIVATE, Usage.HEAP, owner, 0);
  if (!base) return 0;
  if (vmCommit(base, bytes) != Status.OK) { vmRelease(base); return 0; }
  const n = newRec(base, FL_LARGE | alignBits | heapBits(heapIndex));
  setNext(n, H.largeHead);
  H.largeHead = n;
  H.largeBytes += bytes;
  H.largeBlocks++;
  touchPages(base, HEADER_BYTES, owner);
  return n;
}

// segAlloc and segFree, inline: their bodies in the batch loop made for this policy (index.ts),
// where a call per op costs V8's frame and spills.
export function segAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  return segAllocInline(heapIndex, size, alignLog2);
}
export function segFree(heapIndex: i32, n: u32): void { segFreeInline(heapIndex, n); }

// @ts-ignore: decorator
@inline export function segAllocInline(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  use(heapIndex);
  if (size > (<u64>1 << 46) || alignLog2 > MAX_ALIGN_LOG2) return 0;
  const need = blockBytes(size, alignLog2);
  const alignBits = keptAlign(alignLog2) << FL_ALIGN_SHIFT;
  const c = classFor(need);
  if (c >= H.classes) return allocLarge(need, alignBits, heapIndex);
  const bytes = classSize(c);
  let n = load<u32>(headSlot(c));
  if (n) {
    const r = recordAt(RECS, n); // the record's word read once: its address kept, new flags
    store<u32>(headSlot(c), load<u32>(r + REC_NEXT));
    store<u32>(r + REC_NEXT, 0);
    const granules = load<u64>(r) & ADDR_MASK;
    store<u64>(r, granules | (<u64>((c << FL_CLASS_SHIFT) | alignBits | heapBits(heapIndex)) << ADDR_BITS));
    H.freeBytes -= bytes;
    H.freeBlocks--;
    store<u64>(H.freeCounts + (<usize>c << 3), load<u64>(H.freeCounts + (<usize>c << 3)) - 1);
    counterAdd(heapNo, C_REUSED_BLOCKS, 1);
    touchHeader(granules << GRANULE_LOG2);
  } else {
    const at = carve(A, bytes);
    if (!at) return 0;
    n = newRec(at, (c << FL_CLASS_SHIFT) | alignBits | heapBits(heapIndex));
    counterAdd(heapNo, C_CARVED_BLOCKS, 1);
    touchPages(at, HEADER_BYTES, owner);
  }
  H.busyBytes += bytes;
  H.busyBlocks++;
  return n;
}

function freeLarge(n: u32): void {
  let p = H.largeHead, prev: u32 = 0;
  while (p != n) { prev = p; p = recNext(p); }
  if (prev) setNext(prev, recNext(n)); else H.largeHead = recNext(n);
  H.largeBytes -= largeBytesOf(n);
  H.largeBlocks--;
  const trusted = ownDropBegin();
  vmRelease(recAddr(n));
  ownDropEnd(trusted);
  dropRec(n);
}

// @ts-ignore: decorator
@inline export function segFreeInline(heapIndex: i32, n: u32): void {
  use(heapIndex);
  const r = recordAt(RECS, n); // the record's word read once
  const w = load<u64>(r);
  if (<u32>(w >> ADDR_BITS) & FL_LARGE) { freeLarge(n); return; }
  const c = <u32>(w >> (ADDR_BITS + FL_CLASS_SHIFT));
  const bytes = classSize(c);
  store<u64>(r, (w & ADDR_MASK) | (<u64>((c << FL_CLASS_SHIFT) | FL_FREE | heapBits(heapIndex)) << ADDR_BITS));
  store<u32>(r + REC_NEXT, load<u32>(headSlot(c)));
  store<u32>(headSlot(c), n);
  H.busyBytes -= bytes;
  H.busyBlocks--;
  H.freeBytes += bytes;
  H.freeBlocks++;
  store<u64>(H.freeCounts + (<usize>c << 3), load<u64>(H.freeCounts + (<usize>c << 3)) + 1);
  touchHeader((w & ADDR_MASK) << GRANULE_LOG2);   // the list link
}

export function segRealloc(heapIndex: i32, n: u32, size: u64): u32 {
  use(heapIndex);
  const alignLog2 = (recFlags(n) >> FL_ALIGN_SHIFT) & FL_ALIGN_MASK;
  if (size > (<u64>1 << 46)) return 0;
  const need = blockBytes(size, alignLog2);
  if (recFlags(n) & FL_LARGE) {
    if (classFor(need) >= H.classes && alignUp(need, PAGE_SIZE_BYTES) == largeBytesOf(n)) return n;
  } else if (classFor(need) == classOf(n)) {
    return n;
  }
  const m = segAlloc(heapIndex, size, alignLog2);
  if (!m) return 0;
  const old = blockBytesOf(n) - HEADER_BYTES;
  touchPages(segUserAddress(heapIndex, m), old < size ? old : size, owner);   // the copy
  segFree(heapIndex, n);
  return m;
}

export function segTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  const trusted = ownDropBegin();
  const bytes = trimTops(A, padBytes);
  ownDropEnd(trusted);
  return bytes;
}

export function segUserAddress(heapIndex: i32, n: u32): u64 {
  return userAddressOf(recAddr(n), (recFlags(n) >> FL_ALIGN_SHIFT) & FL_ALIGN_MASK);
}

// ---------------------------------------------------------------- sample

export function segSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  const topBytes = topCommittedBytes(A);
  let largest = largestTop(A);
  for (let c = <i32>H.classes - 1; c >= 0; c--) {
    if (load<u32>(headSlot(<u32>c))) { if (classSize(<u32>c) > largest) largest = classSize(<u32>c); break; }
  }
  putSlot(out, K_BUSY, H.busyBytes + H.largeBytes);
  putSlot(out, K_FREE, H.freeBytes + topBytes);
  putSlot(out, K_FREE_BLOCKS, H.freeBlocks + topBlocks(A));
  putSlot(out, K_LARGEST_FREE, largest);
  putSlot(out, K_UNCOMMITTED_RANGES, uncommittedRanges(A));
  putSlot(out, K_SEGMENTS, A.segCount);
  putSlot(out, K_VIRTUAL_BLOCKS, H.largeBlocks);
  putSlot(out, K_VIRTUAL_BYTES, H.largeBytes);
  putSlot(out, K_POLICY_BASE + C_CLASSES, H.classes);
  putSlot(out, K_POLICY_BASE + C_LIST_FREE_BYTES, H.freeBytes);
  putSlot(out, K_POLICY_BASE + C_LIST_FREE_BLOCKS, H.freeBlocks);
  putSlot(out, K_POLICY_BASE + C_TOP_COMMITTED_BYTES, topBytes);
  putSlot(out, K_POLICY_BASE + C_CARVED_BYTES, carvedBytes(A));
  putSlot(out, K_POLICY_BASE + C_TRIMMED_BYTES, A.trimmedBytes);
  putSlot(out, K_POLICY_BASE + C_ABANDONED_BYTES, abandonedTopBytes(A));
  putSlot(out, K_POLICY_BASE + C_LARGEST_CLASS_BYTES, classSize(H.classes - 1));
}

// ---------------------------------------------------------------- invariants G1..G4

// The check's order of records: by their blocks' addresses (kit/sort.ts shape).
@final @unmanaged class ByAddress {
  // @ts-ignore: decorator
  @inline key(n: u32): u64 { return recAddr(n); }
}

// G1: the heap's class blocks (live records with its bits, not large), in address order, tile its
// segments' [base, top) one after another.
function tilesSegments(heapIndex: i32): i32 {
  let count: u32 = 0;
  for (let m: u32 = 1; m < RECS.high; m++) {
    const f = recFlags(m);
    if (f != DEAD && ((f >> FL_HEAP_SHIFT) & FL_HEAP_MASK) == <u32>heapIndex && !(f & FL_LARGE)) count++;
  }
  const p = heap.alloc(<usize>max<u32>(count, 1) << 2);
  let k: u32 = 0;
  for (let m: u32 = 1; m < RECS.high; m++) {
    const f = recFlags(m);
    if (f != DEAD && ((f >> FL_HEAP_SHIFT) & FL_HEAP_MASK) == <u32>heapIndex && !(f & FL_LARGE)) {
      store<u32>(p + (<usize>k << 2), m);
      k++;
    }
  }
  sortByKey<u32, ByAddress>(p, count);
  // Walks the blocks in address order: a block that does not follow the one before starts a
  // segment (it must be at a segment's base, above the last one started, the one before ending at
  // its top). Segments are disjoint, so address order visits each one's blocks in one run.
  let bad: i32 = 0, cur: i32 = -1, started: u32 = 0;
  let expect: u64 = 0, top: u64 = 0, lastBase: u64 = 0;
  for (let k: u32 = 0; k < count && !bad; k++) {
    const n = load<u32>(p + (<usize>k << 2));
    const addr = recAddr(n);
    if (cur < 0 || addr != expect) {
      if (cur >= 0 && expect != top) { bad = 1; break; }
      cur = -1;
      for (let i: u32 = 0; i < A.segCount; i++) {
        const s = seg(A, i);
        if (s.base == addr && s.top > s.base && (started == 0 || addr > lastBase)) { cur = <i32>i; top = s.top; break; }
      }
      if (cur < 0) { bad = 1; break; }
      lastBase = addr; expect = addr; started++;
    }
    const c = classOf(n);
    if (c >= H.classes || expect + classSize(c) > top) { bad = 1; break; }
    if (!vmIsCommitted(addr) || !vmIsCommitted(addr + classSize(c) - 1)) { bad = 4; break; }
    expect += classSize(c);
  }
  if (!bad && cur >= 0 && expect != top) bad = 1;
  if (!bad) {   // every segment with carved blocks was walked
    let carved: u32 = 0;
    for (let i: u32 = 0; i < A.segCount; i++) if (seg(A, i).top > seg(A, i).base) carved++;
    if (carved != started) bad = 1;
  }
  heap.free(p);
  return bad;
}

export function segCheck(heapIndex: i32): i32 {
  use(heapIndex);
  const g1 = tilesSegments(heapIndex);
  if (g1) return g1;
  let busy: u64 = 0, busyBlocks: u64 = 0, free: u64 = 0, freeBlocks: u64 = 0;
  for (let m: u32 = 1; m < RECS.high; m++) {
    const f = recFlags(m);
    if (f == DEAD || ((f >> FL_HEAP_SHIFT) & FL_HEAP_MASK) != <u32>heapIndex || (f & FL_LARGE)) continue;
    const bytes = classSize(classOf(m));
    if (f & FL_FREE) { free += bytes; freeBlocks++; } else { busy += bytes; busyBlocks++; }
  }
  let listed: u64 = 0;
  for (let c: u32 = 0; c < H.classes; c++) {
    let k: u64 = 0;
    let n = load<u32>(headSlot(c));
    while (n) {
      if (recFlags(n) != ((c << FL_CLASS_SHIFT) | FL_FREE | heapBits(heapIndex))) return 2;
      k++;
      n = recNext(n);
    }
    if (k != load<u64>(H.freeCounts + (<usize>c << 3))) return 2;
    listed += k;
  }
  if (listed != freeBlocks) return 2;
  let large: u64 = 0, largeBlocks: u64 = 0;
  let n = H.largeHead;
  while (n) {
    if (!(recFlags(n) & FL_LARGE) || heapOf(n) != <u32>heapIndex || !vmIsCommitted(recAddr(n))) return 3;
    large += largeBytesOf(n); largeBlocks++;
    n = recNext(n);
  }
  if (busy != H.busyBytes || busyBlocks != H.busyBlocks || free != H.freeBytes || freeBlocks != H.freeBlocks ||
    large != H.largeBytes || largeBlocks != H.largeBlocks) return 3;
  if (arenaCheck(A)) return 4;
  return 0;
}
