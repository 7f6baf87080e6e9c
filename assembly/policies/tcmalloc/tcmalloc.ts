// === tcmalloc: gperftools 2.10 (Debian 12 libtcmalloc-minimal4), x86-64, one thread ===
//
// A model of the allocator `LD_PRELOAD=libtcmalloc_minimal.so.4` puts under a program, precise
// enough that the library's own statistics (MallocExtension::GetNumericProperty: heap size, page
// heap free and unmapped bytes, central, transfer and thread cache free bytes) come out equal to
// the real library's after the same calls, checked by test/oracle/tcmalloc-replay.c. The rules were
// read in gperftools-2.10 src/ (tcmalloc.cc, thread_cache.cc, central_freelist.cc, page_heap.cc,
// common.cc, system-alloc.cc, static_vars.cc) and are restated in our words in docs/tcmalloc.md
// and in the headers of this folder:
//   sizemap.ts      size classes, spans per class, transfer batch sizes
//   threadcache.ts  per-thread free lists, their dynamic limits, scavenging, the cache budget
//   central.ts      central span lists per class and the transfer cache
//   pageheap.ts     page heap (exact lists, large sets, carving, coalescing, release), system
//                   memory (sbrk, then mmap) and metadata
//   store.ts        records and the page map; state.ts the layout of a heap's state
//
// Registered by index.ts (one line in assembly/policies/registry.ts).
//
// What a call does:
//   malloc(n)   n ≤ 256 KiB: its class's object from the thread cache (a batch from the central
//               list when empty). Larger: a span of ceil(n / 8 KiB) pages straight from the page
//               heap. calloc is malloc. memalign(a, n): a ≤ 8 KiB is malloc(n rounded up to a);
//               above, a span of pages(n + a) whose unaligned head and unneeded tail are freed.
//   free(p)     a small object goes to the thread cache; a page-level block back to the page heap.
//   realloc     keeps the block when the new size fits and is at least half the usable size;
//               else malloc (first max(new, 1.25 × old) when growing by less than a quarter),
//               copy, free.
//   trim        MallocExtension::ReleaseFreeMemory(): every normal free span is released.
//
// Start state: the real process has already made these calls when main() starts, so create()
// makes them too: libstdc++'s emergency exception pool malloc(72704) and a malloc(1) that is
// freed while the thread has no cache registered yet (straight back to the central list), all
// through a first thread cache; then, after tcmalloc registers its thread-specific data, a second
// thread cache for the same thread, malloc(1) + free, and new[](16), new[](8) (the
// MallocExtension object). The scavenger's countdown is set while the release rate is still
// unread (0), which gives the "release disabled" delay of 2^18 pages.
//
// Invariants (tcCheck returns the number of the first that fails):
//   T1 spans tile every run of adjacent heap growths; page-map ends name their span; no two
//      adjacent free spans of the same kind; system, free and unmapped bytes equal a recount
//   T2 page heap lists and large sets hold spans of their kind and length, sets in order
//   T3 each central list: span lists, free counts and transfer slots equal a recount
//   T4 each thread cache: list lengths and cached bytes equal a recount
//   T5 while the VM's residency epoch is a span's resEpoch, every VM page of its [resFrom, resEnd)
//      is resident (touchObject skips touches there)

