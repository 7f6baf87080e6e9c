// === Pointer → dense block id, inside WASM, for the text readers ===
//
// The rules of src/trace/address-map.ts AddressMapper, step for step. The per-id records, the
// counts and the "does it fit" checks are the trace ledger's (trace/ledger.ts, the one the `.hst`
// decoder keeps), so a text trace and a `.hst` trace are judged by the same code. What each call
// did is written to the output buffer in one of two forms, chosen at mapBegin:
// - op records (OUT_OPS): the engine's 16-byte ops for heap 0, as trace/hst.ts writes them; the
//   host copies them into its batches and reads the counts from this ledger
//   (src/trace/formats/text-wasm.ts with a WasmLedger). This is the replay's path.
// - id events (OUT_EVENTS): the host applies them in order to its own Ledger, which forwards them
//   to any consumer (stats, convert, advise). Here the WASM ledger only answers the map's checks.
// In the op form, direct mode (mapDirect) applies the ops to this instance's engine, as
// trace/hst.ts's direct mode does: they are written to the output buffer all the same and applied
// from there in runs (engine.ts traceRun, heap 0's policy's own batch loop) before every return to
// the host and before a resize rewrites the size the engine's realloc reads (applyOps): the
// one-instance replay of an mtrace trace (test/trace/text-direct.test.ts holds it to the op-record
// path).
// test/trace/text-wasm.test.ts holds both forms to the JavaScript reader (the reference).
//
// ╒═══ event (24 bytes) ═══════════════════════════════╕
// │ 0 u32 kind │ 4 i32 id or reason │ 8 i32 caller │ 12 pad │
// │ 16 f64 requested bytes (exact: at most 2^47)          │
// ╘═══════════════════════════════════════════════════════╛
// Addresses are exact u64 values (the tables below): the host's stand-in keys for pointers of 2^53
// and above are not needed here, and distinct pointers still never share a slot. Entries are never
// removed (a freed address keeps FREED, so its second free is a double free), as on the host.

import { Op } from "../../abi";
import { traceBegin, traceRun, inReplayMode } from "../../engine";
import * as L from "../ledger";
import { MAX_BLOCK_ID, MAX_REQUEST_BYTES, NO_CALLER } from "../ledger";
import { SKIP_DOUBLE_FREE, SKIP_FAILED_ALLOC, SKIP_FREE_NULL, SKIP_UNMATCHED_FREE, SKIP_UNMATCHED_REALLOC } from "../events";
import { allocZeroed } from "../zeroed";

// Event kinds (src/trace/formats/text-wasm.ts EV_*).
export const EV_ALLOC: u32 = 1;
export const EV_CALLOC: u32 = 2;
export const EV_REALLOC: u32 = 3;
export const EV_UNTRACED_REALLOC: u32 = 4;
export const EV_FREE: u32 = 5;
export const EV_IMPLICIT_FREE: u32 = 6;
export const EV_SKIP: u32 = 7;
export const EV_REFUSE: u32 = 8;

// Output forms (src/trace/formats/text-wasm.ts OUT_*).
export const OUT_EVENTS: i32 = 0;
export const OUT_OPS: i32 = 1;

export const EVENT_BYTES: usize = 24;
const OP_BYTES: usize = 16;                           // engine op record (abi.ts), as trace/hst.ts emits
const EV_KIND: usize = 0;
const EV_ID: usize = 4;
const EV_CALLER: usize = 8;
const EV_SIZE: usize = 16;
/** Records one mapper call writes at most (an implicit free and the realloc). */
export const MAX_EVENTS_PER_CALL: i32 = 2;
const FREE_IMPLICIT: u32 = 1;                         // abi.ts FREE arg bit 0

