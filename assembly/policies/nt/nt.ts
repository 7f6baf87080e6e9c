// === nt: the Windows NT heap (back end, core.ts) with the LFH front end (lfh.ts) ===
//
// What it simulates: a growable private heap (flags 0x00001002) as HeapCreate(0, 0, 0) makes it,
// with the NT5 back-end rules, the Vista+ LFH activation rule, and the counters `!heap -s` prints.
// Source: docs/nt-heap.md ("the brief"); [V]/[O]/[I]/[?] are its confidence marks.
//
// Routing of a request of n bytes (n = max(n,1), plus alignment − granule for aligned requests):
//   block = n + one header rounded up to a granule (x86 8 B, x64 16 B; smallest block 2 granules);
//   block > virtualMemoryThreshold     → its own reservation, released on free (brief §1.9);
//   LFH allowed and n <= 16 KiB        → the bucket's chunks once the bucket is on (lfh.ts);
//   otherwise                          → back end: best fit, split, extend (core.ts).
// Free: large blocks are released; LFH chunks go back to their user block; back-end blocks coalesce
// and meet the decommit rule. Realloc: a back-end block shrinks in place (the tail is freed) or
// grows into a free successor, else moves; an LFH chunk stays only when the new size maps to its
// own bucket [I]; a large block stays only when its page count does not change. Trim (HeapCompact-
// like): decommits the whole pages of every free block, thresholds ignored.
//
// Parameters (slot = index in the HEAP_CREATE params block; NaN = default). Uncertain rules are
// parameters so that a run can state its assumption:
//   0 segmentReserveBytes        1 MiB    first segment reservation (MS-RHP, PEB dumps) [V]
//   1 segmentCommitBytes         8 KiB    initial commit of a segment (MS-RHP) [V]
//   2 segmentGrowthFactor        2        next reservation += (factor − 1) × this one: 2 = doubling as
//                                         ReactOS does [V]; Vista+ growth is unknown [?]; 1 = fixed
//   3 segmentReserveMaxBytes     0        cap on a segment reservation, 0 = none (Wine caps its
//                                         growth at 128 MiB [V for Wine]; Windows unknown [?])
//   4 decommitFreeBlockThreshold 4 KiB x86, 16 KiB x64   DFBT (x86 [V]; x64 from one Win10 dump [I]).
//                                         Raising it models the undocumented Vista+ heuristics that
//                                         keep 34-150 KiB free blocks committed (brief §1.7, §7.4) [?]
//   5 decommitTotalFreeThreshold 64 KiB   DTFT (MS-RHP, dumps) [V]
//   6 virtualMemoryThreshold     0x7F000 x86, 0xFF000 x64  blocks above go to their own reservation [V]
//   7 lfh                        1        the LFH front end may be used (Vista+ turns it on as needed)
//   8 noSerialize                0        HEAP_NO_SERIALIZE: no heap lock, so no LFH (MS-API) [V]
//   9 lfhRandomChunks            1        Win8+ random free chunk [I]; 0 = lowest index (Win7)
//  10 virtCorrection             1        Virt = Reserv − correction: 0 none (Win7-era debugger [O]),
//                                         1 each segment's largest UCR (XP-era debugger [V]/[O]),
//                                         2 every UCR of at least virtLargeUcrBytes (newer debuggers
//                                         label it "large UCR"; the threshold is unknown [?])
//  11 virtLargeUcrBytes          1 MiB    the "large UCR" threshold of correction 2 [?]
//  12 freeListOrder              0        ties between equal-size free blocks: 0 lowest address,
//                                         1 first inserted (the brief leaves it open [?])
//
// Common slots: K_BUSY = the program's blocks (back-end blocks, live LFH chunks, large blocks) plus
// the heap's header blocks (an LFH user block counts only by its live chunks); K_FREE/K_FREE_BLOCKS
// = back-end free blocks; K_VIRTUAL_BLOCKS/BYTES = large blocks. The engine's K_RESERVED/K_COMMITTED
// include large blocks; `!heap -s` Reserv/Commit do not, hence slots 0 and 1.
// Policy counter slots (K_POLICY_BASE + i; names in index.ts):
//   0 segmentReservedBytes  1 segmentCommittedBytes  (`!heap -s` Reserv and Commit: segments only)
//   2 virtBytes  3 freeWholePageBytes (whole pages inside back-end free blocks: memory the decommit
//   thresholds keep; the rest of Free shares pages with live blocks)  4 lfhUserBlocks
//   5 lfhUserBlockBytes  6 lfhFreeChunkBytes  7 lfhLiveChunkBytes  8 decommittedBytes (cumulative)
//   9 heapAddress (base of segment 0)  10 heapFlags  11 frontEndHeapType (0 none, 2 LFH)
//
// Left out: the XP/2003 lookaside lists ("L" fast heap), the 64-segment NT5 limit, the Win8+
// random extra pages of large blocks, the LFH user-block cache, grow-in-place into uncommitted
// pages, tail checking and debug-heap fill patterns, lock contention (always 0).
//
// Invariants (ntCheck returns the number of the first that fails):
//   N1 records of each segment tile it exactly in address order, the header record first, links
//      and segment indices consistent, every record granule aligned
//   N2 no two adjacent free blocks that would fit one block; no two adjacent UCRs; free blocks of
//      2 granules up to the largest block; UCRs page aligned
//   N3 UCR pages are uncommitted and every other page of a segment is committed
//   N4 the free index is an ordered treap of exactly the free blocks; each segment's UCR treap is
//      an address-ordered treap of exactly its UCRs with correct subtree maxima
//   N5 counters (free bytes/blocks/whole pages, busy bytes, UCR count/bytes, large-UCR bytes,
//      reserved bytes) equal a recount
//   N6 large blocks: each is a whole VM region of its own, fully committed, counted
//   N7x the LFH (lfh.ts L1..L4; returns 70 + x)