import {
  Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES, K_SEGMENTS, K_VIRTUAL_BLOCKS,
  K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS,
} from "../../abi";
import { paramValue } from "../../kit/params";
import { putSlot } from "../../kit/counters";
import { residentRunCovers, residentRunTouch } from "../../kit/resident-run";
import { treeCheckPriorities } from "../../kit/tree";
import { vmRelease, vmOwnerResident, vmAllResident } from "../../vm/space";
import { CHECKS } from "../../checks";
import { resize } from "../../mem";
import {
  use, hs, owner, blockOf, setBlock, initStore, dropStore, newObject, dropObject, obAddr, obAddrIn, obSpan, spStart,
  spLength, spLocation, spClass, spNext, spPrev, storeEngineBytes, mapGet, IN_USE, ON_NORMAL, ON_RETURNED,
  OBJ_BYTES, SP, S_RES_EPOCH, S_RES_FROM, S_RES_END, spanRunsResident,
} from "./store";
import {
  initSizeMap, classOfSize, sizeOfClass, numClasses, TC_PAGE_SHIFT, TC_PAGE_BYTES, MAX_SMALL_BYTES, MAX_PAGES,
} from "./sizemap";
import {
  HS_BYTES, H_SYSTEM, H_FREE, H_UNMAPPED, H_SCAVENGES, H_COUNTER, H_RATE, H_CONFIG_RATE, H_META_BYTES,
  H_AGGRESSIVE, H_UNCLAIMED, H_OVERALL, H_PER_THREAD, H_NEXT_STEAL, H_THREAD_HEAPS, H_TLS_CACHE,
  H_REGIONS, H_GROWTHS, H_LARGE_NORMAL, H_LARGE_RETURNED, H_FREE_SPANS, H_CACHE_COUNT, H_STARTED,
  PHA_SPANS, PHA_STACKS, PHA_CACHES, ld64, st64, ldi64, sti64, ld32, st32, ldi32, sti32,
  normalHead, returnedHead,
} from "./state";
import {
  initPageHeap, phNew, phDelete, phSplit, phaInit, phaNew, releaseAtLeastNPages, regionCount, regionBase,
  growthCount, growthStart, growthPages, largeLast, dllEmpty, touch, pageAddr, MAX_SPAN_PAGES, LargeSet,
} from "./pageheap";
import { initCentral, insertRange, centralFreeBytes, transferFreeBytes, centralFreeObjects, checkCentral } from "./central";
import { newCache, cacheAllocate, cacheDeallocate, cacheAllocateInline, cacheDeallocateInline, cacheBytes, cacheMaxBytes, checkCache, cacheFreeObjects } from "./threadcache";

// ---------------------------------------------------------------- parameters

export const TC_RELEASE_RATE = 0;            // TCMALLOC_RELEASE_RATE, default 1.0 (0 disables release)
export const TC_AGGRESSIVE_DECOMMIT = 1;     // TCMALLOC_AGGRESSIVE_DECOMMIT, default 0
export const TC_MAX_TOTAL_THREAD_CACHE = 2;  // TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES, default 32 MiB
export const TC_PARAM_COUNT = 3;

const DEFAULT_RELEASE_RATE: f64 = 1.0;                     // page_heap.cc: FLAGS_tcmalloc_release_rate
const DEFAULT_OVERALL_CACHE_BYTES: u64 = 8 * 4 * 1024 * 1024; // common.h: kDefaultOverallThreadCacheSize
const MAX_THREAD_CACHE_BYTES: u64 = 4 << 20;               // common.h: kMaxThreadCacheSize
const MIN_THREAD_CACHE_BYTES: u64 = 2 * MAX_SMALL_BYTES;   // common.h: kMinThreadCacheSize
const MAX_OVERALL_CACHE_BYTES: u64 = 1 << 30;              // thread_cache.cc: set_overall_thread_cache_size, "Limit to 1GB"
const EMERGENCY_POOL_BYTES: u64 = 72704;                   // libstdc++ (GCC 12) eh_alloc.cc emergency pool, allocated at load
const EMERGENCY_POOL_HEADER_BYTES: u64 = 16;               // eh_alloc.cc: the pool writes one free_entry (size, next) at its start
const EXTENSION_OBJECT_BYTES: u64 = 16;                    // new TCMallocImplementation (vtable + extra_bytes_released_)
const EXTENSION_LIST_BYTES: u64 = 8;                       // new[] in MallocExtension::Register

// Policy counter slots (names in index.ts and the host spec, in this order).
const S_HEAP_SIZE = K_POLICY_BASE + 0;        // generic.heap_size
const S_PAGEHEAP_FREE = K_POLICY_BASE + 1;    // tcmalloc.pageheap_free_bytes
const S_PAGEHEAP_UNMAPPED = K_POLICY_BASE + 2; // tcmalloc.pageheap_unmapped_bytes
const S_CENTRAL = K_POLICY_BASE + 3;          // tcmalloc.central_cache_free_bytes
const S_TRANSFER = K_POLICY_BASE + 4;         // tcmalloc.transfer_cache_free_bytes
const S_THREAD = K_POLICY_BASE + 5;           // tcmalloc.thread_cache_free_bytes
const S_ALLOCATED = K_POLICY_BASE + 6;        // generic.current_allocated_bytes
const S_METADATA = K_POLICY_BASE + 7;         // metadata bytes (tcmalloc's "Bytes in malloc metadata")
const S_SCAVENGES = K_POLICY_BASE + 8;        // tcmalloc.pageheap_scavenge_count
const S_RELEASE_COUNTDOWN = K_POLICY_BASE + 9; // pages still to free before the scavenger releases
const S_CACHE_MAX = K_POLICY_BASE + 10;       // the thread cache's byte ceiling (max_size_)
const S_OVERALL = K_POLICY_BASE + 11;         // tcmalloc.max_total_thread_cache_bytes