const FREED: i32 = -1;
const ABSENT: i32 = -2;
const SLOT_BYTES: usize = 16;
const SLOT_ID: usize = 8;
/** Largest free-id stack mapReserve makes: 2 M ids (8 MiB). */
const HINT_MAX_IDS: i32 = 1 << 21;
/** Shortest mtrace line that names a new address: `+ 0x55d0c5a4a2a0 0x1` and its newline (%p of an x86-64 heap pointer). */
const MIN_ADDRESS_LINE_BYTES: f64 = 21;
const INITIAL_IDS: i32 = 1 << 12;
const HASH_MULTIPLIER: u64 = 0x9e3779b97f4a7c15;      // 2^64 / golden ratio: multiplicative hashing
const ALIGN_BITS: u64 = 4;                            // addresses are 16-byte aligned: low bits carry nothing
const MAX_REQUEST_F64: f64 = <f64>MAX_REQUEST_BYTES;

let freeIds: usize = 0;          // i32 stack
let freeCount: i32 = 0;
let freeCap: i32 = 0;
let nextId: i32 = 0;
/** An allocation needed a block id above MAX_BLOCK_ID: the map stopped (the host says why). */
let idOverflow: bool = false;

let out: usize = 0;
let outCap: i32 = 0;
let outCount: i32 = 0;
let opsOut: bool = false;
/**
 * Direct mode (mapDirect): ops go to this instance's engine instead of the host. They are written
 * to the output buffer as in the other mode and applied from there in runs (applyOps), so a host
 * call applies at most as many ops (and takes at most as many samples) as the buffer holds
 * records, and stops at the same points.
 */
let direct: bool = false;
/** Direct mode: the ops [0, applied) of this host call are applied to the engine. */
let applied: i32 = 0;

// ---------------------------------------------------------------- the address tables
//
// Every address has one place, decided when it is first stored and never changed:
// - the direct map holds the addresses that are multiples of 16 in one of the first MAX_REGIONS
//   4 GiB regions seen (the address's top 32 bits): every heap address of a 64-bit glibc trace
//   (malloc returns multiples of 16; a program's heap and mappings lie in a few regions). A
//   region's offsets in 16-byte units (28 bits) index three levels: the region's top (TOP_SLOTS
//   mid addresses), a mid (MID_SLOTS leaf addresses), a leaf (LEAF_SLOTS u32 values: 0 absent,
//   else the value + 2; FREED is 1). A leaf covers 16 KiB of addresses in one 4 KiB page, and a
//   program's heap is dense: CPython's 1.57 M distinct heap addresses lie in 71.5 MiB, 4,575
//   leaves, where a hash table of 8-byte slots at most half full touched 8,043 pages (each first
//   touch of a page is a page fault, ~17 us here: docs/performance.md). A window gets a leaf
//   only while the leaves hold LEAF_MIN_ADDRESSES addresses each on average (beyond the first
//   LEAF_ALLOWANCE): the addresses of a window past that (a trace of scattered mappings) go to
//   the general table, and its mid slot says so (TO_GENERAL) for the window's later addresses;
//   mids likewise (MID_ALLOWANCE, MID_MIN_ADDRESSES; a top slot of TO_GENERAL);
// - the general table (16-byte slots: the exact u64 address, the value; open addressing with
//   linear probing, at most half full) holds every other address.
//
// ╒═══ leaf slot (u32) ═══════════════════╕  ╒═══ general slot (16 bytes) ═════════════════════╕
// │ 0 absent │ 1 FREED │ id + 2           │  │ 0 u64 address (0: empty) │ 8 i32 value │ 12 pad │
// ╘═══════════════════════════════════════╛  ╘═══════════════════════════════════════════════════╛

