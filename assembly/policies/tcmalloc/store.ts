// === tcmalloc: per-heap state, span and object records, the page map ===
//
// Everything here is engine memory (the model's own records), never simulated heap memory.
// Each tcmalloc heap is a separate simulated process: its own state block, record pools (the kit's
// RecordPool, two per heap in the state block) and page map, freed when the heap is destroyed.
//
// ╒═══ span record (SPAN_BYTES = 64) — gperftools' Span ══════════════════════════════╕
// │ 0 start u64            first tcmalloc page (address >> 13)                         │
// │ 8 length u32           pages                                                       │
// │ 12 location u8 (IN_USE, NORMAL, RETURNED, DEAD, HEAD) │ 13 sizeclass u8 │ 14-15 -  │
// │ 16 next u32 │ 20 prev u32   list links; in a large set: left / right children     │
// │ 24 objects u32         head of the explicit free-object list (object records)       │
// │ 28 refcount u32        objects handed out of the span                               │
// │ 32 fresh u32           objects carved so far; [fresh, nobj) are never handed out    │
// │ 36 nobj u32            objects in the span                                          │
// │ 40 resEpoch u32        the VM's residency epoch [resFrom, resEnd) was resident at    │
// │ 44 link u32            record pool free list (kit/records.ts)                        │
// │ 48 resFrom u64, 56 resEnd u64   VM pages known resident (tcmalloc.ts touchObject)   │
// ╘═════════════════════════════════════════════════════════════════════════════════════╛
//   A span's free-object list is its explicit list followed by the never-handed-out objects in
//   address order: gperftools links every object of a new span in address order and always pushes
//   and pops at the head, so the untouched tail is always a run of fresh objects. Records for
//   objects are made when an object is first handed out.
//
// ╒═══ object record (OBJ_BYTES = 8): one small object, or one page-level block ═══╕
// │ 0 span << 11 | index u32 (its span; its index in the span) │ 4 next u32 (free-list link) │
// ╘═════════════════════════════════════════════════════════════════════════════════╛
//   A handle is an object record index. The span's sizeclass tells the two kinds apart: 0 = a
//   page-level block (the record names its span; index 0), else a small object. The object's
//   address is the span's first byte plus index × the class's size (obAddr); the touch of an
//   object reads its span record anyway. A span holds at most 1,024 objects (the 8-byte class's
//   one-page span), so the index takes 11 bits and the span the other 21: span records from
//   WIDE_SPAN on (2 M spans live at once, 16 GiB of spans at least) are named in the heap's side
//   table instead, one u32 per object record, made only when such a span first gets an object.
//   8 bytes instead of 12 (16 with the address stored): the records of python.hst's 1.2 M blocks
//   are written once each, ~3,500 fresh pages at 12 bytes, ~2,350 at 8.
//
// Page map: open addressing (u64 key → u32 span), holding only the first and last page of every
// span (gperftools also fills interior pages and leaves stale entries, but merging reads only the
// pages next to a span's ends, which are always the ends of the neighbouring spans).

import { resize } from "../../mem";
import { CHECKS } from "../../checks";
import { sizeOfClass, pagesOfClass, numClasses, TC_PAGE_SHIFT } from "./sizemap";
import { MAX_HEAPS } from "../../abi";
import { vmResidencyHolds, vmIsResident } from "../../vm/space";
import { PAGE_SHIFT } from "../../vm/constants";
import {
  RecordPool, RECORD_POOL_BYTES, initPool, takeRecordOf, dropRecordOf, releasePool, poolBytes, reserveForHint,
} from "../../kit/records";

export const SPAN_BYTES: usize = 64;
export const S_START: usize = 0;
export const S_LENGTH: usize = 8;
export const S_LOCATION: usize = 12;
export const S_CLASS: usize = 13;
export const S_NEXT: usize = 16;
export const S_PREV: usize = 20;
export const S_OBJECTS: usize = 24;
export const S_REFCOUNT: usize = 28;
export const S_FRESH: usize = 32;
export const S_NOBJ: usize = 36;
export const S_LINK: usize = 44;
export const S_RES_EPOCH: usize = 40;
export const S_RES_FROM: usize = 48;
export const S_RES_END: usize = 56;