// ---------------------------------------------------------------- allocation paths

// The thread's cache (threadlocal_data_.heap).
// @ts-ignore: decorator
@inline function tls(): i32 { return ldi32(H_TLS_CACHE); }

// A page-level block of n pages (do_malloc_pages).
function mallocPages(pages: u64): u32 {
  if (pages == 0 || pages > MAX_SPAN_PAGES) return 0;
  const span = phNew(pages);
  if (!span) return 0;
  const o = newObject(0, span);
  if (!o) { phDelete(span); return 0; }
  return o;
}

// do_malloc through cache c. The caller writes the block (the engine's programs write it whole).
function mallocVia(c: i32, size: u64): u32 {
  if (size > MAX_SMALL_BYTES) {
    const pages = (size >> TC_PAGE_SHIFT) + ((size & (TC_PAGE_BYTES - 1)) ? 1 : 0);
    return mallocPages(pages);
  }
  return cacheAllocate(c, classOfSize(size));
}

// malloc as the program calls it: the program writes every usable byte.
function mallocWritten(size: u64): u32 {
  const o = mallocVia(tls(), size);
  if (o) touch(obAddr(o), usableBytes(o));
  return o;
}

// A start-up call: the caller writes `written` bytes of its block.
function startupMalloc(c: i32, size: u64, written: u64): bool {
  const o = mallocVia(c, size);
  if (o && written) touch(obAddr(o), written);
  return o != 0;
}

// do_free through cache c (-1: no cache yet, the object goes straight to the central list).
function freeVia(c: i32, o: u32): void {
  const span = obSpan(o);
  const cl = spClass(span);
  if (cl == 0) {
    dropObject(o);
    phDelete(span);
    return;
  }
  if (c >= 0) { cacheDeallocate(c, o, cl); return; }
  insertRange(cl, o, o, 1);
}

// The usable size of a block (GetSizeWithCallback).
function usableBytes(o: u32): u64 {
  const span = obSpan(o);
  const cl = spClass(span);
  return cl ? sizeOfClass(cl) : spLength(span) << TC_PAGE_SHIFT;
}

// do_memalign_pages: alignment above a tcmalloc page.
function memalignPages(align: u64, size: u64): u32 {
  if (size + align < size) return 0;
  if (size == 0) size = 1;
  const total = size + align;
  const alloc = (total >> TC_PAGE_SHIFT) + ((total & (TC_PAGE_BYTES - 1)) ? 1 : 0);
  if (alloc > MAX_SPAN_PAGES) return 0;
  let span = phNew(alloc);
  if (!span) return 0;
  let skip: u64 = 0;
  while (((spStart(span) + skip) << TC_PAGE_SHIFT) & (align - 1)) skip++;
  if (skip > 0) {
    const rest = phSplit(span, skip);
    phDelete(span);
    span = rest;
  }
  const needed = (size >> TC_PAGE_SHIFT) + ((size & (TC_PAGE_BYTES - 1)) ? 1 : 0);
  if (spLength(span) > needed) {
    const trailer = phSplit(span, needed);
    phDelete(trailer);
  }
  const o = newObject(0, span);
  if (!o) { phDelete(span); return 0; }
  touch(pageAddr(spStart(span)), spLength(span) << TC_PAGE_SHIFT);
  return o;
}

// ---------------------------------------------------------------- policy surface