const REGION_SHIFT: u64 = 32;                         // a region is 4 GiB: offsets / 16 fill 28 bits
const REGION_OFFSET_MASK: u64 = (<u64>1 << REGION_SHIFT) - 1;
const ALIGN_MASK: u64 = (<u64>1 << ALIGN_BITS) - 1;
const MAX_REGIONS: u32 = 255;                         // at most half of the region lookup table
const REGION_SLOTS_LOG2: u32 = 9;                     // region lookup table: at most half full
const REGION_SLOT_BYTES: usize = 16;                  // u64 region + 1 (0: empty), u32 its top
const REGION_TOP: usize = 8;
const LEAF_BITS: u32 = 10;                            // a leaf: 1,024 values, one 4 KiB page
const MID_BITS: u32 = 10;                             // a mid: 1,024 leaves, one page, 16 MiB of addresses
const TOP_BITS: u32 = 28 - LEAF_BITS - MID_BITS;      // a top: the rest of a region's 28 offset bits
const LEAF_MASK: u32 = (1 << LEAF_BITS) - 1;
const MID_MASK: u32 = (1 << MID_BITS) - 1;
const TOP_BYTES: usize = (<usize>1 << TOP_BITS) << 2;
const PAGE_BYTES: usize = 4096;                       // a leaf or a mid, page-aligned
const PAGE_MASK: usize = PAGE_BYTES - 1;
/** Leaves and mids are cut from zeroed blocks of this many pages (+ one to align them, and a link). */
const BLOCK_PAGES: usize = 64;
const BLOCK_BYTES: usize = (BLOCK_PAGES + 1) * PAGE_BYTES;
const BLOCK_LINK: usize = BLOCK_BYTES - 8;            // the previous block's address (the reset frees them)
/** Top or mid slot of a window whose addresses are in the general table (never a page's address). */
const TO_GENERAL: u32 = 1;
/** Leaves made whatever their fill, and the addresses a leaf must hold on average for more. */
const LEAF_ALLOWANCE: u32 = 64;
const LEAF_MIN_ADDRESSES: u32 = 32;
/** The same for mids (a mid's 16 MiB of addresses; CPython's heap takes 5). */
const MID_ALLOWANCE: u32 = 16;
const MID_MIN_ADDRESSES: u32 = 64;
const STORED_BIAS: i32 = 2;                           // leaf value = value + 2 (FREED = -1 -> 1; 0 absent)
const GENERAL_INITIAL_SLOTS_LOG2: u32 = 6;            // few addresses are not in the direct map

class Table {
  base: usize = 0;
  log2: u32 = 0;
  mask: u32 = 0;
  used: u32 = 0;
}
const general = new Table();
const regionSlots = memory.data(<i32>((<usize>1 << REGION_SLOTS_LOG2) * REGION_SLOT_BYTES));
let regionCount: u32 = 0;
let lastRegion: u64 = u64.MAX_VALUE;                  // a one-entry cache of the region lookup
let lastTop: usize = 0;
let directUsed: u32 = 0;                              // addresses in the direct map
let leafCount: u32 = 0;
let midCount: u32 = 0;
let block: usize = 0;                                 // the block pages are cut from (0: none)
let blockNext: usize = 0;                             // its next free page
let blockEnd: usize = 0;

function allocTable(t: Table, log2: u32, slotBytes: usize): void {
  const base = allocZeroed((<usize>1 << log2) * slotBytes);
  t.base = base;
  t.log2 = log2;
  t.mask = (1 << log2) - 1;
}

/** A zeroed page for a leaf or a mid: its first touch is its first store. */
function directPage(): usize {
  if (blockNext == blockEnd) {
    const b = allocZeroed(BLOCK_BYTES);
    store<usize>(b + BLOCK_LINK, block);
    block = b;
    blockNext = (b + PAGE_MASK) & ~PAGE_MASK;
    blockEnd = blockNext + BLOCK_PAGES * PAGE_BYTES;
  }
  const p = blockNext;
  blockNext += PAGE_BYTES;
  return p;
}

/**
 * Room for the free ids of a trace of `contentBytes` bytes, once, before the first call (the
 * host's hint: the file's size, or a gzip member's uncompressed size; never trusted beyond
 * HINT_MAX_IDS): every distinct address took at least one line of MIN_ADDRESS_LINE_BYTES.
 */
export function mapReserve(contentBytes: f64): void {
  if (directUsed + general.used != 0 || !(contentBytes > 0)) return;
  reserveFreeIds(<i32>Math.min(contentBytes / MIN_ADDRESS_LINE_BYTES, <f64>HINT_MAX_IDS));
}

