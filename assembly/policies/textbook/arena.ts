// === arena: a heap that grows at its top, as the textbook allocators assume (sbrk) ===
//
// Shared by best-fit, next-fit and segregated (not a policy). A heap is a list of segments, each
// one VM reservation. The newest segment has the *top* (Wilson's "wilderness"): the unused rest of
// the segment, from `top` to the reservation's end. Blocks are carved from the top only when the
// policy has no free block for the request.
//   growth   the newest reservation grows in place (vmResize, like brk), at least doubling, by
//            at most MAX_GROW_BYTES at a time (never less than the request); when the address
//            space above is taken a new segment is reserved elsewhere (the request rounded up to
//            64 KiB, at least the first reservation). What is left at an older segment's top
//            is never carved again.
//   commit   pages are committed from the segment's base up to the frontier, in commit steps
//            counted from the base: frontier = base + alignUp(top - base, commitStep)
//   trim     gives back the committed pages above top + pad of every segment (malloc_trim of an
//            sbrk heap); nothing else is ever given back
//
// ╒═══ segment entry (SEG_BYTES) ═══╕
// │ 0 base u64 │ 8 end u64 │ 16 top u64 │ 24 frontier u64 │
// ╘═════════════════════════════════╛   segments are in creation order

import { resize } from "../../mem";
import { Status, RegionType, Usage } from "../../abi";
import { PAGE_SIZE_BYTES, ALLOC_GRANULARITY_BYTES, alignUp, MiB } from "../../vm/constants";
import {
  vmReserve, vmResize, vmCommit, vmDecommit, vmRelease, vmIsCommitted, vmRegionAt, vmRegionBase, vmRegionEnd,
  vmRegionCommittedPages,
} from "../../vm/space";

// Growth of a reservation in one step is capped (our choice: a brk heap grows as needed, but a
// doubling of a multi-GiB reservation would take address space no workload asked for).
const MAX_GROW_BYTES: u64 = 256 * MiB;

@unmanaged export class Seg {
  base: u64;
  end: u64;
  top: u64;
  frontier: u64;
}
export const SEG_BYTES: usize = 32;
if (offsetof<Seg>() != SEG_BYTES) ERROR("arena segment layout");

@unmanaged export class Arena {
  segs: usize;          // Seg table
  segCap: u32;
  segCount: u32;
  owner: u32;           // VM owner (the heap index)
  pad: u32;
  firstReserve: u64;    // bytes of the first reservation
  commitStep: u64;
  trimmedBytes: u64;    // given back by trim, cumulative
}
export const ARENA_BYTES: usize = offsetof<Arena>();

// @ts-ignore: decorator
@inline export function seg(a: Arena, i: u32): Seg { return changetype<Seg>(a.segs + <usize>i * SEG_BYTES); }

export function arenaInit(a: Arena, owner: i32, firstReserve: u64, commitStep: u64): void {
  a.segs = 0; a.segCap = 0; a.segCount = 0; a.owner = <u32>owner;
  a.firstReserve = alignUp(firstReserve, ALLOC_GRANULARITY_BYTES);
  a.commitStep = alignUp(commitStep, PAGE_SIZE_BYTES);
  a.trimmedBytes = 0;
}

export function arenaDestroy(a: Arena): void {
  for (let i: u32 = 0; i < a.segCount; i++) vmRelease(seg(a, i).base);
  if (a.segs) heap.free(a.segs);
  a.segs = 0; a.segCap = 0; a.segCount = 0;
}

// Index of the segment holding address x (segments are few: a scan).
export function segOf(a: Arena, x: u64): u32 {
  for (let i: u32 = 0; i < a.segCount; i++) {
    const s = seg(a, i);
    if (x >= s.base && x < s.end) return i;
  }
  unreachable();
  return 0;
}

// @ts-ignore: decorator
@inline export function isNewest(a: Arena, i: u32): bool { return i + 1 == a.segCount; }

// Moves segment i's frontier up to cover its top.
function commitTo(a: Arena, s: Seg): bool {
  let f = s.base + alignUp(s.top - s.base, a.commitStep);
  if (f > s.end) f = s.end;
  if (f > s.frontier) {
    if (vmCommit(s.frontier, f - s.frontier) != Status.OK) return false;
    s.frontier = f;
  }
  return true;
}

function addSeg(a: Arena, bytes: u64): bool {
  const size = alignUp(bytes > a.firstReserve ? bytes : a.firstReserve, ALLOC_GRANULARITY_BYTES);
  const base = vmReserve(size, 0, RegionType.PRIVATE, Usage.HEAP, a.owner, 0);
  if (!base) return false;
  if (a.segCount == a.segCap) {
    a.segCap = a.segCap ? a.segCap * 2 : 4;
    a.segs = resize(a.segs, <usize>a.segCap * SEG_BYTES);
  }
  const s = seg(a, a.segCount++);
  s.base = base; s.end = base + size; s.top = base; s.frontier = base;
  return true;
}