import { resize } from "../../mem";
import { treePriority as treapPrio } from "../../kit/tree";
import { paramInt as param } from "../../kit/params";
import {
  Status, Arch, MAX_HEAPS, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES,
  K_SEGMENTS, K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE,
} from "../../abi";
import { PAGE_SIZE_BYTES, alignUp, KiB, MiB } from "../../vm/constants";
import {
  vmArch, vmRelease, vmRegionAt, vmRegionBase, vmRegionEnd, vmRegionCommittedPages, vmIsCommitted, touchPages,
} from "../../vm/space";
import {
  NtHeap, H, owner, setCurrent, rec, kind, bytesOf, seg, granuleBytes, dropRec, uMax,
  freeInsert, freeRemove, freeLargest, wholePageBytes, addSegment, decommitBlock, decommitResume, backAlloc, backFree,
  backShrink, backGrowInPlace, largeAlloc, largeFree, largeHeaderBytes, recEngineBytes, recReserve,
  RK_USER, RK_FREE, RK_UCR, RK_HEADER, RK_USERBLOCK, RK_LARGE, ALIGN_SHIFT, MIN_SPLIT_G,
  GRANULE_SHIFT_X86, GRANULE_SHIFT_X64, MAX_BLOCK_G_X86, MAX_BLOCK_G_X64,
  HEAP_NO_SERIALIZE, HEAP_GROWABLE, HEAP_CLASS_PRIVATE, FRONT_END_NONE, FRONT_END_LFH,
} from "./core";
import {
  LFH_TAG, LFH_MAX_REQUEST_BYTES, lfhInit, lfhBucketOf, lfhBucketOn, lfhNoteAlloc, lfhNoteFree, lfhAlloc,
  lfhAllocOn, lfhBucketOnOf, lfhFreeInline, lfhBucketOfHandle, lfhAlignLog2, lfhChunkAddress, lfhDestroy, lfhCheck, lfhWalkChunks, lfhEngineBytes,
} from "./lfh";

