// === tcmalloc: thread caches (thread_cache.cc, thread_cache.h) ===
//
// A thread cache keeps one LIFO list of free objects per size class. Each list has a dynamic
// length limit (1 to start with): fetching from the central list brings min(limit, batch)
// objects and then raises the limit (by 1 below the batch size, else by a batch, at most 8192 and
// a multiple of the batch). Freeing pushes on the list; past the limit one batch goes back to the
// central list and the limit grows by 1 while below the batch, or after more than 3 such
// overflows shrinks by a batch. The cache's byte size has a ceiling (max_size_): when a free takes
// it above, the cache is scavenged: every list gives back half of the lowest length it reached
// since the last scavenge (1 if that was 1), lists above one batch lose a batch of limit, and the
// ceiling grows by 64 KiB taken from the process-wide budget (32 MiB by default,
// TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES) or, once the budget is spent, from another cache above
// 512 KiB. A new cache starts with a 64 KiB ceiling from the budget (512 KiB when it is spent).

import { obNext, setObNext } from "./store";
import { numClasses, sizeOfClass, moveOfClass } from "./sizemap";
import {
  TC, FL, TC_SIZE, TC_MAX, TC_NEXT, TC_PREV, FL_HEAD, FL_LENGTH, FL_LOWATER, FL_MAX, FL_OVERAGES,
  ldi32, sti32, ldi64, sti64, H_UNCLAIMED, H_NEXT_STEAL, H_THREAD_HEAPS, H_HEAP_COUNT, H_CACHE_COUNT,
  MAX_CACHES, PHA_CACHES,
} from "./state";
import { insertRange, removeRange, rangeStart, rangeEnd } from "./central";
import { phaNew } from "./pageheap";

const STEAL_BYTES: i32 = 1 << 16;                  // common.h: kStealAmount
const MIN_THREAD_CACHE_BYTES: i32 = 2 * 256 * 1024; // common.h: kMinThreadCacheSize = kMaxSize * 2
const MAX_OVERAGES: u32 = 3;                       // common.h: kMaxOverages
const MAX_DYNAMIC_LENGTH: u32 = 8192;              // common.h: kMaxDynamicFreeListLength

// @ts-ignore: decorator
@inline function tcGet(c: i32, f: usize): i32 { return load<i32>(TC(c) + f); }
// @ts-ignore: decorator
@inline function tcSet(c: i32, f: usize, v: i32): void { store<i32>(TC(c) + f, v); }
// @ts-ignore: decorator
@inline function flGet(c: i32, cl: i32, f: usize): u32 { return load<u32>(FL(c, cl) + f); }
// @ts-ignore: decorator
@inline function flSet(c: i32, cl: i32, f: usize, v: u32): void { store<u32>(FL(c, cl) + f, v); }

export function cacheBytes(c: i32): i32 { return tcGet(c, TC_SIZE); }
export function cacheMaxBytes(c: i32): i32 { return tcGet(c, TC_MAX); }
export function listHead(c: i32, cl: i32): u32 { return flGet(c, cl, FL_HEAD); }
export function listLength(c: i32, cl: i32): u32 { return flGet(c, cl, FL_LENGTH); }
export function listLowater(c: i32, cl: i32): u32 { return flGet(c, cl, FL_LOWATER); }
export function listMax(c: i32, cl: i32): u32 { return flGet(c, cl, FL_MAX); }

// ThreadCache::IncreaseCacheLimitLocked
function increaseCacheLimit(c: i32): void {
  const unclaimed = ldi64(H_UNCLAIMED);
  if (unclaimed > 0) {
    sti64(H_UNCLAIMED, unclaimed - STEAL_BYTES);
    tcSet(c, TC_MAX, tcGet(c, TC_MAX) + STEAL_BYTES);
    return;
  }
  for (let i = 0; i < 10; i++) {
    let victim = ldi32(H_NEXT_STEAL);
    if (victim < 0) { victim = ldi32(H_THREAD_HEAPS); sti32(H_NEXT_STEAL, victim); }
    if (victim < 0) return;
    if (victim == c || tcGet(victim, TC_MAX) <= MIN_THREAD_CACHE_BYTES) {
      sti32(H_NEXT_STEAL, tcGet(victim, TC_NEXT));
      continue;
    }
    tcSet(victim, TC_MAX, tcGet(victim, TC_MAX) - STEAL_BYTES);
    tcSet(c, TC_MAX, tcGet(c, TC_MAX) + STEAL_BYTES);
    sti32(H_NEXT_STEAL, tcGet(victim, TC_NEXT));
    return;
  }
}