export function tcCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  if (parent >= 0) return Status.BAD_PARAM; // a process's allocator: memory from the VM only
  const rateP = paramValue(params, count, TC_RELEASE_RATE);
  const aggressiveP = paramValue(params, count, TC_AGGRESSIVE_DECOMMIT);
  const overallP = paramValue(params, count, TC_MAX_TOTAL_THREAD_CACHE);
  if (!isNaN(aggressiveP) && aggressiveP != 0 && aggressiveP != 1) return Status.BAD_PARAM;
  if (!isNaN(overallP) && overallP < 0) return Status.BAD_PARAM;
  initSizeMap();
  let block = blockOf(heapIndex);
  if (!block) { block = resize(0, HS_BYTES); setBlock(heapIndex, block); }
  memory.fill(block, 0, HS_BYTES);
  use(heapIndex);
  initStore();
  if (!initPageHeap() || !initCentral()) { tcDestroy(heapIndex); return Status.OUT_OF_MEMORY; }
  st32(H_AGGRESSIVE, !isNaN(aggressiveP) && aggressiveP != 0 ? 1 : 0);
  store<f64>(hs + H_CONFIG_RATE, isNaN(rateP) ? DEFAULT_RELEASE_RATE : rateP);
  store<f64>(hs + H_RATE, 0); // FLAGS_tcmalloc_release_rate is not initialised yet during start-up
  sti32(H_NEXT_STEAL, -1);
  sti32(H_THREAD_HEAPS, -1);
  sti32(H_TLS_CACHE, -1);
  // ThreadCache::InitModule: the cache budget, then Static::InitStaticVars.
  let overall = DEFAULT_OVERALL_CACHE_BYTES;
  if (!isNaN(overallP)) {
    overall = overallP >= <f64>MAX_OVERALL_CACHE_BYTES ? MAX_OVERALL_CACHE_BYTES : <u64>overallP;
    if (overall < MIN_THREAD_CACHE_BYTES) overall = MIN_THREAD_CACHE_BYTES;
  }
  let perThread = overall; // RecomputePerThreadCacheSize with no cache yet
  if (perThread < MIN_THREAD_CACHE_BYTES) perThread = MIN_THREAD_CACHE_BYTES;
  if (perThread > MAX_THREAD_CACHE_BYTES) perThread = MAX_THREAD_CACHE_BYTES;
  st64(H_OVERALL, overall);
  st64(H_PER_THREAD, isNaN(overallP) ? MAX_THREAD_CACHE_BYTES : perThread);
  sti64(H_UNCLAIMED, <i64>overall);
  phaInit(PHA_SPANS);
  phaNew(PHA_SPANS); // "Reduce cache conflicts"
  phaNew(PHA_SPANS);
  phaInit(PHA_STACKS);
  phaInit(PHA_CACHES);
  // Start-up calls (see the header).
  const early = newCache();
  if (!startupMalloc(early, EMERGENCY_POOL_BYTES, EMERGENCY_POOL_HEADER_BYTES)) { tcDestroy(heapIndex); return Status.OUT_OF_MEMORY; }
  const probe = mallocVia(early, 1);
  if (!probe) { tcDestroy(heapIndex); return Status.OUT_OF_MEMORY; }
  freeVia(-1, probe);
  const cache = newCache();
  sti32(H_TLS_CACHE, cache);
  const probe2 = mallocVia(cache, 1);
  if (!probe2) { tcDestroy(heapIndex); return Status.OUT_OF_MEMORY; }
  freeVia(cache, probe2);
  if (!startupMalloc(cache, EXTENSION_OBJECT_BYTES, EXTENSION_OBJECT_BYTES) ||
    !startupMalloc(cache, EXTENSION_LIST_BYTES, EXTENSION_LIST_BYTES)) {
    tcDestroy(heapIndex);
    return Status.OUT_OF_MEMORY;
  }
  store<f64>(hs + H_RATE, load<f64>(hs + H_CONFIG_RATE));
  st32(H_STARTED, 1);
  return Status.OK;
}

export function tcAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 { return tcAllocInline(heapIndex, size, alignLog2); }

