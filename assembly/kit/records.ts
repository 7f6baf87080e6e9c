// === kit: the record pool ===
//
// Fixed-size records addressed by u32 index, in one table that doubles when full. Index 0 is
// "none", so a policy can use 0 as its null link. Dropped records go on a free list threaded
// through a u32 the policy names (linkOffset) and are handed out again first (LIFO). Indices stay
// valid across growth; addresses do not: re-derive recordAt(pool, n) after anything that may take a
// record (including a call into a parent heap, which may grow the parent's tables).
//
// A pool is a small struct: a static one per policy (every heap of the policy shares it), or one
// inside a heap's state (per-heap tables, e.g. pool's chunk records). The policy reads and writes
// the record's fields itself; the kit never looks inside a record except at linkOffset of a
// dropped one. The policy marks a dropped record as it likes (a kind or flag value) for its check().

import { hintLiveBlocks } from "./hint";
import { CHECKS } from "../checks";

@unmanaged export class RecordPool {
  base: usize;        // address of record 0 (aligned as asked)
  raw: usize;         // the allocation holding the table
  cap: u32;           // records the table holds
  high: u32;          // next never-used index (>= 1)
  free: u32;          // first dropped record, 0 = none
  recordBytes: u32;
  linkOffset: u32;    // where a dropped record keeps the next dropped index (u32)
  firstCap: u32;      // records of the first table
  limit: u32;         // largest index the pool hands out (a policy's handle bits)
  alignBytes: u32;    // table alignment (power of two; cache-line alignment for hot records)
  inUse: u32;         // records taken and not dropped
  pad: u32;
}
export const RECORD_POOL_BYTES: usize = offsetof<RecordPool>();

// A pool in static memory: `const RECS = staticPool(memory.data(RECORD_POOL_BYTES), ...)`.
export function initPool(p: RecordPool, recordBytes: u32, linkOffset: u32, firstCap: u32, alignBytes: u32 = 8, limit: u32 = 0xFFFFFFFF): RecordPool {
  p.base = 0; p.raw = 0; p.cap = 0; p.high = 1; p.free = 0; p.inUse = 0;
  p.recordBytes = recordBytes;
  p.linkOffset = linkOffset;
  p.firstCap = firstCap;
  p.alignBytes = alignBytes < 8 ? 8 : alignBytes;
  p.limit = limit;
  return p;
}

// @ts-ignore: decorator
@inline export function recordAt(p: RecordPool, n: u32): usize { return recordAtOf(p, n, <usize>p.recordBytes); }

// recordAt where the caller names the pool's record size, a constant (its initPool's): the index
// is scaled by the constant, not by p.recordBytes loaded from the pool and multiplied (V8 loads it
// again after every store to memory). The ...Of forms below take the link offset the same way.
// @ts-ignore: decorator
@inline export function recordAtOf(p: RecordPool, n: u32, recordBytes: usize): usize {
  if (CHECKS) assert(recordBytes == <usize>p.recordBytes, "kit records: record size differs from the pool's");
  return p.base + <usize>n * recordBytes;
}

// True when takeRecord would succeed (the limit is not reached).
export function canTakeRecord(p: RecordPool): bool { return p.free != 0 || p.high <= p.limit; }

// The index of the next record takeRecord hands out (0 when the limit is reached).
export function nextRecord(p: RecordPool): u32 { return p.free ? p.free : p.high <= p.limit ? p.high : 0; }

function grow(p: RecordPool): void {
  growTo(p, p.cap ? p.cap * 2 : p.firstCap);
}

function growTo(p: RecordPool, cap: u32): void {
  const bytes = <usize>cap * <usize>p.recordBytes;
  const align = <usize>p.alignBytes;
  const raw = heap.alloc(bytes + align);
  const base = (raw + align - 1) & ~(align - 1);
  if (p.raw) {
    memory.copy(base, p.base, <usize>p.high * <usize>p.recordBytes);
    heap.free(p.raw);
  }
  p.raw = raw;
  p.base = base;
  p.cap = cap;
}

// A record index (its bytes are whatever they were: the policy initialises every field), or 0 when
// the pool's limit is reached.
// @ts-ignore: decorator
@inline export function takeRecord(p: RecordPool): u32 { return takeRecordOf(p, <usize>p.recordBytes, <usize>p.linkOffset); }

// takeRecord with the pool's record size and link offset given as constants (recordAtOf).
// @ts-ignore: decorator
@inline export function takeRecordOf(p: RecordPool, recordBytes: usize, linkOffset: usize): u32 {
  if (CHECKS) assert(linkOffset == <usize>p.linkOffset, "kit records: link offset differs from the pool's");
  let n = p.free;
  if (n) {
    p.free = load<u32>(recordAtOf(p, n, recordBytes) + linkOffset);
  } else {
    n = p.high;
    if (n > p.limit) return 0;
    if (n >= p.cap) grow(p);
    p.high = n + 1;
  }
  p.inUse++;
  return n;
}

// @ts-ignore: decorator
@inline export function dropRecord(p: RecordPool, n: u32): void { dropRecordOf(p, n, <usize>p.recordBytes, <usize>p.linkOffset); }

// dropRecord with the pool's record size and link offset given as constants (recordAtOf).
// @ts-ignore: decorator
@inline export function dropRecordOf(p: RecordPool, n: u32, recordBytes: usize, linkOffset: usize): void {
  if (CHECKS) assert(linkOffset == <usize>p.linkOffset, "kit records: link offset differs from the pool's");
  store<u32>(recordAtOf(p, n, recordBytes) + linkOffset, p.free);
  p.free = n;
  p.inUse--;
}

// Makes the table hold at least `records` records (index 0 included) in one step: a policy that
// knows how many it will need (the replay's size hint, kit/hint.ts) takes one table of that size
// instead of doubling up to it, each doubling a copy of every record. Never shrinks the table;
// needing more later grows it as before, and the limit still caps the indices handed out.
export function reserveRecords(p: RecordPool, records: u32): void {
  if (records > p.cap) growTo(p, max(records, p.firstCap));
}

// reserveRecords for the replay's size hint (kit/hint.ts): `perLiveBlock` records for each block the
// replay keeps live at most. A policy calls it at create for its pools whose records follow the
// blocks (0 = no hint: nothing happens).
export function reserveForHint(p: RecordPool, perLiveBlock: u32): void {
  reserveRecords(p, hintLiveBlocks() * perLiveBlock);
}

// Engine bytes of the table (capacity, not use).
export function poolBytes(p: RecordPool): usize { return <usize>p.cap * <usize>p.recordBytes; }

// Gives the table back (a per-heap pool at heap destroy); the pool is empty afterwards.
export function releasePool(p: RecordPool): void {
  if (p.raw) heap.free(p.raw);
  p.base = 0; p.raw = 0; p.cap = 0; p.high = 1; p.free = 0; p.inUse = 0;
}

// For checks: is n on the free list? O(dropped records).
export function isDropped(p: RecordPool, n: u32): bool {
  let f = p.free;
  while (f) { if (f == n) return true; f = load<u32>(recordAt(p, f) + <usize>p.linkOffset); }
  return false;
}