// ThreadCache::NewHeap + Init: a new cache at the head of thread_heaps_. Returns its index.
export function newCache(): i32 {
  const c = ldi32(H_CACHE_COUNT);
  if (c >= MAX_CACHES) unreachable();
  sti32(H_CACHE_COUNT, c + 1);
  phaNew(PHA_CACHES);
  tcSet(c, TC_SIZE, 0);
  tcSet(c, TC_MAX, 0);
  increaseCacheLimit(c);
  if (tcGet(c, TC_MAX) == 0) {
    tcSet(c, TC_MAX, MIN_THREAD_CACHE_BYTES);
    sti64(H_UNCLAIMED, ldi64(H_UNCLAIMED) - MIN_THREAD_CACHE_BYTES);
  }
  for (let cl = 0; cl < numClasses(); cl++) {
    flSet(c, cl, FL_HEAD, 0);
    flSet(c, cl, FL_LENGTH, 0);
    flSet(c, cl, FL_LOWATER, 0);
    flSet(c, cl, FL_MAX, 1);
    flSet(c, cl, FL_OVERAGES, 0);
  }
  const first = ldi32(H_THREAD_HEAPS);
  tcSet(c, TC_NEXT, first);
  tcSet(c, TC_PREV, -1);
  if (first >= 0) tcSet(first, TC_PREV, c);
  else sti32(H_NEXT_STEAL, c);
  sti32(H_THREAD_HEAPS, c);
  sti32(H_HEAP_COUNT, ldi32(H_HEAP_COUNT) + 1);
  return c;
}

// Pops the list's first n objects (SLL_PopRange); the range is left in popStart..popEnd.
let popStart: u32 = 0;
let popEnd: u32 = 0;
function popRange(c: i32, cl: i32, n: u32): void {
  if (n == 0) { popStart = 0; popEnd = 0; return; }
  const head = flGet(c, cl, FL_HEAD);
  let tmp = head;
  for (let i: u32 = 1; i < n; i++) tmp = obNext(tmp);
  popStart = head;
  popEnd = tmp;
  flSet(c, cl, FL_HEAD, obNext(tmp));
  setObNext(tmp, 0);
  const len = flGet(c, cl, FL_LENGTH) - n;
  flSet(c, cl, FL_LENGTH, len);
  if (len < flGet(c, cl, FL_LOWATER)) flSet(c, cl, FL_LOWATER, len);
}

// ThreadCache::ReleaseToCentralCache
function releaseToCentral(c: i32, cl: i32, n: u32): void {
  const length = flGet(c, cl, FL_LENGTH);
  if (n > length) n = length;
  const delta = <i32>(<u64>n * sizeOfClass(cl));
  const batch = <u32>moveOfClass(cl);
  while (n > batch) {
    popRange(c, cl, batch);
    insertRange(cl, popStart, popEnd, <i32>batch);
    n -= batch;
  }
  popRange(c, cl, n);
  insertRange(cl, popStart, popEnd, <i32>n);
  tcSet(c, TC_SIZE, tcGet(c, TC_SIZE) - delta);
}

// ThreadCache::Scavenge
function scavenge(c: i32): void {
  for (let cl = 0; cl < numClasses(); cl++) {
    const lowmark = flGet(c, cl, FL_LOWATER);
    if (lowmark > 0) {
      const drop = lowmark > 1 ? lowmark / 2 : 1;
      releaseToCentral(c, cl, drop);
      const batch = <u32>moveOfClass(cl);
      const max = flGet(c, cl, FL_MAX);
      if (max > batch) flSet(c, cl, FL_MAX, max - batch > batch ? max - batch : batch);
    }
    flSet(c, cl, FL_LOWATER, flGet(c, cl, FL_LENGTH));
  }
  increaseCacheLimit(c);
}

