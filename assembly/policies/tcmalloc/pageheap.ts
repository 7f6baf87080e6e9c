// === tcmalloc: system memory, metadata and the page heap (system-alloc.cc, common.cc, page_heap.cc) ===
//
// System memory (TCMalloc_SystemAlloc): sbrk first, mmap when sbrk fails (and from then on until
// both have failed once). The sbrk allocator rounds the size up to the alignment; when the old
// break is not aligned it asks for the missing bytes and skips them. The break is one VM region
// grown in place; an mmap'd area is its own region, top-down. Nothing is ever unmapped:
// "releasing" a span is madvise(MADV_DONTNEED) (VM purge: committed, not resident).
//
// Metadata (MetaDataAlloc): 8 MiB chunks from the same system allocator, carved in order and
// never given back. Spans, growth stack traces, thread caches and large-set tree nodes come from
// PageHeapAllocators that take 128 KiB at a time from the chunk and recycle freed objects LIFO;
// page-map leaves (2 MiB, one per 2 GiB of address space) come straight from the chunk. Metadata
// never counts in the heap's statistics, but its chunks sit in the break between heap growths,
// so they decide which growths are adjacent and can coalesce.
//
// Page heap (PageHeap, 8 KiB pages): free spans of 1..128 pages sit on exact-length lists, one
// "normal" (committed) and one "returned" (released) list per length, newest first; longer spans
// sit in two sets ordered by (length, start). New(n) takes, for s = n..128, the head of the normal
// list of length s, else of the returned list of length s; else the best fit of the large sets
// (a returned span wins only if strictly shorter, or as long and lower); the chosen span is
// carved, the leftover goes back to the list of its kind without merging, and a returned span is
// committed again. With nothing to take: when free and unmapped bytes are both non-zero, together
// at least a quarter of the heap, and growing by n pages would cross a multiple of 128 MiB of heap,
// every normal span is released first and the search retried; then the heap grows by
// max(n, 128) pages (falling back to n), and the new area goes through Delete like a freed span.
// Delete(span) merges it with free neighbours of the same kind (in aggressive-decommit mode a
// span is released before merging and pulls its normal neighbours into the released kind),
// prepends it to its list, then runs the scavenger: a countdown of freed pages; when it goes below
// zero, one span is released (round robin over the 128 lists and the large set, oldest span of a
// list, smallest large span) and the countdown restarts at 1000 / release rate × pages released
// (at most 2^20), or at 2^18 pages when nothing was released or the rate is ≤ 1e-6.

import { vmReserve, vmCommit, vmResize, vmRelease, vmPurge, touchPages, RESERVE_TOP_DOWN, RESERVE_PAGE_ALIGNED } from "../../vm/space";
import { RegionType, Usage, Status } from "../../abi";
import { PAGE_SIZE_BYTES, MiB, KiB } from "../../vm/constants";
import { resize } from "../../mem";
import { treeInsert, treeRemove, treeFirst, treeLast } from "../../kit/tree";
import {
  hs, owner, newSpanRecord, dropSpanRecord, spStart, spLength, spLocation, spNext, spPrev, setSpStart,
  setSpLength, setSpLocation, setSpNext, setSpPrev, setSpClass, spGet, spSet, mapGet, mapSet, mapDelete,
  IN_USE, ON_NORMAL, ON_RETURNED, HEAD,
} from "./store";
import { TC_PAGE_SHIFT, TC_PAGE_BYTES, MAX_PAGES } from "./sizemap";
import {
  ld64, st64, ldi64, sti64, ld32, st32, ldi32, sti32, add64, normalHead, returnedHead,
  H_SYSTEM, H_FREE, H_UNMAPPED, H_COMMITTED, H_SCAVENGES, H_RESERVES, H_COMMITS, H_DECOMMITS, H_COUNTER,
  H_RATE, H_META_BYTES, H_META_ALLOC, H_META_AVAIL, H_PHA, PHA_BYTES, PHA_SPANS, PHA_STACKS, PHA_NODES,
  H_BRK_BASE, H_BRK_END, H_REGIONS, H_GROWTHS, H_RELEASE_INDEX, H_AGGRESSIVE, H_SBRK_FAILED, H_MMAP_FAILED,
  H_LARGE_NORMAL, H_LARGE_RETURNED, H_REGION_COUNT, H_REGION_CAP, H_GROWTH_COUNT, H_GROWTH_CAP, H_LEAVES,
  H_LISTS, H_FREE_SPANS,
} from "./state";