// Parameter slots.
export const NT_SEGMENT_RESERVE_BYTES = 0;
export const NT_SEGMENT_COMMIT_BYTES = 1;
export const NT_SEGMENT_GROWTH_FACTOR = 2;
export const NT_SEGMENT_RESERVE_MAX_BYTES = 3;
export const NT_DECOMMIT_FREE_BLOCK_THRESHOLD = 4;
export const NT_DECOMMIT_TOTAL_FREE_THRESHOLD = 5;
export const NT_VIRTUAL_MEMORY_THRESHOLD = 6;
export const NT_LFH = 7;
export const NT_NO_SERIALIZE = 8;
export const NT_LFH_RANDOM_CHUNKS = 9;
export const NT_VIRT_CORRECTION = 10;
export const NT_VIRT_LARGE_UCR_BYTES = 11;
export const NT_FREE_LIST_ORDER = 12;
export const NT_PARAM_COUNT = 13;

// Defaults (real values, sources above and in the brief §1.2).
const DEFAULT_SEGMENT_RESERVE_BYTES: u64 = 1 * MiB;        // SegmentReserve 0x100000 [V]
const DEFAULT_SEGMENT_COMMIT_BYTES: u64 = 8 * KiB;         // SegmentCommit 0x2000 [V]
const DEFAULT_SEGMENT_GROWTH_FACTOR: u64 = 2;              // ReactOS doubling [V]; Vista+ [?]
const DEFAULT_DFBT_X86: u64 = 4 * KiB;                     // x86 _HEAP DeCommitFreeBlockThreshold 0x200 granules [V]
const DEFAULT_DFBT_X64: u64 = 16 * KiB;                    // Win10 x64 _HEAP shows 0x400 granules [I]
const DEFAULT_DTFT: u64 = 64 * KiB;                        // DeCommitTotalFreeThreshold 0x10000 [V]
const DEFAULT_VMT_X86: u64 = <u64>MAX_BLOCK_G_X86 << GRANULE_SHIFT_X86; // 0x7F000 [V]
const DEFAULT_VMT_X64: u64 = <u64>MAX_BLOCK_G_X64 << GRANULE_SHIFT_X64; // 0xFF000 [V]
const DEFAULT_VIRT_LARGE_UCR_BYTES: u64 = 1 * MiB;         // our choice [?]
const MAX_SEGMENT_BYTES: u64 = 0xFFFF0000;
const MAX_REQUEST_BYTES: u64 = <u64>1 << 46;

const heapPtrs = memory.data(MAX_HEAPS * 4);

// @ts-ignore: decorator
@inline function heapOf(h: i32): NtHeap { return changetype<NtHeap>(load<usize>(heapPtrs + (<usize>h << 2))); }

function use(h: i32): void {
  setCurrent(heapOf(h), h);
}