// ThreadCache::FetchFromCentralCache: the object handed out, 0 when out of memory.
function fetchFromCentral(c: i32, cl: i32): u32 {
  const batch = <u32>moveOfClass(cl);
  const max = flGet(c, cl, FL_MAX);
  const num = max < batch ? max : batch;
  const count = removeRange(cl, <i32>num);
  if (count == 0) return 0;
  const start = rangeStart;
  const rest = count - 1;
  if (rest > 0) {
    tcSet(c, TC_SIZE, tcGet(c, TC_SIZE) + <i32>(sizeOfClass(cl) * <u64>rest));
    // PushRange(rest, next(start), end)
    setObNext(rangeEnd, flGet(c, cl, FL_HEAD));
    flSet(c, cl, FL_HEAD, obNext(start));
    flSet(c, cl, FL_LENGTH, flGet(c, cl, FL_LENGTH) + <u32>rest);
  }
  if (max < batch) {
    flSet(c, cl, FL_MAX, max + 1);
  } else {
    let next = max + batch < MAX_DYNAMIC_LENGTH ? max + batch : MAX_DYNAMIC_LENGTH;
    next -= next % batch;
    flSet(c, cl, FL_MAX, next);
  }
  return start;
}

// ThreadCache::Allocate
export function cacheAllocate(c: i32, cl: i32): u32 { return cacheAllocateInline(c, cl); }

// cacheAllocate's body, inline in tcmalloc's batch loop (tcmalloc.ts tcAllocInline).
// @ts-ignore: decorator
@inline export function cacheAllocateInline(c: i32, cl: i32): u32 {
  const head = flGet(c, cl, FL_HEAD);
  if (!head) return fetchFromCentral(c, cl);
  flSet(c, cl, FL_HEAD, obNext(head));
  const len = flGet(c, cl, FL_LENGTH) - 1;
  flSet(c, cl, FL_LENGTH, len);
  if (len < flGet(c, cl, FL_LOWATER)) flSet(c, cl, FL_LOWATER, len);
  tcSet(c, TC_SIZE, tcGet(c, TC_SIZE) - <i32>sizeOfClass(cl));
  return head;
}

// ThreadCache::ListTooLong
function listTooLong(c: i32, cl: i32): void {
  tcSet(c, TC_SIZE, tcGet(c, TC_SIZE) + <i32>sizeOfClass(cl));
  const batch = <u32>moveOfClass(cl);
  releaseToCentral(c, cl, batch);
  const max = flGet(c, cl, FL_MAX);
  if (max < batch) {
    flSet(c, cl, FL_MAX, max + 1);
  } else if (max > batch) {
    const over = flGet(c, cl, FL_OVERAGES) + 1;
    flSet(c, cl, FL_OVERAGES, over);
    if (over > MAX_OVERAGES) {
      flSet(c, cl, FL_MAX, max - batch);
      flSet(c, cl, FL_OVERAGES, 0);
    }
  }
  if (tcGet(c, TC_SIZE) > tcGet(c, TC_MAX)) scavenge(c);
}

// ThreadCache::Deallocate
export function cacheDeallocate(c: i32, o: u32, cl: i32): void { cacheDeallocateInline(c, o, cl); }

// cacheDeallocate's body, inline in tcmalloc's batch loop (tcmalloc.ts tcFreeInline).
// @ts-ignore: decorator
@inline export function cacheDeallocateInline(c: i32, o: u32, cl: i32): void {
  setObNext(o, flGet(c, cl, FL_HEAD));
  flSet(c, cl, FL_HEAD, o);
  const len = flGet(c, cl, FL_LENGTH) + 1;
  flSet(c, cl, FL_LENGTH, len);
  if (len > flGet(c, cl, FL_MAX)) { listTooLong(c, cl); return; }
  tcSet(c, TC_SIZE, tcGet(c, TC_SIZE) + <i32>sizeOfClass(cl));
  if (tcGet(c, TC_SIZE) > tcGet(c, TC_MAX)) scavenge(c);
}

// For tcCheck: list lengths and bytes agree with a recount.
export function checkCache(c: i32): bool {
  let bytes: u64 = 0;
  for (let cl = 0; cl < numClasses(); cl++) {
    let n: u32 = 0;
    for (let o = flGet(c, cl, FL_HEAD); o; o = obNext(o)) n++;
    if (n != flGet(c, cl, FL_LENGTH) || flGet(c, cl, FL_LOWATER) > n) return false;
    bytes += <u64>n * sizeOfClass(cl);
  }
  return bytes == <u64>tcGet(c, TC_SIZE);
}

export function cacheFreeObjects(c: i32): u64 {
  let n: u64 = 0;
  for (let cl = 0; cl < numClasses(); cl++) n += flGet(c, cl, FL_LENGTH);
  return n;
}
