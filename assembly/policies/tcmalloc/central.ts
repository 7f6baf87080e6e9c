// === tcmalloc: central free lists and the transfer cache (central_freelist.cc) ===
//
// Each size class has a central list of spans cut into objects of that class: spans with free
// objects ("nonempty", newest first) and spans without ("empty"). Objects travel between a thread
// cache and the central list in batches; a batch of exactly the class's transfer size is parked
// whole in the class's transfer cache when it has a free slot (16 slots to start with, at most
// 64, and at most 1 MiB of objects per class but always one slot). When the cache is full it may
// grow by one slot taken from another class, chosen round robin over all classes by one shared
// counter: first a class with an unused slot, then (forcing) one whose last batch is pushed back
// into its spans. Batches of any other size go straight back into their spans.
// Fetching: a whole parked batch when one is asked for and parked; otherwise objects from the
// head of the first nonempty span (a new span from the page heap when there is none), then from
// the next spans, each new run put in front of what was gathered. A span whose last object comes
// back goes to the page heap at once. The central list's free bytes include the tail of each span
// too short for one more object ("overhead").

import {
  newObject, dropObject, obNext, setObNext, obSpan, spGet, spSet, spStart, spNext,
  setSpClass, newSpanRecord, S_OBJECTS, S_REFCOUNT, S_FRESH, S_NOBJ,
} from "./store";
import { numClasses, sizeOfClass, pagesOfClass, moveOfClass, TC_PAGE_SHIFT } from "./sizemap";
import {
  CF, CF_EMPTY, CF_NONEMPTY, CF_SPANS, CF_COUNTER, CF_USED, CF_CACHE, CF_MAX_CACHE, CF_SLOTS,
  MAX_TRANSFER_ENTRIES, ldi32, sti32, H_RACE,
} from "./state";
import { phNew, phDelete, dllInit, dllEmpty, dllRemove, dllPrepend, pageAddr, touch } from "./pageheap";
import { PAGE_SIZE_BYTES } from "../../vm/constants";

const TRANSFER_CACHE_START: i32 = 16;          // central_freelist.cc: Init, cache_size_ = 16
const TRANSFER_CLASS_BYTES: i32 = 1024 * 1024; // central_freelist.cc: "at most 1MB of objects" per class
const WORD_BYTES: u64 = 8;                     // the free-list link written into a free object

// Range handed back by removeRange / fetchFromOneSpans.
export let rangeStart: u32 = 0;
export let rangeEnd: u32 = 0;

// @ts-ignore: decorator
@inline function cfGet(cl: i32, f: usize): i32 { return load<i32>(CF(cl) + f); }
// @ts-ignore: decorator
@inline function cfSet(cl: i32, f: usize, v: i32): void { store<i32>(CF(cl) + f, v); }

// CentralFreeList::Init for every class (span list heads are records of their own).
export function initCentral(): bool {
  for (let cl = 0; cl < numClasses(); cl++) {
    const e = newSpanRecord(0, 0), n = newSpanRecord(0, 0);
    if (!e || !n) return false;
    dllInit(e);
    dllInit(n);
    cfSet(cl, CF_EMPTY, <i32>e);
    cfSet(cl, CF_NONEMPTY, <i32>n);
    cfSet(cl, CF_SPANS, 0);
    cfSet(cl, CF_COUNTER, 0);
    cfSet(cl, CF_USED, 0);
    let most = MAX_TRANSFER_ENTRIES;
    let cache = TRANSFER_CACHE_START;
    if (cl > 0) {
      const bytes = <i32>sizeOfClass(cl);
      const perClass = TRANSFER_CLASS_BYTES / (bytes * moveOfClass(cl));
      most = min(most, max(1, perClass));
      cache = min(cache, most);
    }
    cfSet(cl, CF_CACHE, cache);
    cfSet(cl, CF_MAX_CACHE, most);
  }
  return true;
}

// ReleaseToSpans: an object goes back into its span; an emptied span goes to the page heap.
// Returns the change to the class's counter_ (free objects in its spans): +1, less the span's
// objects when it went to the page heap; the caller adds the changes up and stores the sum once
// (nothing in the loop reads the counter).
// @ts-ignore: decorator
@inline function releaseToSpans(cl: i32, o: u32): i32 {
  const span = obSpan(o);
  const objects = spGet(span, S_OBJECTS);
  if (!objects && spGet(span, S_FRESH) >= spGet(span, S_NOBJ)) { // no free object: the span was on the empty list
    dllRemove(span);
    dllPrepend(<u32>cfGet(cl, CF_NONEMPTY), span);
  }
  const ref = spGet(span, S_REFCOUNT) - 1;
  spSet(span, S_REFCOUNT, ref);
  if (ref == 0) {
    const counted = 1 - <i32>spGet(span, S_NOBJ);
    dllRemove(span);
    cfSet(cl, CF_SPANS, cfGet(cl, CF_SPANS) - 1);
    let x = objects;
    while (x) { const nx = obNext(x); dropObject(x); x = nx; }
    dropObject(o);
    spSet(span, S_OBJECTS, 0);
    spSet(span, S_FRESH, 0);
    spSet(span, S_NOBJ, 0);
    phDelete(span);
    return counted;
  }
  setObNext(o, objects);
  spSet(span, S_OBJECTS, o);
  return 1;
}