export function ntCreate(h: i32, parent: i32, params: usize, count: i32): Status {
  const x64 = vmArch() == Arch.X64;
  const gShift = x64 ? GRANULE_SHIFT_X64 : GRANULE_SHIFT_X86;
  const maxG = x64 ? MAX_BLOCK_G_X64 : MAX_BLOCK_G_X86;
  const segRes = param(params, count, NT_SEGMENT_RESERVE_BYTES, DEFAULT_SEGMENT_RESERVE_BYTES);
  const segCom = param(params, count, NT_SEGMENT_COMMIT_BYTES, DEFAULT_SEGMENT_COMMIT_BYTES);
  const growth = param(params, count, NT_SEGMENT_GROWTH_FACTOR, DEFAULT_SEGMENT_GROWTH_FACTOR);
  const resMax = param(params, count, NT_SEGMENT_RESERVE_MAX_BYTES, 0);
  const dfbt = param(params, count, NT_DECOMMIT_FREE_BLOCK_THRESHOLD, x64 ? DEFAULT_DFBT_X64 : DEFAULT_DFBT_X86);
  const dtft = param(params, count, NT_DECOMMIT_TOTAL_FREE_THRESHOLD, DEFAULT_DTFT);
  const vmt = param(params, count, NT_VIRTUAL_MEMORY_THRESHOLD, x64 ? DEFAULT_VMT_X64 : DEFAULT_VMT_X86);
  const lfh = param(params, count, NT_LFH, 1);
  const noSer = param(params, count, NT_NO_SERIALIZE, 0);
  const random = param(params, count, NT_LFH_RANDOM_CHUNKS, 1);
  const virtRule = param(params, count, NT_VIRT_CORRECTION, 1);
  const largeUcr = param(params, count, NT_VIRT_LARGE_UCR_BYTES, DEFAULT_VIRT_LARGE_UCR_BYTES);
  const order = param(params, count, NT_FREE_LIST_ORDER, 0);
  if (segRes < <i64>(64 * KiB) || segRes > <i64>MAX_SEGMENT_BYTES) return Status.BAD_PARAM;
  if (segCom < <i64>PAGE_SIZE_BYTES || segCom > segRes) return Status.BAD_PARAM;
  if (growth < 1 || growth > 16) return Status.BAD_PARAM;
  if (resMax < 0 || (resMax != 0 && (resMax < segRes || resMax > <i64>MAX_SEGMENT_BYTES))) return Status.BAD_PARAM;
  if (dfbt < 0 || dfbt > 0xFFFFFFFF || dtft < 0 || dtft > <i64>(1 << 40)) return Status.BAD_PARAM;
  if (vmt < (<i64>MIN_SPLIT_G << gShift) || vmt > (<i64>maxG << gShift)) return Status.BAD_PARAM;
  if (lfh < 0 || lfh > 1 || noSer < 0 || noSer > 1 || random < 0 || random > 1) return Status.BAD_PARAM;
  if (virtRule < 0 || virtRule > 2 || largeUcr < 0 || largeUcr > <i64>(1 << 40)) return Status.BAD_PARAM;
  if (order < 0 || order > 1) return Status.BAD_PARAM;

  const size = offsetof<NtHeap>();
  const p = heap.alloc(size);
  memory.fill(p, 0, size);
  const s = changetype<NtHeap>(p);
  s.index = <u32>h;
  s.gShift = gShift;
  s.maxG = maxG;
  s.flags = HEAP_CLASS_PRIVATE | HEAP_GROWABLE | (noSer ? HEAP_NO_SERIALIZE : 0);
  s.dfbt = <u64>dfbt;
  s.dtft = <u64>dtft;
  s.vmt = <u64>vmt;
  s.segCommit = <u64>segCom;
  s.reserveMax = <u64>resMax;
  s.virtLargeUcr = <u64>largeUcr;
  s.nextReserve = alignUp(<u64>segRes, 64 * KiB);
  s.growth = <u32>growth;
  s.virtRule = <u32>virtRule;
  s.lfhAllowed = lfh && !noSer ? 1 : 0;
  // Every request up to LFH_MAX_REQUEST_BYTES is below the virtual memory threshold (vmt is a whole
  // number of granules, so the largest request's need is at most vmt exactly when all are).
  const lfhMaxNeed = ((LFH_MAX_REQUEST_BYTES + (<u64>2 << gShift) - 1) >> gShift) << gShift;
  s.lfhFastBytes = s.lfhAllowed && lfhMaxNeed <= <u64>vmt ? <u32>LFH_MAX_REQUEST_BYTES : 0;
  s.randomChunks = <u32>random;
  s.fifo = <u32>order;
  s.prng = 0x6C078965 ^ (<u32>h * 0x9E3779B9) | 1;
  setCurrent(s, h);
  recReserve();
  if (!addSegment(0)) {
    if (s.segTable) heap.free(s.segTable);
    heap.free(p);
    return Status.NO_ADDRESS_SPACE;
  }
  if (s.lfhAllowed) lfhInit();
  store<usize>(heapPtrs + (<usize>h << 2), p);
  return Status.OK;
}

// Request bytes after the alignment allowance (HeapAlloc has no alignment: over-allocate).
// @ts-ignore: decorator
@inline function requestBytes(size: u64, alignLog2: u32): u64 {
  let req = size ? size : 1;
  if (alignLog2 > H.gShift) req += (<u64>1 << alignLog2) - granuleBytes();
  return req;
}

// ntAlloc and ntFree, inline: their bodies in nt's batch loop (index.ts NtOps), where a call per op
// costs V8's frame and spills.
export function ntAlloc(h: i32, size: u64, alignLog2: u32): u32 { return ntAllocInline(h, size, alignLog2); }
export function ntFree(h: i32, handle: u32): void { ntFreeInline(h, handle); }

