// === tcmalloc: per-heap state, span and object records, the page map ===
//
// Everything here is engine memory (the model's own records), never simulated heap memory.
// Each tcmalloc heap is a separate simulated process: its own state block, record pools and page
// map, all allocated with the engine's allocator and freed when the heap is destroyed.
//
// ╒═══ span record (SPAN_BYTES = 48) — gperftools' Span ══════════════════════════════╕
// │ 0 start u64            first tcmalloc page (address >> 13)                         │
// │ 8 length u32           pages                                                       │
// │ 12 location u8 (IN_USE, NORMAL, RETURNED, DEAD, HEAD) │ 13 sizeclass u8 │ 14-15 -  │
// │ 16 next u32 │ 20 prev u32   list links; in a large set: left / right children     │
// │ 24 objects u32         head of the explicit free-object list (object records)       │
// │ 28 refcount u32        objects handed out of the span                               │
// │ 32 fresh u32           objects carved so far; [fresh, nobj) are never handed out    │
// │ 36 nobj u32            objects in the span                                          │
// │ 40 prio u32            treap priority (large sets)                                  │
// │ 44 link u32            pool free list                                               │
// ╘═════════════════════════════════════════════════════════════════════════════════════╛
//   A span's free-object list is its explicit list followed by the never-handed-out objects in
//   address order: gperftools links every object of a new span in address order and always pushes
//   and pops at the head, so the untouched tail is always a run of fresh objects. Records for
//   objects are made when an object is first handed out.
//
// ╒═══ object record (OBJ_BYTES = 16): one small object, or one page-level block ═══╕
// │ 0 addr u64 │ 8 next u32 (free-list link) │ 12 span u32 (its span)               │
// ╘═════════════════════════════════════════════════════════════════════════════════╛
//   A handle is an object record index. The span's sizeclass tells the two kinds apart: 0 = a
//   page-level block (the record names its span), else a small object.
//
// Page map: open addressing (u64 key → u32 span), holding only the first and last page of every
// span (gperftools also fills interior pages and leaves stale entries, but merging reads only the
// pages next to a span's ends, which are always the ends of the neighbouring spans).

import { resize } from "../../mem";
import { MAX_HEAPS } from "../../abi";

export const SPAN_BYTES: usize = 48;
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
export const S_PRIO: usize = 40;
export const S_LINK: usize = 44;

export const IN_USE: u8 = 0;      // span.h: Span::IN_USE
export const ON_NORMAL: u8 = 1;   // span.h: Span::ON_NORMAL_FREELIST
export const ON_RETURNED: u8 = 2; // span.h: Span::ON_RETURNED_FREELIST
export const DEAD: u8 = 3;        // ours: record on the pool's free list
export const HEAD: u8 = 4;        // ours: a list head (gperftools' dummy Span of each list)

export const OBJ_BYTES: usize = 16;
export const O_ADDR: usize = 0;
export const O_NEXT: usize = 8;
export const O_SPAN: usize = 12;

// Handles must stay below 2^29 (the engine's id table packs them).
const MAX_RECORDS: u32 = (1 << 29) - 1;

// ---------------------------------------------------------------- the current heap

// Heap state block of the heap in use (set by use()); its layout is in state.ts.
export let hs: usize = 0;
export let owner: u8 = 0;
// Record pools and page map of the current heap (cached from its state block).
export let spans: usize = 0;
export let objs: usize = 0;

const heapBlocks = memory.data(MAX_HEAPS * 8); // usize per heap index

// Pool bookkeeping inside the state block (offsets 0..63 are reserved for it).
const P_SPANS: usize = 0;       // usize
const P_SPAN_CAP: usize = 8;    // u32
const P_SPAN_COUNT: usize = 12; // u32
const P_SPAN_FREE: usize = 16;  // u32
const P_OBJS: usize = 24;       // usize
const P_OBJ_CAP: usize = 32;    // u32
const P_OBJ_COUNT: usize = 36;  // u32
const P_OBJ_FREE: usize = 40;   // u32
const P_MAP: usize = 48;        // usize
const P_MAP_CAP: usize = 56;    // u32 (power of two)
const P_MAP_USED: usize = 60;   // u32
export const STORE_BYTES: usize = 64;

export function blockOf(heap: i32): usize { return load<usize>(heapBlocks + (<usize>heap << 3)); }
export function setBlock(heap: i32, b: usize): void { store<usize>(heapBlocks + (<usize>heap << 3), b); }

export function use(heap: i32): void {
  owner = <u8>heap;
  hs = blockOf(heap);
  spans = load<usize>(hs + P_SPANS);
  objs = load<usize>(hs + P_OBJS);
}