// ---------------------------------------------------------------- constants (gperftools 2.10)

const METADATA_CHUNK_BYTES: u64 = 8 * MiB;     // common.cc: kMetadataAllocChunkSize
const METADATA_ALIGN: u64 = 8;                 // common.cc: kMetadataAllignment = sizeof(MemoryAligner)
const PHA_INCREMENT: u64 = 128 * KiB;          // page_heap_allocator.h: kAllocIncrement
const SPAN_OBJECT_BYTES: u64 = 48;             // sizeof(Span) on x86-64
const STACK_TRACE_BYTES: u64 = 264;            // sizeof(StackTrace): size, depth, 31 pcs (common.h kMaxStackDepth)
export const THREAD_CACHE_BYTES: u64 = 4160;   // sizeof(ThreadCache), 64-byte aligned (thread_cache.h)
const SET_NODE_BYTES: u64 = 48;                // std::set<SpanPtrWithLength> node: 32-byte header + 16
const LEAF_BITS: u64 = 18;                     // pagemap.h: TCMalloc_PageMap2<35>::LEAF_BITS = (35 + 1) / 2
const LEAF_BYTES: u64 = (<u64>1 << LEAF_BITS) * 8; // one leaf: 2^18 pointers = 2 MiB
const LEAF_TAG: u64 = <u64>1 << 62;            // ours: page-map keys of leaves (never a page number)
const MIN_SYSTEM_ALLOC: u64 = <u64>MAX_PAGES;  // page_heap.h: kMinSystemAlloc = kMaxPages
const MAX_RELEASE_DELAY: i64 = 1 << 20;        // page_heap.h: kMaxReleaseDelay
const DEFAULT_RELEASE_DELAY: i64 = 1 << 18;    // page_heap.h: kDefaultReleaseDelay
const FORCED_COALESCE_BYTES: u64 = 128 * MiB;  // page_heap.cc: kForcedCoalesceInterval
const MAX_VALID_PAGES: u64 = 0xFFFFFFFFFFFFFFFF >> TC_PAGE_SHIFT; // common.h: kMaxValidPages
const MIN_RATE: f64 = 1e-6;                    // page_heap.cc: IncrementalScavenge "tiny release rate"
const RATE_PAGES: f64 = 1000.0;                // page_heap.cc: "wait for 1000 pages after releasing one page"
// Model limit (ours): span lengths are kept in 32 bits.
export const MAX_SPAN_PAGES: u64 = 0xFFFFFFFF;

// ---------------------------------------------------------------- helpers

// @ts-ignore: decorator
@inline export function pageAddr(p: u64): u64 { return p << TC_PAGE_SHIFT; }
export function touch(addr: u64, bytes: u64): void { if (bytes) touchPages(addr, bytes, owner); }

function pushPair(arrOff: usize, countOff: usize, capOff: usize, a: u64, b: u64): void {
  let arr = load<usize>(hs + arrOff);
  const n = ld32(countOff);
  let cap = ld32(capOff);
  if (n >= cap) {
    cap = cap ? cap * 2 : 16;
    arr = resize(arr, <usize>cap * 16);
    store<usize>(hs + arrOff, arr);
    st32(capOff, cap);
  }
  store<u64>(arr + <usize>n * 16, a);
  store<u64>(arr + <usize>n * 16 + 8, b);
  st32(countOff, n + 1);
}
export function regionCount(): u32 { return ld32(H_REGION_COUNT); }
export function regionBase(i: u32): u64 { return load<u64>(load<usize>(hs + H_REGIONS) + <usize>i * 16); }
export function regionBytes(i: u32): u64 { return load<u64>(load<usize>(hs + H_REGIONS) + <usize>i * 16 + 8); }
export function growthCount(): u32 { return ld32(H_GROWTH_COUNT); }
export function growthStart(i: u32): u64 { return load<u64>(load<usize>(hs + H_GROWTHS) + <usize>i * 16); }
export function growthPages(i: u32): u64 { return load<u64>(load<usize>(hs + H_GROWTHS) + <usize>i * 16 + 8); }