// @ts-ignore: decorator
@inline export function ntAllocInline(h: i32, size: u64, alignLog2: u32): u32 {
  const hp = heapOf(h); // the heap's record in a local: V8 reloads the global H at every use
  setCurrent(hp, h);
  // The common call: no alignment, a request the LFH serves (below the virtual memory threshold,
  // lfhFastBytes) of a bucket switched on; the same steps as below with req = size (size 0 goes on).
  if (alignLog2 == 0 && size - 1 < <u64>hp.lfhFastBytes) {
    const b = lfhBucketOf(size);
    if (lfhBucketOnOf(hp, b)) return lfhAllocOn(hp, b, 0);
  }
  if (size > MAX_REQUEST_BYTES || alignLog2 > 28) return 0;
  const req = requestBytes(size, alignLog2);
  const align = alignLog2 > H.gShift ? alignLog2 : 0;
  const G = granuleBytes();
  const units = (req + G + G - 1) >> H.gShift;
  const need = units << H.gShift;
  if (need > H.vmt) return largeAlloc(req, align << ALIGN_SHIFT);
  let lfhBucket: i32 = -1;
  if (H.lfhAllowed && req <= LFH_MAX_REQUEST_BYTES) {
    const b = lfhBucketOf(req);
    if (lfhBucketOn(b)) return lfhAlloc(b, align);
    lfhBucket = <i32>b;
  }
  const n = backAlloc(need, RK_USER | (align << ALIGN_SHIFT));
  if (!n) return 0;
  if (lfhBucket >= 0) lfhNoteAlloc(<u32>units, <u32>lfhBucket);
  touchPages(rec(n).addr, need, owner);
  return n;
}

// @ts-ignore: decorator
@inline export function ntFreeInline(h: i32, handle: u32): void {
  const hp = heapOf(h);
  setCurrent(hp, h);
  if (handle & LFH_TAG) { lfhFreeInline(hp, handle); return; }
  if (kind(handle) == RK_LARGE) { largeFree(handle); return; }
  if (hp.lfhAllowed) lfhNoteFree(rec(handle).sizeG);
  backFree(handle);
}

// Stays in place when the block still fits (shrinking splits the tail off through the free path)
// or a free successor can grow it (RtlpGrowBlockInPlace, brief §1.5); otherwise allocate, then free.
export function ntRealloc(h: i32, handle: u32, size: u64): u32 {
  use(h);
  if (size > MAX_REQUEST_BYTES) return 0;
  const lfhChunk = (handle & LFH_TAG) != 0;
  const alignLog2 = lfhChunk ? lfhAlignLog2(handle) : (rec(handle).flags >> ALIGN_SHIFT) & 0xFF;
  const req = requestBytes(size, alignLog2);
  const G = granuleBytes();
  const need = ((req + G + G - 1) >> H.gShift) << H.gShift;
  if (lfhChunk) {
    // A chunk cannot be split or grown: it stays only when the new size maps to its own bucket [I].
    if (H.lfhAllowed && req <= LFH_MAX_REQUEST_BYTES && lfhBucketOf(req) == lfhBucketOfHandle(handle)) return handle;
  } else if (kind(handle) == RK_LARGE) {
    if (need > H.vmt && alignUp(req + largeHeaderBytes(), PAGE_SIZE_BYTES) == bytesOf(handle)) return handle;
  } else if (need <= H.vmt) {
    const have = bytesOf(handle);
    if (need <= have) {
      if (have - need >= (<u64>MIN_SPLIT_G << H.gShift)) backShrink(handle, need);
      return handle;
    }
    if (backGrowInPlace(handle, need)) {
      touchPages(rec(handle).addr, need, owner);
      return handle;
    }
  }
  const nb = ntAlloc(h, size, alignLog2);
  if (!nb) return 0;
  ntFree(h, handle);
  return nb;
}