export const IN_USE: u8 = 0;      // span.h: Span::IN_USE
export const ON_NORMAL: u8 = 1;   // span.h: Span::ON_NORMAL_FREELIST
export const ON_RETURNED: u8 = 2; // span.h: Span::ON_RETURNED_FREELIST
export const DEAD: u8 = 3;        // ours: record on the pool's free list
export const HEAD: u8 = 4;        // ours: a list head (gperftools' dummy Span of each list)

export const OBJ_BYTES: usize = 8;
export const O_PACKED: usize = 0;   // span << OBJ_INDEX_BITS | index
export const O_NEXT: usize = 4;
const OBJ_INDEX_BITS: u32 = 11;      // > log2(1,024): sizemap.ts's most objects in a span (8-byte class, one page)
const OBJ_INDEX_MASK: u32 = (1 << OBJ_INDEX_BITS) - 1;
// The first span record named in the side table. Debug builds name every span from the 8th there,
// so that the tests run both ways (release builds reach it only past 2 M spans).
const WIDE_SPAN: u32 = CHECKS ? 8 : (1 << (32 - OBJ_INDEX_BITS)) - 1;

// Handles must stay below 2^29 (the engine's id table packs them).
const MAX_HANDLE: u32 = (1 << 29) - 1;

// Object records reserved per block live at the replay's peak (kit/hint.ts). An object keeps its
// record while it waits in a thread cache or a central list, so a peak holds more records than live
// blocks (python.hst: more than its 1.2 M live blocks). With one per live block the table doubled
// once near the end and the copy touched 19 MB of fresh pages (~4,700 page faults); reserved pages
// never written cost address space only.
const OBJECT_RECORDS_PER_LIVE_BLOCK: u32 = 2;

// ---------------------------------------------------------------- the current heap

// Heap state block of the heap in use (set by use()); its layout is in state.ts.
export let hs: usize = 0;
export let owner: u8 = 0;
// Record tables of the current heap (cached from its pools; refreshed whenever a pool grows).
export let spans: usize = 0;
export let objs: usize = 0;

const heapBlocks = memory.data(MAX_HEAPS * 8); // usize per heap index

// The record pools (kit/records.ts) and the page map live at the start of the state block.
const P_SPAN_POOL: usize = 0;
const P_OBJ_POOL: usize = P_SPAN_POOL + RECORD_POOL_BYTES;
const P_MAP: usize = P_OBJ_POOL + RECORD_POOL_BYTES; // usize
const P_MAP_CAP: usize = P_MAP + 8;                   // u32 (power of two)
const P_MAP_USED: usize = P_MAP + 12;                 // u32
const P_WIDE: usize = P_MAP + 16;                     // usize: the wide spans' side table (u32 per object record)
const P_WIDE_CAP: usize = P_MAP + 24;                 // u32: object records it covers
export const STORE_BYTES: usize = (P_MAP + 32 + 7) & ~7;

// @ts-ignore: decorator
@inline function spanPool(): RecordPool { return changetype<RecordPool>(hs + P_SPAN_POOL); }
// @ts-ignore: decorator
@inline function objPool(): RecordPool { return changetype<RecordPool>(hs + P_OBJ_POOL); }

export function blockOf(heap: i32): usize { return load<usize>(heapBlocks + (<usize>heap << 3)); }
export function setBlock(heap: i32, b: usize): void { store<usize>(heapBlocks + (<usize>heap << 3), b); }

// @ts-ignore: decorator
@inline export function use(heap: i32): void {
  owner = <u8>heap;
  hs = blockOf(heap);
  if (!hs) return;
  spans = spanPool().base;
  objs = objPool().base;
}