// tcAlloc's body, inline in tcmalloc's batch loop (index.ts TcOps): a small request without alignment
// is mallocWritten with the thread cache's pop inline (the object's class is the one asked: its
// usable size is the class size); the rest goes out of line.
// @ts-ignore: decorator
@inline export function tcAllocInline(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  use(heapIndex);
  if (alignLog2 == 0 && size <= MAX_SMALL_BYTES) {
    const cl = classOfSize(size);
    const o = cacheAllocateInline(tls(), cl);
    if (o) {
      if (CHECKS) assert(spClass(obSpan(o)) == cl, "tcmalloc: an object of another class in the list");
      touchObject(o, sizeOfClass(cl));
    }
    return o;
  }
  return tcAllocOther(size, alignLog2);
}

// The program writes the whole object it gets: a touch of [a, a + bytes). Each span record keeps a
// run of VM pages it knows resident (resFrom, resEnd) and the VM's residency epoch it knew them at
// (resEpoch): while the epoch holds (no page anywhere has stopped being resident since) a touch
// inside the run changes nothing and is skipped (touchPages' page-table walk costs more, most of
// all, before the VM's leaf cache held them, in the uniform resident slots of a 2 MiB region).
// Otherwise the touch is made and noted (touchNote).
// @ts-ignore: decorator
@inline function touchObject(o: u32, bytes: u64): void {
  const span = obSpan(o);
  const a = obAddrIn(o, span);
  const r = SP(span);
  if (residentRunCovers(r + S_RES_FROM, r + S_RES_END, r + S_RES_EPOCH, a, bytes)) {
    if (CHECKS) assert(vmAllResident(a, bytes), "tcmalloc: skipped touch of a page not resident");
    return;
  }
  touchNote(r, a, bytes);
}

// touchObject's touch outside the span's known run: made and noted in the run (kit/resident-run.ts).
function touchNote(r: usize, a: u64, bytes: u64): void {
  residentRunTouch(r + S_RES_FROM, r + S_RES_END, r + S_RES_EPOCH, a, bytes, owner);
}

function tcAllocOther(size: u64, alignLog2: u32): u32 {
  if (alignLog2 == 0) return mallocWritten(size);
  const align = <u64>1 << alignLog2;
  if (align > TC_PAGE_BYTES) return memalignPages(align, size);
  // align_size_up (tcmalloc.cc): 0 becomes the alignment; an overflow keeps the size.
  let rounded = (size + align - 1) & ~(align - 1);
  if (rounded == 0) rounded = size == 0 ? align : size;
  return mallocWritten(rounded);
}

export function tcFree(heapIndex: i32, handle: u32): void { tcFreeInline(heapIndex, handle); }

// tcFree's body (freeVia through the thread's cache), inline in tcmalloc's batch loop.
// @ts-ignore: decorator
@inline export function tcFreeInline(heapIndex: i32, handle: u32): void {
  use(heapIndex);
  const c = tls();
  const cl = spClass(obSpan(handle));
  if (cl != 0 && c >= 0) cacheDeallocateInline(c, handle, cl);
  else freeVia(c, handle);
}

// do_realloc. A size of 0 is served like any shrink (the engine's REALLOC keeps the block alive;
// the library's realloc(p, 0) frees, which traces record as a free).
export function tcRealloc(heapIndex: i32, handle: u32, size: u64): u32 {
  use(heapIndex);
  const old = usableBytes(handle);
  const growth = old / 4 < 0xFFFFFFFFFFFFFFFF - old ? old / 4 : 0xFFFFFFFFFFFFFFFF - old;
  const lowerBoundToGrow = old + growth;
  if (size > old || size < old / 2) {
    let n: u32 = 0;
    if (size > old && size < lowerBoundToGrow) n = mallocWritten(lowerBoundToGrow);
    if (!n) n = mallocWritten(size);
    if (!n) return 0;
    freeVia(tls(), handle);
    return n;
  }
  return handle;
}

// MallocExtension::ReleaseFreeMemory(): release every normal free span. Returns resident bytes given back.
export function tcTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  const before = vmOwnerResident(owner);
  releaseAtLeastNPages(0xFFFFFFFFFFFFFFFF >> TC_PAGE_SHIFT);
  const after = vmOwnerResident(owner);
  return before > after ? before - after : 0;
}