// HeapCompact-like: decommits the whole pages of every back-end free block larger than padBytes,
// thresholds ignored, walking each segment in address order. (Windows' HeapCompact promises no
// decommit on desktop systems, brief §6; this op is the "what if the thresholds were zero" view,
// close to HeapSetInformation(HeapOptimizeResources).)
export function ntTrim(h: i32, padBytes: u64): u64 {
  use(h);
  let total: u64 = 0;
  for (let i: u32 = 0; i < H.segCount; i++) {
    let r = seg(i).first;
    while (r) {
      let nx = rec(r).next;
      if (kind(r) == RK_FREE && bytesOf(r) > padBytes) {
        freeRemove(r);
        const d = decommitBlock(r);
        if (d) nx = decommitResume; else freeInsert(r);
        total += d;
      }
      r = nx;
    }
  }
  H.trimmedBytes += total;
  return total;
}

export function ntDestroy(h: i32): void {
  use(h);
  if (H.buckets) lfhDestroy();
  for (let i: u32 = 0; i < H.segCount; i++) {
    let r = seg(i).first;
    while (r) { const nx = rec(r).next; dropRec(r); r = nx; }
    vmRelease(seg(i).base);
  }
  let b = H.largeHead;
  while (b) { const nx = rec(b).next; vmRelease(rec(b).addr); dropRec(b); b = nx; }
  if (H.segTable) heap.free(H.segTable);
  heap.free(changetype<usize>(H));
  store<usize>(heapPtrs + (<usize>h << 2), 0);
}

export function ntUserAddress(h: i32, handle: u32): u64 {
  use(h);
  let a: u64, alignLog2: u32;
  if (handle & LFH_TAG) {
    a = lfhChunkAddress(handle) + granuleBytes();
    alignLog2 = lfhAlignLog2(handle);
  } else {
    a = rec(handle).addr + (kind(handle) == RK_LARGE ? largeHeaderBytes() : granuleBytes());
    alignLog2 = (rec(handle).flags >> ALIGN_SHIFT) & 0xFF;
  }
  return alignLog2 ? alignUp(a, <u64>1 << alignLog2) : a;
}

export function ntEngineBytes(): usize { return recEngineBytes() + lfhEngineBytes(); }

// ---------------------------------------------------------------- sample

function virtBytes(): u64 {
  if (H.virtRule == 0) return H.segReserved;
  if (H.virtRule == 2) return H.segReserved - H.largeUcrBytes;
  let largest: u64 = 0;
  for (let i: u32 = 0; i < H.segCount; i++) largest += <u64>uMax(seg(i).ucrRoot) << H.gShift;
  return H.segReserved - largest;
}

import { putSlot as put } from "../../kit/counters";

export function ntSample(h: i32, out: usize): void {
  use(h);
  // Busy = the program's blocks (back-end blocks, live LFH chunks, large blocks) plus the heap's own
  // header blocks; an LFH user block counts by its live chunks, its free chunks and slack are not busy.
  put(out, K_BUSY, H.busyBytes - H.userBlockBytes + H.liveChunkBytes + H.largeBytes);
  put(out, K_FREE, H.freeBytes);
  put(out, K_FREE_BLOCKS, H.freeBlocks);
  const big = freeLargest();
  put(out, K_LARGEST_FREE, big ? bytesOf(big) : 0);
  put(out, K_UNCOMMITTED_RANGES, H.ucrCount);
  put(out, K_SEGMENTS, H.segCount);
  put(out, K_VIRTUAL_BLOCKS, H.largeBlocks);
  put(out, K_VIRTUAL_BYTES, H.largeBytes);
  put(out, K_POLICY_BASE + 0, H.segReserved);
  put(out, K_POLICY_BASE + 1, H.segReserved - H.ucrBytes);
  put(out, K_POLICY_BASE + 2, virtBytes());
  put(out, K_POLICY_BASE + 3, H.freeWholePageBytes);
  put(out, K_POLICY_BASE + 4, H.userBlocks);
  put(out, K_POLICY_BASE + 5, H.userBlockBytes);
  put(out, K_POLICY_BASE + 6, H.allChunkBytes - H.liveChunkBytes);
  put(out, K_POLICY_BASE + 7, H.liveChunkBytes);
  // K_POLICY_BASE + 8, decommittedBytes: the kit counter block (C_DECOMMITTED_BYTES).
  put(out, K_POLICY_BASE + 9, H.segCount ? seg(0).base : 0);
  put(out, K_POLICY_BASE + 10, H.flags);
  put(out, K_POLICY_BASE + 11, H.lfhCreated ? FRONT_END_LFH : FRONT_END_NONE);
}