// ---------------------------------------------------------------- system memory

let actualBytes: u64 = 0; // TCMalloc_SystemAlloc's *actual_size of the last success

// sbrk(incr): the old break, or 0 when the break cannot move.
function sbrk(incr: u64): u64 {
  const base = ld64(H_BRK_BASE);
  if (!base) {
    const b = vmReserve(incr, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_PAGE_ALIGNED);
    if (!b) return 0;
    if (vmCommit(b, incr) != Status.OK) { vmRelease(b); return 0; }
    st64(H_BRK_BASE, b);
    st64(H_BRK_END, b + incr);
    pushPair(H_REGIONS, H_REGION_COUNT, H_REGION_CAP, b, incr);
    return b;
  }
  const old = ld64(H_BRK_END);
  const bytes = old + incr - base;
  if (bytes < incr) return 0;
  if (vmResize(base, bytes) != Status.OK) return 0;
  if (vmCommit(old, incr) != Status.OK) { vmResize(base, old - base); return 0; }
  st64(H_BRK_END, old + incr);
  store<u64>(load<usize>(hs + H_REGIONS) + 8, bytes); // the break is region 0
  return old;
}

// SbrkSysAllocator::Alloc
function sbrkAlloc(size: u64, alignment: u64): u64 {
  if (size + alignment < size || <i64>(size + alignment) < 0) return 0;
  size = ((size + alignment - 1) / alignment) * alignment;
  actualBytes = size;
  const ptr = sbrk(size);
  if (!ptr) return 0;
  if ((ptr & (alignment - 1)) == 0) return ptr;
  // The break was not aligned: ask for the missing bytes; contiguous in the simulation.
  const extra = alignment - (ptr & (alignment - 1));
  if (!sbrk(extra)) return 0;
  return ptr + extra;
}

// MmapSysAllocator::Alloc: its own region, aligned to at least a 4 KiB page.
function mmapAlloc(size: u64, alignment: u64): u64 {
  if (alignment < PAGE_SIZE_BYTES) alignment = PAGE_SIZE_BYTES;
  const aligned = ((size + alignment - 1) / alignment) * alignment;
  if (aligned < size) return 0;
  actualBytes = aligned;
  // 64 KiB granularity satisfies any alignment up to 64 KiB (8 KiB pages); 4 KiB otherwise.
  const flags = alignment > PAGE_SIZE_BYTES ? RESERVE_TOP_DOWN : RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED;
  const b = vmReserve(aligned, 0, RegionType.PRIVATE, Usage.HEAP, owner, flags);
  if (!b) return 0;
  if (vmCommit(b, aligned) != Status.OK) { vmRelease(b); return 0; }
  pushPair(H_REGIONS, H_REGION_COUNT, H_REGION_CAP, b, aligned);
  return b;
}

// TCMalloc_SystemAlloc through DefaultSysAllocator (sbrk, then mmap).
function systemAlloc(size: u64, alignment: u64): u64 {
  if (size + alignment < size) return 0;
  if (alignment < METADATA_ALIGN) alignment = METADATA_ALIGN;
  if (!ld32(H_SBRK_FAILED)) {
    const r = sbrkAlloc(size, alignment);
    if (r) return r;
    st32(H_SBRK_FAILED, 1);
  }
  if (!ld32(H_MMAP_FAILED)) {
    const r = mmapAlloc(size, alignment);
    if (r) return r;
    st32(H_MMAP_FAILED, 1);
  }
  st32(H_SBRK_FAILED, 0);
  st32(H_MMAP_FAILED, 0);
  return 0;
}

// ---------------------------------------------------------------- metadata

// MetaDataAlloc: bytes from the current 8 MiB chunk (a new chunk when it has too few left).
function metaAlloc(bytes: u64): u64 {
  if (bytes >= METADATA_CHUNK_BYTES) {
    const r = systemAlloc(bytes, METADATA_ALIGN);
    if (r) add64(H_META_BYTES, <i64>bytes);
    return r;
  }
  let at = ld64(H_META_ALLOC);
  let alignment = (0 - at) & (METADATA_ALIGN - 1);
  if (ld64(H_META_AVAIL) < bytes + alignment) {
    const r = systemAlloc(METADATA_CHUNK_BYTES, METADATA_ALIGN);
    if (!r) return 0;
    at = r;
    st64(H_META_AVAIL, actualBytes);
    alignment = 0;
  }
  const result = at + alignment;
  bytes += alignment;
  st64(H_META_ALLOC, at + bytes);
  st64(H_META_AVAIL, ld64(H_META_AVAIL) - bytes);
  add64(H_META_BYTES, <i64>bytes);
  return result;
}