/**
 * Room for `ids` free ids at once (mapReserve, before the first call): an id is freed only after
 * its address was named, so the hint's address count bounds them. The stack then never doubles,
 * which copied it whole into new pages each time (an mtrace of CPython frees nearly all its 1.2 M
 * ids by the end: 1,150 page faults of copies); its pages are touched only as far as it fills.
 */
function reserveFreeIds(ids: i32): void {
  if (ids <= freeCap || freeCount != 0) return;
  heap.free(freeIds);
  freeCap = ids;
  freeIds = heap.alloc(<usize>freeCap << 2);
}

function resetTables(): void {
  for (let i: usize = 0; i < (<usize>1 << REGION_SLOTS_LOG2); i++) {
    const r = regionSlots + i * REGION_SLOT_BYTES;
    if (load<u64>(r) != 0) heap.free(<usize>load<u32>(r, REGION_TOP));
  }
  while (block != 0) {
    const previous = load<usize>(block + BLOCK_LINK);
    heap.free(block);
    block = previous;
  }
  blockNext = 0;
  blockEnd = 0;
  directUsed = 0;
  leafCount = 0;
  midCount = 0;
  if (general.base != 0) heap.free(general.base);
  allocTable(general, GENERAL_INITIAL_SLOTS_LOG2, SLOT_BYTES);
  general.used = 0;
  memory.fill(regionSlots, 0, (<usize>1 << REGION_SLOTS_LOG2) * REGION_SLOT_BYTES);
  regionCount = 0;
  lastRegion = u64.MAX_VALUE;
  lastTop = 0;
}

/**
 * Home slot of an address in the general table: the address itself (in 16-byte units) modulo the
 * table size, XORed with a hash of the bits above. An allocator hands out addresses near the ones
 * it just used, and within one table-sized span of addresses this keeps their slots as near
 * (sharing cache lines) and distinct (no collisions); a fully hashed table misses the cache on
 * nearly every call. Addresses of different spans, or that agree in their low bits, still spread
 * over the table.
 */
// @ts-ignore: decorator
@inline function slotOf(key: u64, t: Table): u32 {
  const span = (key >> (ALIGN_BITS + <u64>t.log2)) * HASH_MULTIPLIER;
  return (<u32>(key >> ALIGN_BITS) ^ <u32>(span >> 32)) & t.mask;
}

/** The top of `key`'s region in the direct map, or 0 when the address is not for the direct map. */
function regionTop(key: u64): usize {
  if ((key & ALIGN_MASK) != 0) return 0;
  const region = key >> REGION_SHIFT;
  if (region != lastRegion) {
    // The region's top, made now if there is room (a region is numbered at its first address).
    let i = <u32>((region * HASH_MULTIPLIER) >> (64 - <u64>REGION_SLOTS_LOG2));
    const mask: u32 = (1 << REGION_SLOTS_LOG2) - 1;
    let top: usize = 0;
    for (;;) {
      const r = regionSlots + <usize>i * REGION_SLOT_BYTES;
      const k = load<u64>(r);
      if (k == region + 1) { top = <usize>load<u32>(r, REGION_TOP); break; }
      if (k == 0) {
        if (regionCount == MAX_REGIONS) return 0; // stays in the general table, as its neighbours
        regionCount++;
        top = allocZeroed(TOP_BYTES);
        store<u64>(r, region + 1);
        store<u32>(r, <u32>top, REGION_TOP);
        break;
      }
      i = (i + 1) & mask;
    }
    lastRegion = region;
    lastTop = top;
  }
  return lastTop;
}

// Where the last lookup() ended: the address's place, or where it would go.
const AT_GENERAL: i32 = 0;      // `at`: its general table slot, or the empty slot for it
const AT_LEAF: i32 = 1;         // `at`: its leaf slot
const AT_NO_LEAF: i32 = 2;      // the direct map's, in a window without a leaf yet (atTop, atOffset)
let at: usize = 0;
let atPlace: i32 = AT_GENERAL;
let atKey: u64 = 0;             // the address
let atTop: usize = 0;
let atOffset: u32 = 0;          // in the region, in 16-byte units