function releaseListToSpans(cl: i32, start: u32): void {
  let counted: i32 = 0;
  while (start) {
    const next = obNext(start);
    counted += releaseToSpans(cl, start);
    start = next;
  }
  cfSet(cl, CF_COUNTER, cfGet(cl, CF_COUNTER) + counted);
}

function shrinkCache(t: i32, force: bool): bool {
  if (cfGet(t, CF_CACHE) == 0) return false;
  if (!force && cfGet(t, CF_USED) == cfGet(t, CF_CACHE)) return false;
  if (cfGet(t, CF_USED) == cfGet(t, CF_CACHE)) {
    cfSet(t, CF_CACHE, cfGet(t, CF_CACHE) - 1);
    const used = cfGet(t, CF_USED) - 1;
    cfSet(t, CF_USED, used);
    releaseListToSpans(t, load<u32>(CF(t) + CF_SLOTS + (<usize>used << 3)));
    return true;
  }
  cfSet(t, CF_CACHE, cfGet(t, CF_CACHE) - 1);
  return true;
}

function evictRandomSizeClass(locked: i32, force: bool): bool {
  let t = ldi32(H_RACE);
  sti32(H_RACE, t + 1);
  const n = numClasses();
  if (t >= n) {
    while (t >= n) t -= n;
    sti32(H_RACE, t);
  }
  if (t == locked) return false;
  return shrinkCache(t, force);
}

function makeCacheSpace(cl: i32): bool {
  if (cfGet(cl, CF_USED) < cfGet(cl, CF_CACHE)) return true;
  if (cfGet(cl, CF_CACHE) == cfGet(cl, CF_MAX_CACHE)) return false;
  if (evictRandomSizeClass(cl, false) || evictRandomSizeClass(cl, true)) {
    if (cfGet(cl, CF_CACHE) < cfGet(cl, CF_MAX_CACHE)) {
      cfSet(cl, CF_CACHE, cfGet(cl, CF_CACHE) + 1);
      return true;
    }
  }
  return false;
}

// CentralFreeList::InsertRange: n objects linked from start to end.
export function insertRange(cl: i32, start: u32, end: u32, n: i32): void {
  if (n == moveOfClass(cl) && makeCacheSpace(cl)) {
    const slot = cfGet(cl, CF_USED);
    cfSet(cl, CF_USED, slot + 1);
    const e = CF(cl) + CF_SLOTS + (<usize>slot << 3);
    store<u32>(e, start);
    store<u32>(e, end, 4);
    return;
  }
  releaseListToSpans(cl, start);
}

// FetchFromOneSpans: up to n objects from the first nonempty span.
function fetchFromOneSpans(cl: i32, n: i32): i32 {
  const head = <u32>cfGet(cl, CF_NONEMPTY);
  if (dllEmpty(head)) return 0;
  const span = spNext(head);
  // The span's free-list head and fresh count kept in locals through the loop and written back
  // once: the head object of its explicit list, else the next fresh one (V8 loads the span table's
  // base again after every store to a global, and newObject stores one).
  let objects = spGet(span, S_OBJECTS);
  let fresh = spGet(span, S_FRESH);
  const nobj = spGet(span, S_NOBJ);
  let start: u32 = 0, end: u32 = 0;
  let result = 0;
  do { // the span is on the nonempty list: its first pop always finds an object
    let o: u32;
    if (objects) { o = objects; objects = obNext(o); }
    else { o = newObject(fresh, span); fresh++; if (!o) unreachable(); } // more than 2^29 object records
    if (end) setObNext(end, o); else start = o;
    end = o;
    result++;
  } while (result < n && (objects != 0 || fresh < nobj));
  setObNext(end, 0);
  spSet(span, S_OBJECTS, objects);
  spSet(span, S_FRESH, fresh);
  if (objects == 0 && fresh >= nobj) {
    dllRemove(span);
    dllPrepend(<u32>cfGet(cl, CF_EMPTY), span);
  }
  spSet(span, S_REFCOUNT, spGet(span, S_REFCOUNT) + <u32>result);
  cfSet(cl, CF_COUNTER, cfGet(cl, CF_COUNTER) - result);
  rangeStart = start;
  rangeEnd = end;
  return result;
}