export function tcDestroy(heapIndex: i32): void {
  use(heapIndex);
  if (!hs) return;
  for (let i: u32 = 0; i < regionCount(); i++) vmRelease(regionBase(i));
  const regions = load<usize>(hs + H_REGIONS), growths = load<usize>(hs + H_GROWTHS);
  if (regions) heap.free(regions);
  if (growths) heap.free(growths);
  dropStore();
  memory.fill(hs, 0, HS_BYTES);
}

export function tcUserAddress(heapIndex: i32, handle: u32): u64 {
  use(heapIndex);
  return obAddr(handle);
}

export function tcUsableBytes(heapIndex: i32, handle: u32): u64 {
  use(heapIndex);
  return usableBytes(handle);
}

function threadBytes(): u64 {
  let t: u64 = 0;
  for (let c = 0; c < ldi32(H_CACHE_COUNT); c++) t += <u64>cacheBytes(c);
  return t;
}

function largestFreeSpanBytes(): u64 {
  let best: u64 = 0;
  const a = largeLast(ld32(H_LARGE_NORMAL)), b = largeLast(ld32(H_LARGE_RETURNED));
  if (a) best = spLength(a);
  if (b && spLength(b) > best) best = spLength(b);
  if (!best) {
    for (let len = <u64>MAX_PAGES; len >= 1; len--) {
      if (!dllEmpty(normalHead(len)) || !dllEmpty(returnedHead(len))) { best = len; break; }
    }
  }
  return best << TC_PAGE_SHIFT;
}

export function tcSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  const system = ld64(H_SYSTEM), free = ld64(H_FREE), unmapped = ld64(H_UNMAPPED);
  const central = centralFreeBytes(), transfer = transferFreeBytes(), thread = threadBytes();
  const allocated = system - thread - central - transfer - free - unmapped;
  putSlot(out, S_HEAP_SIZE, system);
  putSlot(out, S_PAGEHEAP_FREE, free);
  putSlot(out, S_PAGEHEAP_UNMAPPED, unmapped);
  putSlot(out, S_CENTRAL, central);
  putSlot(out, S_TRANSFER, transfer);
  putSlot(out, S_THREAD, thread);
  putSlot(out, S_ALLOCATED, allocated);
  putSlot(out, S_METADATA, ld64(H_META_BYTES));
  putSlot(out, S_SCAVENGES, ld64(H_SCAVENGES));
  putSlot(out, S_RELEASE_COUNTDOWN, <u64>ldi64(H_COUNTER));
  putSlot(out, S_CACHE_MAX, <u64>cacheMaxBytes(tls()));
  putSlot(out, S_OVERALL, ld64(H_OVERALL));
  // The engine's common view: busy = what the program (and the start-up calls) hold;
  // free = every free byte tcmalloc keeps, released or not.
  let freeObjects = centralFreeObjects();
  for (let c = 0; c < ldi32(H_CACHE_COUNT); c++) freeObjects += cacheFreeObjects(c);
  putSlot(out, K_BUSY, allocated);
  putSlot(out, K_FREE, free + unmapped + central + transfer + thread);
  putSlot(out, K_FREE_BLOCKS, <u64>ld32(H_FREE_SPANS) + freeObjects);
  putSlot(out, K_LARGEST_FREE, largestFreeSpanBytes());
  putSlot(out, K_UNCOMMITTED_RANGES, 0);
  putSlot(out, K_SEGMENTS, regionCount());
  putSlot(out, K_VIRTUAL_BLOCKS, 0);
  putSlot(out, K_VIRTUAL_BYTES, 0);
}

// Engine bytes of every tcmalloc heap's tables (state blocks, record pools, page maps).
export function tcEngineBytes(): usize {
  let total: usize = 0;
  for (let h = 0; h < MAX_HEAPS; h++) {
    if (!blockOf(h)) continue;
    use(h);
    total += HS_BYTES + storeEngineBytes();
  }
  return total;
}

// Engine bytes of one block record (object records are the handles).
export function tcRecordBytes(): usize { return OBJ_BYTES; }

// ---------------------------------------------------------------- invariant check (T1..T4)