/** The value stored for `key` in the general table, or ABSENT; remembers its slot. */
function lookupGeneral(key: u64): i32 {
  const t = general;
  let i = slotOf(key, t);
  let s = t.base + <usize>i * SLOT_BYTES;
  let k = load<u64>(s);
  while (k != key && k != 0) {
    i = (i + 1) & t.mask;
    s = t.base + <usize>i * SLOT_BYTES;
    k = load<u64>(s);
  }
  at = s;
  atPlace = AT_GENERAL;
  return k == 0 ? ABSENT : load<i32>(s, SLOT_ID);
}

/** The value stored for `key` (an id or FREED), or ABSENT; remembers its place for storeValue()/insertValue(). */
function lookup(key: u64): i32 {
  atKey = key;
  const top = regionTop(key);
  if (top != 0) {
    const g = <u32>((key & REGION_OFFSET_MASK) >> ALIGN_BITS);
    const mid = load<u32>(top + (<usize>(g >> (LEAF_BITS + MID_BITS)) << 2));
    const leaf: u32 = mid > TO_GENERAL ? load<u32>(<usize>mid + (<usize>((g >> LEAF_BITS) & MID_MASK) << 2)) : mid;
    if (leaf > TO_GENERAL) {
      const s = <usize>leaf + (<usize>(g & LEAF_MASK) << 2);
      at = s;
      atPlace = AT_LEAF;
      const v = load<u32>(s);
      return v == 0 ? ABSENT : <i32>v - STORED_BIAS;
    }
    if (leaf == 0) {
      atPlace = AT_NO_LEAF;
      atTop = top;
      atOffset = g;
      return ABSENT;
    }
  }
  return lookupGeneral(key);
}

/** Stores `value` for the address the last lookup() found. */
// @ts-ignore: decorator
@inline function storeValue(value: i32): void {
  if (atPlace == AT_LEAF) store<u32>(at, <u32>(value + STORED_BIAS));
  else store<i32>(at, value, SLOT_ID);
}

/** Stores the address the last lookup() did not find, with `value` (a leaf may be made, the general table may grow). */
function insertValue(value: i32): void {
  if (atPlace == AT_NO_LEAF) {
    const midSlot = atTop + (<usize>(atOffset >> (LEAF_BITS + MID_BITS)) << 2);
    let mid = <usize>load<u32>(midSlot);
    if (mid == 0) {
      if (midCount < MID_ALLOWANCE || directUsed >= midCount * MID_MIN_ADDRESSES) {
        mid = directPage();
        midCount++;
      } else mid = TO_GENERAL;
      store<u32>(midSlot, <u32>mid);
    }
    const leafSlot = mid + (<usize>((atOffset >> LEAF_BITS) & MID_MASK) << 2);
    if (mid != TO_GENERAL && (leafCount < LEAF_ALLOWANCE || directUsed >= leafCount * LEAF_MIN_ADDRESSES)) {
      const leaf = directPage();
      leafCount++;
      store<u32>(leafSlot, <u32>leaf);
      at = leaf + (<usize>(atOffset & LEAF_MASK) << 2);
      atPlace = AT_LEAF;
    } else {
      if (mid != TO_GENERAL) store<u32>(leafSlot, TO_GENERAL);
      lookupGeneral(atKey);
    }
  }
  if (atPlace == AT_LEAF) {
    store<u32>(at, <u32>(value + STORED_BIAS));
    directUsed++;
  } else {
    store<u64>(at, atKey);
    store<i32>(at, value, SLOT_ID);
    if (++general.used > (general.mask + 1) >> 1) growGeneral();
  }
}

function growGeneral(): void {
  const old = general.base;
  const oldCount: usize = <usize>general.mask + 1;
  allocTable(general, general.log2 + 1, SLOT_BYTES);
  for (let j: usize = 0; j < oldCount; j++) {
    const o = old + j * SLOT_BYTES;
    const k = load<u64>(o);
    if (k == 0) continue;
    let i = slotOf(k, general);
    let s = general.base + <usize>i * SLOT_BYTES;
    while (load<u64>(s) != 0) {
      i = (i + 1) & general.mask;
      s = general.base + <usize>i * SLOT_BYTES;
    }
    store<u64>(s, k);
    store<i32>(s, load<i32>(o, SLOT_ID), SLOT_ID);
  }
  heap.free(old);
}