// Carves `bytes` from the top: the block's address, or 0 when the address space has no room.
export function carve(a: Arena, bytes: u64): u64 {
  if (!a.segCount && !addSeg(a, bytes)) return 0;
  let s = seg(a, a.segCount - 1);
  if (s.end - s.top < bytes) {
    const size = s.end - s.base;
    let grow = size < MAX_GROW_BYTES ? size : MAX_GROW_BYTES;
    const short = alignUp(bytes - (s.end - s.top), ALLOC_GRANULARITY_BYTES);
    if (grow < short) grow = short;
    if (vmResize(s.base, size + grow) == Status.OK) {
      s.end += grow;
    } else {
      if (!addSeg(a, bytes)) return 0;
      s = seg(a, a.segCount - 1);
    }
  }
  const at = s.top;
  s.top += bytes;
  if (!commitTo(a, s)) { s.top = at; return 0; }
  return at;
}

// The block [x, top) of the newest segment went back to the top.
export function lowerTop(a: Arena, x: u64): void {
  seg(a, a.segCount - 1).top = x;
}

// Committed bytes above the tops (free to carve, or given back by trim).
export function topCommittedBytes(a: Arena): u64 {
  let t: u64 = 0;
  for (let i: u32 = 0; i < a.segCount; i++) t += seg(a, i).frontier - seg(a, i).top;
  return t;
}

// Segments with committed bytes above their top (each such top counts as one free block).
export function topBlocks(a: Arena): u64 {
  let n: u64 = 0;
  for (let i: u32 = 0; i < a.segCount; i++) if (seg(a, i).frontier > seg(a, i).top) n++;
  return n;
}

// The most committed bytes above one segment's top.
export function largestTop(a: Arena): u64 {
  let m: u64 = 0;
  for (let i: u32 = 0; i < a.segCount; i++) {
    const t = seg(a, i).frontier - seg(a, i).top;
    if (t > m) m = t;
  }
  return m;
}

// Bytes carved from the segments (top - base, summed).
export function carvedBytes(a: Arena): u64 {
  let t: u64 = 0;
  for (let i: u32 = 0; i < a.segCount; i++) t += seg(a, i).top - seg(a, i).base;
  return t;
}

// Committed bytes above the newest segment's top (the part the top can still hand out at once).
export function newestTopCommittedBytes(a: Arena): u64 {
  if (!a.segCount) return 0;
  const s = seg(a, a.segCount - 1);
  return s.frontier - s.top;
}

// Segments whose reservation is not committed to its end.
export function uncommittedRanges(a: Arena): u64 {
  let n: u64 = 0;
  for (let i: u32 = 0; i < a.segCount; i++) if (seg(a, i).frontier < seg(a, i).end) n++;
  return n;
}

export function reservedBytes(a: Arena): u64 {
  let t: u64 = 0;
  for (let i: u32 = 0; i < a.segCount; i++) t += seg(a, i).end - seg(a, i).base;
  return t;
}

// Bytes between the older segments' tops and their ends: never carved again.
export function abandonedTopBytes(a: Arena): u64 {
  let t: u64 = 0;
  for (let i: u32 = 0; i + 1 < a.segCount; i++) t += seg(a, i).end - seg(a, i).top;
  return t;
}

// Decommits the pages above top + pad of every segment. Returns the bytes given back.
export function trimTops(a: Arena, padBytes: u64): u64 {
  let total: u64 = 0;
  for (let i: u32 = 0; i < a.segCount; i++) {
    const s = seg(a, i);
    let keep = alignUp(s.top + padBytes, PAGE_SIZE_BYTES);
    if (keep < s.top || keep > s.frontier) keep = s.frontier;   // (overflow of a huge pad)
    if (keep < s.frontier) {
      vmDecommit(keep, s.frontier - keep);
      total += s.frontier - keep;
      s.frontier = keep;
    }
  }
  a.trimmedBytes += total;
  return total;
}

// 0, or 1 when a segment's committed pages are not exactly [base, frontier) (the region's count
// of committed pages and the first page past the frontier), or its top is out of place.
export function arenaCheck(a: Arena): i32 {
  for (let i: u32 = 0; i < a.segCount; i++) {
    const s = seg(a, i);
    if (s.top < s.base || s.frontier < s.top || s.frontier > s.end || (s.frontier & (PAGE_SIZE_BYTES - 1))) return 1;
    const r = vmRegionAt(s.base);
    if (vmRegionBase(r) != s.base || vmRegionEnd(r) != s.end) return 1;
    if (<u64>vmRegionCommittedPages(r) != (s.frontier - s.base) / PAGE_SIZE_BYTES) return 1;
    if (s.frontier > s.base && !vmIsCommitted(s.frontier - 1)) return 1;
  }
  return 0;
}