// ---------------------------------------------------------------- walk (tests and reports)

// Writes records of 4 × f64 (address, bytes, kind, segment or bucket) for every record of every
// segment in address order, then large blocks (kind 5), then live LFH chunks (kind 6). Kinds are
// core.ts RK_* values. Returns the number of records (writes at most max).
let walkBuf: usize = 0;
let walkCap: i32 = 0;
export function ntWalkBuffer(records: i32): usize {
  if (records > walkCap) {
    walkCap = records;
    walkBuf = resize(walkBuf, <usize>records * 32);
  }
  return walkBuf;
}

export function ntWalk(h: i32, out: usize, max: i32): i32 {
  use(h);
  let n = 0;
  for (let i: u32 = 0; i < H.segCount; i++) {
    let r = seg(i).first;
    while (r) {
      if (n < max) writeWalk(out, n, rec(r).addr, bytesOf(r), kind(r), i);
      n++;
      r = rec(r).next;
    }
  }
  let b = H.largeHead;
  while (b) {
    if (n < max) writeWalk(out, n, rec(b).addr, bytesOf(b), RK_LARGE, 0xFFFFFFFF);
    n++;
    b = rec(b).next;
  }
  if (H.buckets) n = lfhWalkChunks(out, max, n);
  return n;
}

function writeWalk(out: usize, n: i32, a: u64, s: u64, k: u32, aux: u32): void {
  const o = out + <usize>n * 32;
  store<f64>(o, <f64>a);
  store<f64>(o + 8, <f64>s);
  store<f64>(o + 16, <f64>k);
  store<f64>(o + 24, aux == 0xFFFFFFFF ? -1 : <f64>aux);
}

// ---------------------------------------------------------------- invariants N1..N7

let ckFree: u64 = 0, ckFreeBlocks: u64 = 0, ckWhole: u64 = 0, ckBusy: u64 = 0;
let ckUcrs: u64 = 0, ckUcrBytes: u64 = 0, ckLargeUcr: u64 = 0, ckReserved: u64 = 0;
let ckNodes: u64 = 0, ckFail: bool = false, ckPrev: u32 = 0;