// Empty pools and page map for a fresh state block.
export function initStore(): void {
  initPool(spanPool(), <u32>SPAN_BYTES, <u32>S_LINK, 1024);
  initPool(objPool(), <u32>OBJ_BYTES, <u32>O_NEXT, 4096, 8, MAX_HANDLE);
  reserveForHint(objPool(), OBJECT_RECORDS_PER_LIVE_BLOCK); // kit/hint.ts
  store<usize>(hs + P_MAP, 0);
  store<u32>(hs + P_MAP_CAP, 0);
  store<u32>(hs + P_MAP_USED, 0);
  store<usize>(hs + P_WIDE, 0);
  store<u32>(hs + P_WIDE_CAP, 0);
  spans = 0;
  objs = 0;
  for (let c = 1; c < numClasses(); c++) {
    if ((<u64>pagesOfClass(c) << TC_PAGE_SHIFT) / sizeOfClass(c) > <u64>OBJ_INDEX_MASK + 1) unreachable();
  }
}

// Frees the pools and the page map of the current heap.
export function dropStore(): void {
  releasePool(spanPool());
  releasePool(objPool());
  const m = load<usize>(hs + P_MAP);
  if (m) heap.free(m);
  store<usize>(hs + P_MAP, 0);
  const w = load<usize>(hs + P_WIDE);
  if (w) heap.free(w);
  store<usize>(hs + P_WIDE, 0);
  store<u32>(hs + P_WIDE_CAP, 0);
  spans = 0;
  objs = 0;
}

// ---------------------------------------------------------------- span records

// @ts-ignore: decorator
@inline export function SP(s: u32): usize { return spans + <usize>s * SPAN_BYTES; }
// @ts-ignore: decorator
@inline export function spStart(s: u32): u64 { return load<u64>(SP(s) + S_START); }
// @ts-ignore: decorator
@inline export function spLength(s: u32): u64 { return <u64>load<u32>(SP(s) + S_LENGTH); }
// @ts-ignore: decorator
@inline export function spLocation(s: u32): u8 { return load<u8>(SP(s) + S_LOCATION); }
// @ts-ignore: decorator
@inline export function spClass(s: u32): i32 { return <i32>load<u8>(SP(s) + S_CLASS); }
// @ts-ignore: decorator
@inline export function spNext(s: u32): u32 { return load<u32>(SP(s) + S_NEXT); }
// @ts-ignore: decorator
@inline export function spPrev(s: u32): u32 { return load<u32>(SP(s) + S_PREV); }
// @ts-ignore: decorator
@inline export function setSpStart(s: u32, v: u64): void { store<u64>(SP(s) + S_START, v); }
// @ts-ignore: decorator
@inline export function setSpLength(s: u32, v: u64): void { store<u32>(SP(s) + S_LENGTH, <u32>v); }
// @ts-ignore: decorator
@inline export function setSpLocation(s: u32, v: u8): void { store<u8>(SP(s) + S_LOCATION, v); }
// @ts-ignore: decorator
@inline export function setSpClass(s: u32, v: i32): void { store<u8>(SP(s) + S_CLASS, <u8>v); }
// @ts-ignore: decorator
@inline export function setSpNext(s: u32, v: u32): void { store<u32>(SP(s) + S_NEXT, v); }
// @ts-ignore: decorator
@inline export function setSpPrev(s: u32, v: u32): void { store<u32>(SP(s) + S_PREV, v); }
// @ts-ignore: decorator
@inline export function spGet(s: u32, f: usize): u32 { return load<u32>(SP(s) + f); }
// @ts-ignore: decorator
@inline export function spSet(s: u32, f: usize, v: u32): void { store<u32>(SP(s) + f, v); }

// A zeroed span record (0 is never a record: it stands for NULL).
export function newSpanRecord(start: u64, length: u64): u32 {
  const pool = spanPool();
  const s = takeRecordOf(pool, SPAN_BYTES, S_LINK);
  if (!s) return 0;
  spans = pool.base;
  memory.fill(SP(s), 0, SPAN_BYTES);
  setSpStart(s, start);
  setSpLength(s, length);
  return s;
}

export function dropSpanRecord(s: u32): void {
  setSpLocation(s, DEAD);
  dropRecordOf(spanPool(), s, SPAN_BYTES, S_LINK);
}