// Frees the pools and the page map of the current heap.
export function dropStore(): void {
  if (spans) heap.free(spans);
  if (objs) heap.free(objs);
  const m = load<usize>(hs + P_MAP);
  if (m) heap.free(m);
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
  let s = load<u32>(hs + P_SPAN_FREE);
  if (s) {
    store<u32>(hs + P_SPAN_FREE, spGet(s, S_LINK));
  } else {
    s = load<u32>(hs + P_SPAN_COUNT);
    let cap = load<u32>(hs + P_SPAN_CAP);
    if (s >= cap) {
      if (cap >= MAX_RECORDS) return 0;
      cap = cap ? cap * 2 : 1024;
      spans = resize(spans, <usize>cap * SPAN_BYTES);
      store<usize>(hs + P_SPANS, spans);
      store<u32>(hs + P_SPAN_CAP, cap);
    }
    if (s == 0) s = 1;
    store<u32>(hs + P_SPAN_COUNT, s + 1);
  }
  memory.fill(SP(s), 0, SPAN_BYTES);
  setSpStart(s, start);
  setSpLength(s, length);
  // Deterministic treap priority: a hash of the record index and a per-heap counter.
  let x = (s * 0x9E3779B1) ^ (load<u32>(hs + P_SPAN_COUNT) * 0x85EBCA77);
  x ^= x >> 15;
  spSet(s, S_PRIO, x * 0x2C1B3C6D);
  return s;
}

export function dropSpanRecord(s: u32): void {
  setSpLocation(s, DEAD);
  spSet(s, S_LINK, load<u32>(hs + P_SPAN_FREE));
  store<u32>(hs + P_SPAN_FREE, s);
}

export function spanRecordsInUse(): u32 {
  let free: u32 = 0;
  for (let s = load<u32>(hs + P_SPAN_FREE); s; s = spGet(s, S_LINK)) free++;
  const count = load<u32>(hs + P_SPAN_COUNT);
  return count ? count - 1 - free : 0;
}
export function spanRecordCount(): u32 { const c = load<u32>(hs + P_SPAN_COUNT); return c ? c - 1 : 0; }

// ---------------------------------------------------------------- object records

// @ts-ignore: decorator
@inline export function OB(o: u32): usize { return objs + <usize>o * OBJ_BYTES; }
// @ts-ignore: decorator
@inline export function obAddr(o: u32): u64 { return load<u64>(OB(o) + O_ADDR); }
// @ts-ignore: decorator
@inline export function obNext(o: u32): u32 { return load<u32>(OB(o) + O_NEXT); }
// @ts-ignore: decorator
@inline export function obSpan(o: u32): u32 { return load<u32>(OB(o) + O_SPAN); }
// @ts-ignore: decorator
@inline export function setObNext(o: u32, v: u32): void { store<u32>(OB(o) + O_NEXT, v); }

export function newObject(addr: u64, span: u32): u32 {
  let o = load<u32>(hs + P_OBJ_FREE);
  if (o) {
    store<u32>(hs + P_OBJ_FREE, obNext(o));
  } else {
    o = load<u32>(hs + P_OBJ_COUNT);
    let cap = load<u32>(hs + P_OBJ_CAP);
    if (o >= cap) {
      if (cap >= MAX_RECORDS) return 0;
      cap = cap ? (cap * 2 < MAX_RECORDS ? cap * 2 : MAX_RECORDS) : 4096;
      objs = resize(objs, <usize>cap * OBJ_BYTES);
      store<usize>(hs + P_OBJS, objs);
      store<u32>(hs + P_OBJ_CAP, cap);
    }
    if (o == 0) o = 1;
    if (o >= cap) return 0;
    store<u32>(hs + P_OBJ_COUNT, o + 1);
  }
  store<u64>(OB(o) + O_ADDR, addr);
  store<u32>(OB(o) + O_NEXT, 0);
  store<u32>(OB(o) + O_SPAN, span);
  return o;
}

export function dropObject(o: u32): void {
  store<u32>(OB(o) + O_SPAN, 0);
  setObNext(o, load<u32>(hs + P_OBJ_FREE));
  store<u32>(hs + P_OBJ_FREE, o);
}

export function objectRecordCount(): u32 { const c = load<u32>(hs + P_OBJ_COUNT); return c ? c - 1 : 0; }

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
  return <usize>load<u32>(hs + P_SPAN_CAP) * SPAN_BYTES + <usize>load<u32>(hs + P_OBJ_CAP) * OBJ_BYTES +
    <usize>load<u32>(hs + P_MAP_CAP) * M_ENTRY;
}