// @ts-ignore: decorator
@inline function PHA(k: i32): usize { return hs + H_PHA + <usize>k * PHA_BYTES; }
function phaSize(k: i32): u64 {
  return k == PHA_SPANS ? SPAN_OBJECT_BYTES : k == PHA_STACKS ? STACK_TRACE_BYTES
    : k == PHA_NODES ? SET_NODE_BYTES : THREAD_CACHE_BYTES;
}

// PageHeapAllocator<T>::New (the object is written: its page becomes resident).
export function phaNew(k: i32): bool {
  const a = PHA(k);
  const free = load<u32>(a, 16);
  if (free) { store<u32>(a, free - 1, 16); return true; }
  const size = phaSize(k);
  if (load<u64>(a, 8) < size) {
    const area = metaAlloc(PHA_INCREMENT);
    if (!area) return false;
    store<u64>(a, area);
    store<u64>(a, PHA_INCREMENT, 8);
  }
  const at = load<u64>(a);
  touch(at, size);
  store<u64>(a, at + size);
  store<u64>(a, load<u64>(a, 8) - size, 8);
  return true;
}
export function phaDelete(k: i32): void { const a = PHA(k); store<u32>(a, load<u32>(a, 16) + 1, 16); }
// PageHeapAllocator<T>::Init: one object made and freed at once.
export function phaInit(k: i32): void {
  phaNew(k);
  phaDelete(k);
  store<u32>(PHA(k), 1, 20);
}
function phaInited(k: i32): bool { return load<u32>(PHA(k), 20) != 0; }

// TCMalloc_PageMap2::Ensure: a 2 MiB leaf for every 2^18-page stretch of [start, start + n).
function ensureLeaves(start: u64, n: u64): bool {
  for (let key = start; key <= start + n - 1;) {
    const leaf = key >> LEAF_BITS;
    if (!mapGet(LEAF_TAG | leaf)) {
      const at = metaAlloc(LEAF_BYTES);
      if (!at) return false;
      touch(at, LEAF_BYTES); // memset of the new leaf
      mapSet(LEAF_TAG | leaf, 1);
      st32(H_LEAVES, ld32(H_LEAVES) + 1);
    }
    key = (leaf + 1) << LEAF_BITS;
  }
  return true;
}

// ---------------------------------------------------------------- spans and the page map

// NewSpan / DeleteSpan (span.cc): a Span object from the metadata allocator.
export function newSpan(p: u64, len: u64): u32 {
  if (!phaNew(PHA_SPANS)) return 0;
  return newSpanRecord(p, len);
}
export function deleteSpan(s: u32): void {
  phaDelete(PHA_SPANS);
  dropSpanRecord(s);
}

// Page-map entries of a span's first and last page.
export function recordSpan(s: u32): void {
  const p = spStart(s), n = spLength(s);
  mapSet(p, s);
  if (n > 1) mapSet(p + n - 1, s);
}
export function unrecordSpan(s: u32): void {
  const p = spStart(s), n = spLength(s);
  mapDelete(p, s);
  if (n > 1) mapDelete(p + n - 1, s);
}
// @ts-ignore: decorator
@inline export function descriptor(p: u64): u32 { return mapGet(p); }

// ---------------------------------------------------------------- doubly linked span lists (span.cc DLL_*)

export function dllInit(head: u32): void { setSpNext(head, head); setSpPrev(head, head); setSpLocation(head, HEAD); }
// @ts-ignore: decorator
@inline export function dllEmpty(head: u32): bool { return spNext(head) == head; }
export function dllRemove(s: u32): void {
  const p = spPrev(s), n = spNext(s);
  setSpNext(p, n);
  setSpPrev(n, p);
  setSpNext(s, 0);
  setSpPrev(s, 0);
}
export function dllPrepend(head: u32, s: u32): void {
  const first = spNext(head);
  setSpNext(s, first);
  setSpPrev(s, head);
  setSpPrev(first, s);
  setSpNext(head, s);
}