// Sorted heap-growth ranges merged into runs of adjacent pages, walked span by span.
function checkTiling(): i32 {
  const n = growthCount();
  if (!n) return ld64(H_SYSTEM) == 0 ? 0 : 1;
  // Insertion sort of growth indices by start page, in a scratch block.
  const order = resize(0, <usize>n * 4);
  for (let i: u32 = 0; i < n; i++) {
    let j = i;
    while (j > 0 && growthStart(load<u32>(order + <usize>(j - 1) * 4)) > growthStart(i)) {
      store<u32>(order + <usize>j * 4, load<u32>(order + <usize>(j - 1) * 4));
      j--;
    }
    store<u32>(order + <usize>j * 4, i);
  }
  let system: u64 = 0, free: u64 = 0, unmapped: u64 = 0;
  let result = 0;
  let i: u32 = 0;
  while (i < n && !result) {
    const first = load<u32>(order + <usize>i * 4);
    const runStart = growthStart(first);
    let runEnd = runStart + growthPages(first);
    i++;
    while (i < n && growthStart(load<u32>(order + <usize>i * 4)) == runEnd) {
      runEnd += growthPages(load<u32>(order + <usize>i * 4));
      i++;
    }
    let p = runStart;
    let prevLoc: u8 = IN_USE;
    while (p < runEnd) {
      const s = mapGet(p);
      if (!s || spStart(s) != p || spLength(s) == 0 || p + spLength(s) > runEnd) { result = 1; break; }
      if (spLength(s) > 1 && mapGet(p + spLength(s) - 1) != s) { result = 1; break; }
      const loc = spLocation(s);
      if (loc != IN_USE && loc != ON_NORMAL && loc != ON_RETURNED) { result = 1; break; }
      if (loc != IN_USE && loc == prevLoc) { result = 1; break; }
      const bytes = spLength(s) << TC_PAGE_SHIFT;
      system += bytes;
      if (loc == ON_NORMAL) free += bytes;
      if (loc == ON_RETURNED) unmapped += bytes;
      prevLoc = loc;
      p += spLength(s);
    }
  }
  heap.free(order);
  if (result) return result;
  if (system != ld64(H_SYSTEM) || free != ld64(H_FREE) || unmapped != ld64(H_UNMAPPED)) return 1;
  return 0;
}

// A large set: spans of its kind above kMaxPages, in (length, start) order, tree priorities kept.
function checkLargeSet(root: u32, loc: u8): i32 {
  if (treeCheckPriorities<LargeSet>(root) < 0) return 2;
  return checkOrder(root, loc, 0, 0);
}
function checkOrder(t: u32, loc: u8, lo: u32, hi: u32): i32 {
  if (!t) return 0;
  if (spLocation(t) != loc || spLength(t) <= <u64>MAX_PAGES) return 2;
  if (lo && (spLength(lo) > spLength(t) || (spLength(lo) == spLength(t) && spStart(lo) >= spStart(t)))) return 2;
  if (hi && (spLength(t) > spLength(hi) || (spLength(t) == spLength(hi) && spStart(t) >= spStart(hi)))) return 2;
  const a = checkOrder(spNext(t), loc, lo, t);
  return a ? a : checkOrder(spPrev(t), loc, t, hi);
}

export function tcCheck(heapIndex: i32): i32 {
  use(heapIndex);
  if (!hs) return 0;
  const t1 = checkTiling();
  if (t1) return t1;
  for (let len: u64 = 1; len <= <u64>MAX_PAGES; len++) {
    for (let k = 0; k < 2; k++) {
      const head = k == 0 ? normalHead(len) : returnedHead(len);
      let prev = head;
      for (let s = spNext(head); s != head; s = spNext(s)) {
        if (spPrev(s) != prev || spLength(s) != len || spLocation(s) != (k == 0 ? ON_NORMAL : ON_RETURNED)) return 2;
        prev = s;
      }
      if (spPrev(head) != prev) return 2;
    }
  }
  const tn = checkLargeSet(ld32(H_LARGE_NORMAL), ON_NORMAL);
  if (tn) return tn;
  const tr = checkLargeSet(ld32(H_LARGE_RETURNED), ON_RETURNED);
  if (tr) return tr;
  for (let cl = 1; cl < numClasses(); cl++) if (!checkCentral(cl)) return 3;
  for (let c = 0; c < ldi32(H_CACHE_COUNT); c++) if (!checkCache(c)) return 4;
  if (!spanRunsResident()) return 5;
  return 0;
}