export function spanRecordsInUse(): u32 { return spanPool().inUse; }

// Whether every span record's run of VM pages known resident (tcmalloc.ts touchObject) is resident
// while its epoch holds (tcCheck T5).
export function spanRunsResident(): bool {
  const high = spanPool().high;
  for (let s: u32 = 1; s < high; s++) {
    if (spLocation(s) == DEAD || !vmResidencyHolds(load<u32>(SP(s) + S_RES_EPOCH))) continue;
    for (let page = load<u64>(SP(s) + S_RES_FROM); page < load<u64>(SP(s) + S_RES_END); page++) {
      if (!vmIsResident(page << PAGE_SHIFT)) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- object records

// @ts-ignore: decorator
@inline export function OB(o: u32): usize { return objs + <usize>o * OBJ_BYTES; }
// @ts-ignore: decorator
@inline export function obAddr(o: u32): u64 { return obAddrIn(o, obSpan(o)); }
// The address of object o, whose span is `span` (obSpan(o), read once by a caller that needs both).
// @ts-ignore: decorator
@inline export function obAddrIn(o: u32, span: u32): u64 {
  // sizeOfClass(0) is 0: a page-level block (index 0) starts at its span's first byte.
  return (spStart(span) << TC_PAGE_SHIFT) + <u64>(load<u32>(OB(o) + O_PACKED) & OBJ_INDEX_MASK) * sizeOfClass(spClass(span));
}
// @ts-ignore: decorator
@inline export function obNext(o: u32): u32 { return load<u32>(OB(o) + O_NEXT); }
// @ts-ignore: decorator
@inline export function obSpan(o: u32): u32 {
  const s = load<u32>(OB(o) + O_PACKED) >> OBJ_INDEX_BITS;
  return s < WIDE_SPAN ? s : load<u32>(load<usize>(hs + P_WIDE) + (<usize>o << 2));
}
// Names span record `span` (>= WIDE_SPAN) for object record o in the side table.
function setWideSpan(o: u32, span: u32): void {
  let cap = load<u32>(hs + P_WIDE_CAP);
  if (o >= cap) {
    cap = max(o + 1, max(cap * 2, objPool().cap));
    store<usize>(hs + P_WIDE, resize(load<usize>(hs + P_WIDE), <usize>cap << 2));
    store<u32>(hs + P_WIDE_CAP, cap);
  }
  store<u32>(load<usize>(hs + P_WIDE) + (<usize>o << 2), span);
}
// @ts-ignore: decorator
@inline export function setObNext(o: u32, v: u32): void { store<u32>(OB(o) + O_NEXT, v); }

// An object record (a handle) for the object `index` of `span` (0 for a page-level block), 0 when
// the handle space is used up. Inline (central.ts popObject makes one per fresh object).
// @ts-ignore: decorator
@inline export function newObject(index: u32, span: u32): u32 {
  const pool = objPool();
  const o = takeRecordOf(pool, OBJ_BYTES, O_NEXT);
  if (!o) return 0;
  objs = pool.base;
  if (CHECKS) assert(index <= OBJ_INDEX_MASK, "tcmalloc: object index beyond the record's bits");
  if (span < WIDE_SPAN) {
    store<u32>(OB(o) + O_PACKED, (span << OBJ_INDEX_BITS) | index);
  } else {
    store<u32>(OB(o) + O_PACKED, (WIDE_SPAN << OBJ_INDEX_BITS) | index);
    setWideSpan(o, span);
  }
  store<u32>(OB(o) + O_NEXT, 0);
  return o;
}

export function dropObject(o: u32): void {
  store<u32>(OB(o) + O_PACKED, 0);
  dropRecordOf(objPool(), o, OBJ_BYTES, O_NEXT);
}

export function objectRecordsInUse(): u32 { return objPool().inUse; }

// ---------------------------------------------------------------- page map (u64 key → u32)

const M_ENTRY: usize = 16; // key u64, value u32, pad

// @ts-ignore: decorator
@inline function slotOf(key: u64, cap: u32): u32 {
  return <u32>((key * 0x9E3779B97F4A7C15) >> 40) & (cap - 1);
}

export function mapGet(key: u64): u32 {
  const cap = load<u32>(hs + P_MAP_CAP);
  if (!cap) return 0;
  const m = load<usize>(hs + P_MAP);
  let i = slotOf(key, cap);
  while (true) {
    const e = m + <usize>i * M_ENTRY;
    const k = load<u64>(e);
    if (k == key) return load<u32>(e, 8);
    if (k == 0) return 0;
    i = (i + 1) & (cap - 1);
  }
  return 0;
}

function mapGrow(): bool {
  const cap = load<u32>(hs + P_MAP_CAP);
  const old = load<usize>(hs + P_MAP);
  const ncap: u32 = cap ? cap * 2 : 1024;
  const m = resize(0, <usize>ncap * M_ENTRY);
  memory.fill(m, 0, <usize>ncap * M_ENTRY);
  for (let i: u32 = 0; i < cap; i++) {
    const e = old + <usize>i * M_ENTRY;
    const k = load<u64>(e);
    if (!k) continue;
    let j = slotOf(k, ncap);
    while (load<u64>(m + <usize>j * M_ENTRY)) j = (j + 1) & (ncap - 1);
    store<u64>(m + <usize>j * M_ENTRY, k);
    store<u32>(m + <usize>j * M_ENTRY, load<u32>(e, 8), 8);
  }
  if (old) heap.free(old);
  store<usize>(hs + P_MAP, m);
  store<u32>(hs + P_MAP_CAP, ncap);
  return true;
}

export function mapSet(key: u64, v: u32): void {
  let cap = load<u32>(hs + P_MAP_CAP);
  if ((load<u32>(hs + P_MAP_USED) + 1) * 2 > cap) { mapGrow(); cap = load<u32>(hs + P_MAP_CAP); }
  const m = load<usize>(hs + P_MAP);
  let i = slotOf(key, cap);
  while (true) {
    const e = m + <usize>i * M_ENTRY;
    const k = load<u64>(e);
    if (k == key) { store<u32>(e, v, 8); return; }
    if (k == 0) {
      store<u64>(e, key);
      store<u32>(e, v, 8);
      store<u32>(hs + P_MAP_USED, load<u32>(hs + P_MAP_USED) + 1);
      return;
    }
    i = (i + 1) & (cap - 1);
  }
}

// Deletes `key` if it maps to `v` (backward-shift deletion keeps probe chains whole).
export function mapDelete(key: u64, v: u32): void {
  const cap = load<u32>(hs + P_MAP_CAP);
  if (!cap) return;
  const m = load<usize>(hs + P_MAP);
  let i = slotOf(key, cap);
  while (true) {
    const e = m + <usize>i * M_ENTRY;
    const k = load<u64>(e);
    if (k == 0) return;
    if (k == key) break;
    i = (i + 1) & (cap - 1);
  }
  if (load<u32>(m + <usize>i * M_ENTRY, 8) != v) return;
  let hole = i;
  let j = i;
  while (true) {
    j = (j + 1) & (cap - 1);
    const e = m + <usize>j * M_ENTRY;
    const k = load<u64>(e);
    if (k == 0) break;
    const home = slotOf(k, cap);
    // Move k into the hole when its home slot is not cyclically within (hole, j].
    const between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!between) {
      const h = m + <usize>hole * M_ENTRY;
      store<u64>(h, k);
      store<u32>(h, load<u32>(e, 8), 8);
      hole = j;
    }
  }
  store<u64>(m + <usize>hole * M_ENTRY, 0);
  store<u32>(m + <usize>hole * M_ENTRY, 0, 8);
  store<u32>(hs + P_MAP_USED, load<u32>(hs + P_MAP_USED) - 1);
}

export function mapUsed(): u32 { return load<u32>(hs + P_MAP_USED); }

export function storeEngineBytes(): usize {
  return poolBytes(spanPool()) + poolBytes(objPool()) + <usize>load<u32>(hs + P_MAP_CAP) * M_ENTRY;
}