// ---------------------------------------------------------------- large sets: kit trees ordered by (length, start)

// Span records double as tree nodes (kit/tree.ts): next = left child, prev = right child.
@final @unmanaged export class LargeSet {
  // @ts-ignore: decorator
  @inline left(n: u32): u32 { return spNext(n); }
  // @ts-ignore: decorator
  @inline setLeft(n: u32, v: u32): void { setSpNext(n, v); }
  // @ts-ignore: decorator
  @inline right(n: u32): u32 { return spPrev(n); }
  // @ts-ignore: decorator
  @inline setRight(n: u32, v: u32): void { setSpPrev(n, v); }
  // @ts-ignore: decorator
  @inline less(a: u32, b: u32): bool {
    const la = spLength(a), lb = spLength(b);
    return la < lb || (la == lb && spStart(a) < spStart(b));
  }
  // @ts-ignore: decorator
  @inline pull(n: u32): void {}
}

// The first span with length ≥ n (ties: lowest start), 0 if none (set::upper_bound of (n, start 0)).
function lowerBound(root: u32, n: u64): u32 {
  let best: u32 = 0;
  let t = root;
  while (t) {
    if (spLength(t) >= n) { best = t; t = spNext(t); } else t = spPrev(t);
  }
  return best;
}
export function largeFirst(root: u32): u32 { return treeFirst<LargeSet>(root); }
export function largeLast(root: u32): u32 { return treeLast<LargeSet>(root); }

function setInsert(rootOff: usize, s: u32): bool {
  // std::set allocates its node through STLPageHeapAllocator (Init on first use).
  if (!phaInited(PHA_NODES)) phaInit(PHA_NODES);
  phaNew(PHA_NODES);
  setSpNext(s, 0);
  setSpPrev(s, 0);
  st32(rootOff, treeInsert<LargeSet>(ld32(rootOff), s));
  return true;
}
function setErase(rootOff: usize, s: u32): void {
  st32(rootOff, treeRemove<LargeSet>(ld32(rootOff), s));
  setSpNext(s, 0);
  setSpPrev(s, 0);
  phaDelete(PHA_NODES);
}

// ---------------------------------------------------------------- free lists

function prependToFreeList(s: u32): void {
  const bytes = <i64>(spLength(s) << TC_PAGE_SHIFT);
  const normal = spLocation(s) == ON_NORMAL;
  if (normal) add64(H_FREE, bytes); else add64(H_UNMAPPED, bytes);
  st32(H_FREE_SPANS, ld32(H_FREE_SPANS) + 1);
  if (spLength(s) > <u64>MAX_PAGES) {
    setInsert(normal ? H_LARGE_NORMAL : H_LARGE_RETURNED, s);
    return;
  }
  dllPrepend(normal ? normalHead(spLength(s)) : returnedHead(spLength(s)), s);
}

function removeFromFreeList(s: u32): void {
  const bytes = <i64>(spLength(s) << TC_PAGE_SHIFT);
  const normal = spLocation(s) == ON_NORMAL;
  if (normal) add64(H_FREE, -bytes); else add64(H_UNMAPPED, -bytes);
  st32(H_FREE_SPANS, ld32(H_FREE_SPANS) - 1);
  if (spLength(s) > <u64>MAX_PAGES) {
    setErase(normal ? H_LARGE_NORMAL : H_LARGE_RETURNED, s);
    return;
  }
  dllRemove(s);
}

// CommitSpan / DecommitSpan (madvise always succeeds for whole pages).
function commitSpan(s: u32): void {
  add64(H_COMMITS, 1);
  add64(H_COMMITTED, <i64>(spLength(s) << TC_PAGE_SHIFT));
}
function decommitSpan(s: u32): bool {
  add64(H_DECOMMITS, 1);
  const bytes = spLength(s) << TC_PAGE_SHIFT;
  vmPurge(pageAddr(spStart(s)), bytes);
  add64(H_COMMITTED, -<i64>bytes);
  return true;
}

// ---------------------------------------------------------------- the page heap