/** The value stored for `key`, or ABSENT. */
// @ts-ignore: decorator
@inline function get(key: u64): i32 { return lookup(key); }

/** Stores `value` for `key`, known or not. */
function set(key: u64, value: i32): void {
  if (lookup(key) == ABSENT) insertValue(value);
  else storeValue(value);
}
/**
 * Starts a new trace (the trace ledger starts empty too); `outRecords`: room of the output buffer,
 * `form`: OUT_EVENTS or OUT_OPS. Returns the buffer's address.
 */
export function mapBegin(outRecords: i32, form: i32): usize {
  L.ledgerReset();
  resetTables();
  if (freeIds != 0) heap.free(freeIds);
  freeCap = INITIAL_IDS;
  freeIds = heap.alloc(<usize>freeCap << 2);
  freeCount = 0;
  nextId = 0;
  idOverflow = false;
  opsOut = form == OUT_OPS;
  direct = false;
  if (out != 0) heap.free(out);
  outCap = outRecords;
  out = heap.alloc(<usize>outCap * EVENT_BYTES); // room for either form (an op is smaller)
  outCount = 0;
  return out;
}

/**
 * Direct mode on (1) or off (0), op form only: the ops of the calls from now on are applied to
 * this instance's heap 0 (in runs, engine.ts traceRun, before each return), and the host takes none. As in
 * trace/hst.ts hstDirect, the engine keeps its id entries in the ledger's records (before any op
 * named an id) when it runs in replay mode. The host reads the samples after every call that may
 * apply ops (mapEnter starts them afresh there).
 */
export function mapDirect(on: i32): void {
  direct = opsOut && on != 0;
  if (direct && inReplayMode()) L.ledgerShareWithEngine();
}

/** Start of a host call that may make records: in direct mode a new stretch of the engine's samples. */
// @ts-ignore: decorator
@inline export function mapEnter(): void {
  if (direct) { traceBegin(); outCount = 0; applied = 0; }
}

/**
 * Direct mode: the ops written since the last run applied to the engine, in order (engine.ts
 * traceRun). The engine reads its own state and, with shared id records (ledgerShareWithEngine),
 * the ledger's record of an id for its entry word and, in a realloc, the old requested bytes (an
 * allocation and a free take theirs from the op): so a run is applied before every return to the
 * host (mapLeave) and before resized() writes a new size, and nowhere else, as in trace/hst.ts.
 */
function applyOps(): void {
  if (applied < outCount) {
    traceRun(out, applied, outCount);
    applied = outCount;
  }
}

/** End of a host call that may have made records: in direct mode its ops are applied (the host reads the engine next). */
// @ts-ignore: decorator
@inline export function mapLeave(): void {
  if (direct) applyOps();
}

/** Records (events or ops) written since the last mapTaken(). */
export function mapEvents(): i32 { return outCount; }
/** The event buffer's address (fixed after mapBegin). */
export function mapOut(): usize { return out; }
/** The host has applied every event: the buffer starts empty again. */
export function mapTaken(): void { outCount = 0; }
/** True when another mapper call may not find room in the output buffer, or the map has stopped. */
// @ts-ignore: decorator
@inline export function outNearlyFull(): bool { return outCount > outCap - MAX_EVENTS_PER_CALL || idOverflow; }
/** 1 when an allocation needed a block id above MAX_BLOCK_ID (the map took no call since). */
export function mapIdOverflow(): i32 { return idOverflow ? 1 : 0; }
/** Distinct addresses remembered (live or freed): the host mapper's addressesSeen. */
export function mapAddressesSeen(): u32 { return directUsed + general.used; }