export function ntCheck(h: i32): i32 {
  use(h);
  ckFree = 0; ckFreeBlocks = 0; ckWhole = 0; ckBusy = 0; ckUcrs = 0; ckUcrBytes = 0; ckLargeUcr = 0; ckReserved = 0;
  const G = granuleBytes();
  const maxB = <u64>H.maxG << H.gShift;
  for (let i: u32 = 0; i < H.segCount; i++) {
    const base = seg(i).base, size = seg(i).size;
    ckReserved += size;
    let r = seg(i).first;
    if (!r || rec(r).addr != base || kind(r) != RK_HEADER) return 1;
    let expect = base, prev: u32 = 0, segUcrs: u64 = 0, segUcrBytes: u64 = 0;
    while (r) {
      const k = kind(r), a = rec(r).addr, s = bytesOf(r);
      if (a != expect || rec(r).prev != prev || rec(r).seg != i || s == 0 || (a & (G - 1))) return 1;
      if (k == RK_HEADER && r != seg(i).first) return 1;
      if (k != RK_USER && k != RK_FREE && k != RK_UCR && k != RK_HEADER && k != RK_USERBLOCK) return 1;
      if (k == RK_FREE) {
        if (rec(r).sizeG < MIN_SPLIT_G || s > maxB) return 2;
        if (prev && kind(prev) == RK_FREE && rec(prev).sizeG + rec(r).sizeG <= H.maxG) return 2;
        ckFree += s; ckFreeBlocks++; ckWhole += wholePageBytes(a, s);
      } else if (k == RK_UCR) {
        if (prev && kind(prev) == RK_UCR) return 2;
        if ((a | s) & (PAGE_SIZE_BYTES - 1)) return 2;
        for (let pa = a; pa < a + s; pa += PAGE_SIZE_BYTES) if (vmIsCommitted(pa)) return 3;
        segUcrs++; segUcrBytes += s;
        if (s >= H.virtLargeUcr) ckLargeUcr += s;
      } else {
        ckBusy += s;
      }
      expect = a + s;
      prev = r;
      r = rec(r).next;
    }
    if (expect != base + size) return 1;
    const region = vmRegionAt(base);
    if (!region || vmRegionBase(region) != base || vmRegionEnd(region) != base + size) return 3;
    if (<u64>vmRegionCommittedPages(region) * PAGE_SIZE_BYTES != size - segUcrBytes) return 3;
    ckNodes = 0; ckFail = false;
    ucrTreapOk(seg(i).ucrRoot, i, 0, 0xFFFFFFFFFFFFFFFF);
    if (ckFail || ckNodes != segUcrs) return 4;
    ckUcrs += segUcrs; ckUcrBytes += segUcrBytes;
  }
  ckNodes = 0; ckFail = false; ckPrev = 0;
  freeTreapOk(H.freeRoot, 0xFFFFFFFF);
  if (ckFail || ckNodes != ckFreeBlocks) return 4;
  if (ckFree != H.freeBytes || ckFreeBlocks != H.freeBlocks || ckWhole != H.freeWholePageBytes ||
    ckBusy != H.busyBytes || ckUcrs != H.ucrCount || ckUcrBytes != H.ucrBytes ||
    ckLargeUcr != H.largeUcrBytes || ckReserved != H.segReserved) return 5;
  let b = H.largeHead, prev: u32 = 0, blocks: u64 = 0, bytes: u64 = 0;
  while (b) {
    if (kind(b) != RK_LARGE || rec(b).prev != prev) return 6;
    const region = vmRegionAt(rec(b).addr);
    const s = bytesOf(b);
    if (!region || vmRegionBase(region) != rec(b).addr || vmRegionEnd(region) != rec(b).addr + s) return 6;
    if (<u64>vmRegionCommittedPages(region) * PAGE_SIZE_BYTES != s) return 6;
    blocks++; bytes += s;
    prev = b;
    b = rec(b).next;
  }
  if (blocks != H.largeBlocks || bytes != H.largeBytes) return 6;
  if (H.buckets) {
    const l = lfhCheck();
    if (l) return 70 + l;
  }
  return 0;
}

function ucrTreapOk(t: u32, si: u32, lo: u64, hi: u64): void {
  if (!t || ckFail) return;
  const a = rec(t).addr;
  if (kind(t) != RK_UCR || rec(t).seg != si || a < lo || a >= hi) { ckFail = true; return; }
  const l = rec(t).left, r = rec(t).right;
  if ((l && treapPrio(l) > treapPrio(t)) || (r && treapPrio(r) > treapPrio(t))) { ckFail = true; return; }
  let m = rec(t).sizeG;
  if (uMax(l) > m) m = uMax(l);
  if (uMax(r) > m) m = uMax(r);
  if (m != rec(t).aux) { ckFail = true; return; }
  ckNodes++;
  ucrTreapOk(l, si, lo, a);
  ucrTreapOk(r, si, a + 1, hi);
}

// In-order walk: strictly increasing (size, tie); parent priority above children's.
function freeTreapOk(t: u32, parentPrio: u32): void {
  if (!t || ckFail) return;
  if (kind(t) != RK_FREE || treapPrio(t) > parentPrio) { ckFail = true; return; }
  freeTreapOk(rec(t).left, treapPrio(t));
  if (ckFail) return;
  if (ckPrev) {
    const a = ckPrev;
    const ordered = rec(a).sizeG < rec(t).sizeG ||
      (rec(a).sizeG == rec(t).sizeG && (H.fifo ? rec(a).aux < rec(t).aux : rec(a).addr < rec(t).addr));
    if (!ordered) { ckFail = true; return; }
  }
  ckPrev = t;
  ckNodes++;
  freeTreapOk(rec(t).right, treapPrio(t));
}

// Engine bytes per back-end record, for the memory benchmark.
export function ntRecordBytes(): usize { return 40; }