function carve(s: u32, n: u64): u32 {
  const oldLocation = spLocation(s);
  removeFromFreeList(s);
  setSpLocation(s, IN_USE);
  const extra = spLength(s) - n;
  if (extra > 0) {
    unrecordSpan(s);
    const leftover = newSpan(spStart(s) + n, extra);
    if (!leftover) unreachable(); // metadata exhausted: gperftools crashes too
    setSpLocation(leftover, oldLocation);
    setSpLength(s, n);
    recordSpan(s);
    recordSpan(leftover);
    prependToFreeList(leftover); // no coalescing: no candidate is possible
  }
  if (oldLocation == ON_RETURNED) commitSpan(s);
  return s;
}

function allocLarge(n: u64): u32 {
  const bestNormal = lowerBound(ld32(H_LARGE_NORMAL), n);
  let best = bestNormal;
  const c = lowerBound(ld32(H_LARGE_RETURNED), n);
  if (c && (!bestNormal || spLength(c) < spLength(best) || (spLength(c) == spLength(best) && spStart(c) < spStart(best)))) best = c;
  if (!best) return 0;
  return carve(best, n); // no heap limit: EnsureLimit always agrees
}

function searchFreeAndLargeLists(n: u64): u32 {
  if (n <= <u64>MAX_PAGES) {
    for (let s = n; s <= <u64>MAX_PAGES; s++) {
      let head = normalHead(s);
      if (!dllEmpty(head)) return carve(spNext(head), n);
      head = returnedHead(s);
      if (!dllEmpty(head)) return carve(spNext(head), n);
    }
  }
  return allocLarge(n);
}

// PageHeap::New: a span of n pages in use, or 0.
export function phNew(n: u64): u32 {
  if (n == 0 || n > MAX_SPAN_PAGES) return 0;
  let result = searchFreeAndLargeLists(n);
  if (result) return result;
  const free = ld64(H_FREE), unmapped = ld64(H_UNMAPPED), system = ld64(H_SYSTEM);
  if (free != 0 && unmapped != 0 && free + unmapped >= system / 4 &&
    system / FORCED_COALESCE_BYTES != (system + (n << TC_PAGE_SHIFT)) / FORCED_COALESCE_BYTES) {
    releaseAtLeastNPages(0x7fffffff);
    result = searchFreeAndLargeLists(n);
    if (result) return result;
  }
  if (!growHeap(n)) return 0;
  return searchFreeAndLargeLists(n);
}

function growHeap(n: u64): bool {
  if (n > MAX_VALID_PAGES) return false;
  let ask = n > MIN_SYSTEM_ALLOC ? n : MIN_SYSTEM_ALLOC;
  let ptr = ask <= MAX_SPAN_PAGES ? systemAlloc(ask << TC_PAGE_SHIFT, TC_PAGE_BYTES) : 0;
  if (!ptr) {
    if (n < ask) {
      ask = n;
      ptr = systemAlloc(ask << TC_PAGE_SHIFT, TC_PAGE_BYTES);
    }
    if (!ptr) return false;
  }
  ask = actualBytes >> TC_PAGE_SHIFT;
  // RecordGrowth: a StackTrace object per growth, kept forever.
  phaNew(PHA_STACKS);
  add64(H_RESERVES, 1);
  add64(H_COMMITS, 1);
  add64(H_SYSTEM, <i64>(ask << TC_PAGE_SHIFT));
  add64(H_COMMITTED, <i64>(ask << TC_PAGE_SHIFT));
  const p = ptr >> TC_PAGE_SHIFT;
  pushPair(H_GROWTHS, H_GROWTH_COUNT, H_GROWTH_CAP, p, ask);
  if (!ensureLeaves(p - 1, ask + 2)) return false;
  const s = newSpan(p, ask);
  if (!s) return false;
  recordSpan(s);
  phDelete(s);
  return true;
}

// Merges span into the free lists (MergeIntoFreeList with CheckAndHandlePreMerge).
function mergeIntoFreeList(s: u32): void {
  const aggressive = ld32(H_AGGRESSIVE) != 0;
  if (aggressive && spLocation(s) == ON_NORMAL) {
    if (decommitSpan(s)) setSpLocation(s, ON_RETURNED);
  }
  const p = spStart(s), n = spLength(s);
  unrecordSpan(s);
  const prev = preMerge(s, descriptor(p - 1));
  if (prev) {
    const len = spLength(prev);
    unrecordSpan(prev);
    deleteSpan(prev);
    setSpStart(s, spStart(s) - len);
    setSpLength(s, spLength(s) + len);
  }
  const next = preMerge(s, descriptor(p + n));
  if (next) {
    const len = spLength(next);
    unrecordSpan(next);
    deleteSpan(next);
    setSpLength(s, spLength(s) + len);
  }
  recordSpan(s);
  prependToFreeList(s);
}