// An id event (OUT_EVENTS form).
// @ts-ignore: decorator
@inline function event(kind: u32, id: i32, caller: i32, sizeBytes: u64): void {
  const e = out + <usize>outCount * EVENT_BYTES;
  store<u32>(e, kind, EV_KIND);
  store<i32>(e, id, EV_ID);
  store<i32>(e, caller, EV_CALLER);
  store<f64>(e, <f64>sizeBytes, EV_SIZE);
  outCount++;
}

// An op record for heap 0 (OUT_OPS form; trace/hst.ts emit). A FREE's bytes are for the direct
// engine only (it takes a free's size from its op when it shares the ledger's records, ids.ts
// idTake); the host's records keep 0 there, as its own reader writes.
// @ts-ignore: decorator
@inline function op(opcode: u32, arg: u32, id: u32, sizeBytes: u64): void {
  const p = out + <usize>outCount * OP_BYTES;
  store<u32>(p, opcode | (arg << 16));   // heap 0
  store<u32>(p, id, 4);
  store<u64>(p, opcode == <u32>Op.FREE && !direct ? 0 : sizeBytes, 8);
  outCount++;
}

/** The ledger's fits() for a size the host holds as a number (Infinity from 2^53 on). */
// @ts-ignore: decorator
@inline function fits(sizeBytes: f64): bool {
  return sizeBytes <= MAX_REQUEST_F64 && L.fits(<u64>sizeBytes, 1);
}

/** The ledger's fitsResize() for live block `id`. */
// @ts-ignore: decorator
@inline function fitsResize(id: i32, sizeBytes: f64): bool {
  return sizeBytes <= MAX_REQUEST_F64 && L.fitsResize(<u32>id, <u64>sizeBytes);
}

// ---------------------------------------------------------------- what the ledger does, and its record
// Each is the host Ledger's method of the same name (src/trace/ledger.ts), through the trace
// ledger's functions as trace/hst.ts calls them, and the record of it in the chosen form, in
// trace/hst.ts's order (the ledger's record first, except for a resize, whose op comes first): in
// direct mode the engine reads a realloc's old requested bytes from the ledger's record, which
// resized writes after the engine's realloc read it; an allocation's and a free's bytes are their
// op's size (a FREE op carries what the ledger's freed/implicitFreed return).

/** A call that changed nothing (one event). */
function skip(reason: u32): void {
  L.skipped(reason);
  if (opsOut) op(<u32>Op.SKIP, 0, 0, 1);
  else event(EV_SKIP, <i32>reason, NO_CALLER, 0);
}

/** An allocation no architecture can serve: a failed allocation, counted as oversize. */
function refuse(): void {
  L.refused();
  if (opsOut) op(<u32>Op.SKIP, 0, 0, 1);
  else event(EV_REFUSE, 0, NO_CALLER, 0);
}

/** A new block at `id` (fits checked): kind EV_ALLOC, EV_CALLOC or EV_UNTRACED_REALLOC. */
function allocated(kind: u32, id: i32, size: u64, caller: i32): void {
  // An allocation into a live id frees the older block first (not an event).
  const r = L.recordAt(<u64>id);
  if (L.isLiveAt(r)) {
    const freedBytes = L.implicitFreedAt(<u32>id, r);
    if (opsOut) op(<u32>Op.FREE, FREE_IMPLICIT, <u32>id, freedBytes);
  }
  if (kind == EV_ALLOC) L.allocs++;
  else if (kind == EV_CALLOC) L.callocs++;
  else { L.reallocs++; L.untracedReallocs++; }
  L.bornAt(<u32>id, r, size, caller, kind == EV_UNTRACED_REALLOC);
  if (opsOut) op(kind == EV_CALLOC ? <u32>Op.CALLOC : <u32>Op.ALLOC, 0, <u32>id, size);
  else event(kind, id, caller, size);
}

function freed(id: i32): void {
  const freedBytes = L.freed(<u32>id);
  if (opsOut) op(<u32>Op.FREE, 0, <u32>id, freedBytes);
  else event(EV_FREE, id, NO_CALLER, 0);
}