// Populate: a new span from the page heap, cut into objects of the class.
function populate(cl: i32): void {
  const pages = <u64>pagesOfClass(cl);
  const span = phNew(pages);
  if (!span) return;
  setSpClass(span, cl);
  const size = sizeOfClass(cl);
  const nobj = <u32>((pages << TC_PAGE_SHIFT) / size);
  spSet(span, S_OBJECTS, 0);
  spSet(span, S_FRESH, 0);
  spSet(span, S_NOBJ, nobj);
  spSet(span, S_REFCOUNT, 0);
  // Linking the objects writes a word at the start of each (every page up to the last object's
  // first word when objects are smaller than a page).
  const base = pageAddr(spStart(span));
  if (size < PAGE_SIZE_BYTES) touch(base, <u64>(nobj - 1) * size + WORD_BYTES);
  else for (let i: u32 = 0; i < nobj; i++) touch(base + <u64>i * size, WORD_BYTES);
  dllPrepend(<u32>cfGet(cl, CF_NONEMPTY), span);
  cfSet(cl, CF_SPANS, cfGet(cl, CF_SPANS) + 1);
  cfSet(cl, CF_COUNTER, cfGet(cl, CF_COUNTER) + <i32>nobj);
}

// CentralFreeList::RemoveRange: up to n objects (rangeStart..rangeEnd); 0 when out of memory.
export function removeRange(cl: i32, n: i32): i32 {
  if (n == moveOfClass(cl) && cfGet(cl, CF_USED) > 0) {
    const slot = cfGet(cl, CF_USED) - 1;
    cfSet(cl, CF_USED, slot);
    const e = CF(cl) + CF_SLOTS + (<usize>slot << 3);
    rangeStart = load<u32>(e);
    rangeEnd = load<u32>(e, 4);
    return n;
  }
  let result = fetchFromOneSpans(cl, n);
  if (!result) {
    populate(cl);
    result = fetchFromOneSpans(cl, n);
  }
  if (!result) return 0;
  let start = rangeStart;
  const end = rangeEnd;
  while (result < n) {
    const got = fetchFromOneSpans(cl, n - result);
    if (!got) break;
    result += got;
    setObNext(rangeEnd, start);
    start = rangeStart;
  }
  rangeStart = start;
  rangeEnd = end;
  return result;
}

// ---------------------------------------------------------------- statistics

// tcmalloc.central_cache_free_bytes: free objects in spans plus each span's unusable tail.
export function centralFreeBytes(): u64 {
  let total: u64 = 0;
  for (let cl = 1; cl < numClasses(); cl++) {
    const size = sizeOfClass(cl);
    const spanBytes = <u64>pagesOfClass(cl) << TC_PAGE_SHIFT;
    total += size * <u64>cfGet(cl, CF_COUNTER) + <u64>cfGet(cl, CF_SPANS) * (spanBytes % size);
  }
  return total;
}

// tcmalloc.transfer_cache_free_bytes
export function transferFreeBytes(): u64 {
  let total: u64 = 0;
  for (let cl = 1; cl < numClasses(); cl++) {
    total += sizeOfClass(cl) * <u64>cfGet(cl, CF_USED) * <u64>moveOfClass(cl);
  }
  return total;
}

export function centralFreeObjects(): u64 {
  let total: u64 = 0;
  for (let cl = 1; cl < numClasses(); cl++) {
    total += <u64>cfGet(cl, CF_COUNTER) + <u64>cfGet(cl, CF_USED) * <u64>moveOfClass(cl);
  }
  return total;
}

// For tcCheck: the class's counters, transfer slots and span lists agree with a recount.
export function checkCentral(cl: i32): bool {
  const size = sizeOfClass(cl);
  let spans = 0, free = 0;
  for (let k = 0; k < 2; k++) {
    const head = <u32>cfGet(cl, k == 0 ? CF_EMPTY : CF_NONEMPTY);
    for (let s = spNext(head); s != head; s = spNext(s)) {
      if (spGet(s, S_NOBJ) != <u32>((<u64>pagesOfClass(cl) << TC_PAGE_SHIFT) / size)) return false;
      let n: u32 = 0;
      for (let o = spGet(s, S_OBJECTS); o; o = obNext(o)) { if (obSpan(o) != s) return false; n++; }
      n += spGet(s, S_NOBJ) - spGet(s, S_FRESH);
      if ((n != 0) != (k == 1)) return false;
      if (n + spGet(s, S_REFCOUNT) != spGet(s, S_NOBJ) || spGet(s, S_REFCOUNT) == 0) return false;
      spans++;
      free += <i32>n;
    }
  }
  if (spans != cfGet(cl, CF_SPANS) || free != cfGet(cl, CF_COUNTER)) return false;
  const used = cfGet(cl, CF_USED);
  if (used < 0 || used > cfGet(cl, CF_CACHE) || cfGet(cl, CF_CACHE) > cfGet(cl, CF_MAX_CACHE)) return false;
  for (let i = 0; i < used; i++) {
    const e = CF(cl) + CF_SLOTS + (<usize>i << 3);
    let n = 0;
    let last: u32 = 0;
    for (let o = load<u32>(e); o; o = obNext(o)) { n++; last = o; }
    if (n != moveOfClass(cl) || last != load<u32>(e, 4)) return false;
  }
  return true;
}

export function transferSlotHead(cl: i32, i: i32): u32 { return load<u32>(CF(cl) + CF_SLOTS + (<usize>i << 3)); }
export function transferUsed(cl: i32): i32 { return cfGet(cl, CF_USED); }