function preMerge(s: u32, other: u32): u32 {
  if (!other) return 0;
  const loc = spLocation(other);
  if (ld32(H_AGGRESSIVE) && loc == ON_NORMAL && spLocation(s) == ON_RETURNED) {
    if (!decommitSpan(other)) return 0;
  } else if (loc != spLocation(s)) {
    return 0;
  }
  removeFromFreeList(other);
  return other;
}

// PageHeap::Delete
export function phDelete(s: u32): void {
  const n = spLength(s);
  setSpClass(s, 0);
  setSpLocation(s, ON_NORMAL);
  mergeIntoFreeList(s);
  incrementalScavenge(n);
}

function incrementalScavenge(n: u64): void {
  let counter = ldi64(H_COUNTER) - <i64>n;
  sti64(H_COUNTER, counter);
  if (counter >= 0) return;
  const rate = load<f64>(hs + H_RATE);
  if (rate <= MIN_RATE) { sti64(H_COUNTER, DEFAULT_RELEASE_DELAY); return; }
  add64(H_SCAVENGES, 1);
  const released = releaseAtLeastNPages(1);
  if (released == 0) {
    sti64(H_COUNTER, DEFAULT_RELEASE_DELAY);
  } else {
    const mult = RATE_PAGES / rate;
    let wait = mult * <f64>released;
    if (wait > <f64>MAX_RELEASE_DELAY) wait = <f64>MAX_RELEASE_DELAY;
    sti64(H_COUNTER, <i64>wait);
  }
}

function releaseSpan(s: u32): u64 {
  if (!decommitSpan(s)) return 0;
  removeFromFreeList(s);
  const n = spLength(s);
  setSpLocation(s, ON_RETURNED);
  mergeIntoFreeList(s);
  return n;
}

// PageHeap::ReleaseAtLeastNPages: round robin over the lists, one span from each.
export function releaseAtLeastNPages(numPages: u64): u64 {
  let released: u64 = 0;
  while (released < numPages && ld64(H_FREE) > 0) {
    for (let i: u32 = 0; i < MAX_PAGES + 1 && released < numPages; i++, sti32(H_RELEASE_INDEX, ldi32(H_RELEASE_INDEX) + 1)) {
      if (ldi32(H_RELEASE_INDEX) > <i32>MAX_PAGES) sti32(H_RELEASE_INDEX, 0);
      const idx = ldi32(H_RELEASE_INDEX);
      let s: u32;
      if (idx == <i32>MAX_PAGES) {
        s = largeFirst(ld32(H_LARGE_NORMAL));
        if (!s) continue;
      } else {
        const head = normalHead(<u64>idx + 1);
        if (dllEmpty(head)) continue;
        s = spPrev(head);
      }
      const len = releaseSpan(s);
      if (len == 0) return released;
      released += len;
    }
  }
  return released;
}

// PageHeap::Split: the first n pages stay in `s`, the rest becomes a new span in use.
export function phSplit(s: u32, n: u64): u32 {
  const extra = spLength(s) - n;
  unrecordSpan(s);
  const leftover = newSpan(spStart(s) + n, extra);
  if (!leftover) unreachable();
  setSpLength(s, n);
  recordSpan(s);
  recordSpan(leftover);
  return leftover;
}

// Heads of the page heap's lists, made at heap creation.
export function initPageHeap(): bool {
  for (let len: u64 = 1; len <= <u64>MAX_PAGES; len++) {
    const a = newSpanRecord(0, 0), b = newSpanRecord(0, 0);
    if (!a || !b) return false;
    dllInit(a);
    dllInit(b);
    store<u32>(hs + H_LISTS + (<usize>(len - 1) << 3), a);
    store<u32>(hs + H_LISTS + (<usize>(len - 1) << 3) + 4, b);
  }
  sti32(H_RELEASE_INDEX, <i32>MAX_PAGES);
  return true;
}