function implicitlyFreed(id: i32): void {
  const freedBytes = L.implicitFreed(<u32>id);
  if (opsOut) op(<u32>Op.FREE, FREE_IMPLICIT, <u32>id, freedBytes);
  else event(EV_IMPLICIT_FREE, id, NO_CALLER, 0);
}

function resized(id: i32, size: u64, caller: i32): void {
  L.reallocs++;
  if (opsOut) {
    op(<u32>Op.REALLOC, 0, <u32>id, size);
    if (direct) applyOps(); // the engine's realloc reads the old size, which L.resized rewrites
  } else event(EV_REALLOC, id, caller, size);
  L.resized(<u32>id, size, caller);
}

// ---------------------------------------------------------------- ids

/** The id for a block at `key`; -1 (and idOverflow set) when none is left below MAX_BLOCK_ID. */
function newId(key: u64): i32 {
  const old = lookup(key);
  // An address handed out while the trace still has it live: the same id (the ledger frees the
  // older block first).
  if (old >= 0) return old;
  let id: i32;
  if (freeCount > 0) {
    freeCount--;
    id = load<i32>(freeIds + (<usize>freeCount << 2));
  } else {
    if (<u64>nextId > MAX_BLOCK_ID) { idOverflow = true; return -1; }
    id = nextId++;
  }
  if (old == FREED) storeValue(id);
  else insertValue(id);
  return id;
}

function releaseId(id: i32): void {
  if (freeCount == freeCap) {
    freeCap <<= 1;
    freeIds = heap.realloc(freeIds, <usize>freeCap << 2);
  }
  store<i32>(freeIds + (<usize>freeCount << 2), id);
  freeCount++;
}

// ---------------------------------------------------------------- the mapper's calls

/** malloc (kind EV_ALLOC) or calloc (EV_CALLOC) returning `pointer` (0: the call failed). */
export function mapAlloc(kind: u32, pointer: u64, sizeBytes: f64, caller: i32): void {
  if (pointer == 0) return skip(SKIP_FAILED_ALLOC);
  if (!fits(sizeBytes)) return refuse();
  const id = newId(pointer);
  if (id < 0) return;
  allocated(kind, id, <u64>sizeBytes, caller);
}

export function mapFree(pointer: u64): void {
  if (pointer == 0) return skip(SKIP_FREE_NULL);
  const id = lookup(pointer);
  if (id == ABSENT) return skip(SKIP_UNMATCHED_FREE);
  if (id == FREED) return skip(SKIP_DOUBLE_FREE);
  storeValue(FREED); // before freed(), which does not touch the tables: the slot is the one just found
  freed(id);
  releaseId(id);
}

/** realloc(oldPointer, sizeBytes) returning newPointer, with the host mapper's C semantics. */
export function mapRealloc(oldPointer: u64, newPointer: u64, sizeBytes: f64, caller: i32): void {
  if (oldPointer == 0) return mapAlloc(EV_ALLOC, newPointer, sizeBytes, caller);
  if (sizeBytes == 0) return mapFree(oldPointer);
  const id = get(oldPointer);
  if (id == FREED) return skip(SKIP_DOUBLE_FREE);
  if (newPointer == 0) return skip(id == ABSENT ? SKIP_UNMATCHED_REALLOC : SKIP_FAILED_ALLOC);
  if (id == ABSENT) {
    // A pointer the trace never saw: the program got a block of the new size at newPointer.
    if (!fits(sizeBytes)) return refuse();
    const created = newId(newPointer);
    if (created < 0) return;
    allocated(EV_UNTRACED_REALLOC, created, <u64>sizeBytes, caller);
    return;
  }
  if (!fitsResize(id, sizeBytes)) return refuse();
  if (newPointer != oldPointer) {
    const other = get(newPointer);
    // newPointer still live as another block: a free the trace did not show; free it first.
    if (other >= 0) {
      implicitlyFreed(other);
      releaseId(other);
    }
    set(oldPointer, FREED);
    set(newPointer, id);
  }
  resized(id, <u64>sizeBytes, caller);
}

/** An allocator call that happened but whose outcome the trace does not show. */
export function mapSkip(reason: u32): void {
  skip(reason);
}
