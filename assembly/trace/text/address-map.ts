// === Pointer → dense block id, inside WASM, for the text readers ===
//
// The rules of src/trace/address-map.ts AddressMapper, step for step, with the checks of the host
// ledger it consults (src/trace/ledger.ts fits, fitsResize): the host ledger stays the authority
// for every count, and this side keeps only what the mapper's decisions need, i.e. the table of
// addresses, the free-id stack, and each id's size and liveness (so that "does it fit" is answered
// here with the ledger's own arithmetic). Each decision is written as an id event into the output
// buffer; the host reads the events in order and applies them to its ledger
// (src/trace/formats/text-wasm.ts). test/trace/text-wasm.test.ts holds the two mappers to the same
// events on fixtures and random line streams.
//
// ╒═══ address slot (16 bytes) ═══════════════════════════╕   ╒═══ event (24 bytes) ═══════════════════════════════╕
// │ 0 u64 address (0: empty) │ 8 i32 id or FREED │ 12 pad │   │ 0 u32 kind │ 4 i32 id or reason │ 8 i32 caller │ 12 pad │
// ╘═══════════════════════════════════════════════════════╛   │ 16 f64 requested bytes (exact: at most 2^47)          │
//                                                             ╘═══════════════════════════════════════════════════════╛
// Addresses are exact u64 values: the host's stand-in keys for pointers of 2^53 and above are not
// needed here, and distinct pointers still never share a slot. Entries are never removed (a freed
// address keeps FREED, so its second free is a double free), as on the host.

import { MAX_REQUEST_BYTES, NO_CALLER } from "../ledger";
import { SKIP_DOUBLE_FREE, SKIP_FAILED_ALLOC, SKIP_FREE_NULL, SKIP_UNMATCHED_FREE, SKIP_UNMATCHED_REALLOC } from "../events";

// Event kinds (src/trace/formats/text-wasm.ts EV_*).
export const EV_ALLOC: u32 = 1;
export const EV_CALLOC: u32 = 2;
export const EV_REALLOC: u32 = 3;
export const EV_UNTRACED_REALLOC: u32 = 4;
export const EV_FREE: u32 = 5;
export const EV_IMPLICIT_FREE: u32 = 6;
export const EV_SKIP: u32 = 7;
export const EV_REFUSE: u32 = 8;

export const EVENT_BYTES: usize = 24;
const EV_KIND: usize = 0;
const EV_ID: usize = 4;
const EV_CALLER: usize = 8;
const EV_SIZE: usize = 16;
/** Events one mapper call writes at most (an implicit free and the realloc). */
export const MAX_EVENTS_PER_CALL: i32 = 2;

const FREED: i32 = -1;
const ABSENT: i32 = -2;
const SLOT_BYTES: usize = 16;
const SLOT_ID: usize = 8;
const INITIAL_SLOTS_LOG2: u32 = 12;                    // src/trace/address-map.ts INITIAL_SLOTS
const INITIAL_IDS: i32 = 1 << 12;
const HASH_MULTIPLIER: u64 = 0x9e3779b97f4a7c15;      // 2^64 / golden ratio: multiplicative hashing
const ALIGN_BITS: u64 = 4;                            // addresses are 16-byte aligned: low bits carry nothing
const SIZE_LIVE_BIT: u64 = 1 << 63;                   // id record: requested bytes, top bit = live
const MAX_REQUEST_F64: f64 = <f64>MAX_REQUEST_BYTES;

let slots: usize = 0;
let slotsLog2: u32 = 0;
let slotMask: u32 = 0;
let used: u32 = 0;
let freeIds: usize = 0;          // i32 stack
let freeCount: i32 = 0;
let freeCap: i32 = 0;
let idSizes: usize = 0;          // u64 per id: requested bytes | SIZE_LIVE_BIT
let idCap: i32 = 0;
let nextId: i32 = 0;
let liveBytes: u64 = 0;

let out: usize = 0;
let outCap: i32 = 0;
let outCount: i32 = 0;

function allocSlots(log2: u32): void {
  const bytes = (<usize>1 << log2) * SLOT_BYTES;
  slots = heap.alloc(bytes);
  memory.fill(slots, 0, bytes);
  slotsLog2 = log2;
  slotMask = (1 << log2) - 1;
}

/** Starts a new trace; `outEvents`: room of the event buffer. Returns the buffer's address. */
export function mapBegin(outEvents: i32): usize {
  if (slots != 0) heap.free(slots);
  allocSlots(INITIAL_SLOTS_LOG2);
  used = 0;
  if (freeIds != 0) heap.free(freeIds);
  freeCap = INITIAL_IDS;
  freeIds = heap.alloc(<usize>freeCap << 2);
  freeCount = 0;
  if (idSizes != 0) heap.free(idSizes);
  idCap = INITIAL_IDS;
  idSizes = heap.alloc(<usize>idCap << 3);
  memory.fill(idSizes, 0, <usize>idCap << 3);
  nextId = 0;
  liveBytes = 0;
  if (out != 0) heap.free(out);
  outCap = outEvents;
  out = heap.alloc(<usize>outCap * EVENT_BYTES);
  outCount = 0;
  return out;
}

/** Events written since the last mapTaken(). */
export function mapEvents(): i32 { return outCount; }
/** The event buffer's address (fixed after mapBegin). */
export function mapOut(): usize { return out; }
/** The host has applied every event: the buffer starts empty again. */
export function mapTaken(): void { outCount = 0; }
/** True when another mapper call may not find room in the event buffer. */
// @ts-ignore: decorator
@inline export function outNearlyFull(): bool { return outCount > outCap - MAX_EVENTS_PER_CALL; }
/** Distinct addresses remembered (live or freed): the host mapper's addressesSeen. */
export function mapAddressesSeen(): u32 { return used; }

// @ts-ignore: decorator
@inline function emit(kind: u32, id: i32, caller: i32, sizeBytes: u64): void {
  const e = out + <usize>outCount * EVENT_BYTES;
  store<u32>(e, kind, EV_KIND);
  store<i32>(e, id, EV_ID);
  store<i32>(e, caller, EV_CALLER);
  store<f64>(e, <f64>sizeBytes, EV_SIZE);
  outCount++;
}

/**
 * Home slot of an address: the address itself (in 16-byte units) modulo the table size, XORed with
 * a hash of the bits above. An allocator hands out addresses near the ones it just used, and
 * within one table-sized span of addresses this keeps their slots as near (sharing cache lines)
 * and distinct (no collisions); a fully hashed table misses the cache on nearly every call.
 * Addresses of different spans, or that agree in their low bits, still spread over the table.
 */
// @ts-ignore: decorator
@inline function slotOf(key: u64): u32 {
  const span = (key >> (ALIGN_BITS + <u64>slotsLog2)) * HASH_MULTIPLIER;
  return (<u32>(key >> ALIGN_BITS) ^ <u32>(span >> 32)) & slotMask;
}

/** The slot holding `key`, or the empty slot where it would go. */
function find(key: u64): usize {
  let i = slotOf(key);
  let s = slots + <usize>i * SLOT_BYTES;
  let k = load<u64>(s);
  while (k != key && k != 0) {
    i = (i + 1) & slotMask;
    s = slots + <usize>i * SLOT_BYTES;
    k = load<u64>(s);
  }
  return s;
}

function get(key: u64): i32 {
  const s = find(key);
  return load<u64>(s) == 0 ? ABSENT : load<i32>(s, SLOT_ID);
}

function grow(): void {
  const old = slots;
  const oldCount: usize = <usize>slotMask + 1;
  allocSlots(slotsLog2 + 1);
  for (let j: usize = 0; j < oldCount; j++) {
    const o = old + j * SLOT_BYTES;
    const k = load<u64>(o);
    if (k == 0) continue;
    const s = find(k);
    store<u64>(s, k);
    store<i32>(s, load<i32>(o, SLOT_ID), SLOT_ID);
  }
  heap.free(old);
}

function set(key: u64, value: i32): void {
  const s = find(key);
  if (load<u64>(s) != 0) {
    store<i32>(s, value, SLOT_ID);
    return;
  }
  insertAt(s, key, value);
}

/** Stores a new key in the empty slot `s` that find() gave for it. */
function insertAt(s: usize, key: u64, value: i32): void {
  store<u64>(s, key);
  store<i32>(s, value, SLOT_ID);
  used++;
  // Grow when more than half the slots are used (the host table's load factor).
  if (used > (slotMask + 1) >> 1) grow();
}

// @ts-ignore: decorator
@inline function idRecord(id: i32): usize { return idSizes + (<usize>id << 3); }
// @ts-ignore: decorator
@inline function isLiveId(id: i32): bool { return (load<u64>(idRecord(id)) & SIZE_LIVE_BIT) != 0; }
// @ts-ignore: decorator
@inline function sizeOfId(id: i32): u64 { return load<u64>(idRecord(id)) & ~SIZE_LIVE_BIT; }

/** The host ledger's fits(): no architecture serves more than MAX_REQUEST_BYTES live. */
// @ts-ignore: decorator
@inline function fits(sizeBytes: f64): bool {
  return sizeBytes <= MAX_REQUEST_F64 && liveBytes + <u64>sizeBytes <= MAX_REQUEST_BYTES;
}

/** The host ledger's fitsResize() for live block `id`. */
// @ts-ignore: decorator
@inline function fitsResize(id: i32, sizeBytes: f64): bool {
  return sizeBytes <= MAX_REQUEST_F64 && liveBytes - sizeOfId(id) + <u64>sizeBytes <= MAX_REQUEST_BYTES;
}

/** What the host ledger does to a block's bytes when `id` is born (an implicit free of a live one first). */
function born(id: i32, sizeBytes: u64): void {
  if (id >= idCap) {
    const bigger = idCap << 1;
    idSizes = heap.realloc(idSizes, <usize>bigger << 3);
    memory.fill(idSizes + (<usize>idCap << 3), 0, <usize>(bigger - idCap) << 3);
    idCap = bigger;
  }
  if (isLiveId(id)) liveBytes -= sizeOfId(id);
  store<u64>(idRecord(id), sizeBytes | SIZE_LIVE_BIT);
  liveBytes += sizeBytes;
}

function died(id: i32): void {
  liveBytes -= sizeOfId(id);
  store<u64>(idRecord(id), 0);
}

function newId(key: u64): i32 {
  const s = find(key);
  const known = load<u64>(s) != 0;
  const old = known ? load<i32>(s, SLOT_ID) : ABSENT;
  // An address handed out while the trace still has it live: the same id (the host ledger frees
  // the older block first).
  if (old >= 0) return old;
  let id: i32;
  if (freeCount > 0) {
    freeCount--;
    id = load<i32>(freeIds + (<usize>freeCount << 2));
  } else {
    id = nextId++;
  }
  if (known) store<i32>(s, id, SLOT_ID);
  else insertAt(s, key, id);
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

/** malloc (kind EV_ALLOC) or calloc (EV_CALLOC) returning `pointer` (0: the call failed). */
export function mapAlloc(kind: u32, pointer: u64, sizeBytes: f64, caller: i32): void {
  if (pointer == 0) return emit(EV_SKIP, SKIP_FAILED_ALLOC, NO_CALLER, 0);
  if (!fits(sizeBytes)) return emit(EV_REFUSE, 0, NO_CALLER, 0);
  const size = <u64>sizeBytes;
  const id = newId(pointer);
  emit(kind, id, caller, size);
  born(id, size);
}

export function mapFree(pointer: u64): void {
  if (pointer == 0) return emit(EV_SKIP, SKIP_FREE_NULL, NO_CALLER, 0);
  const s = find(pointer);
  if (load<u64>(s) == 0) return emit(EV_SKIP, SKIP_UNMATCHED_FREE, NO_CALLER, 0);
  const id = load<i32>(s, SLOT_ID);
  if (id == FREED) return emit(EV_SKIP, SKIP_DOUBLE_FREE, NO_CALLER, 0);
  emit(EV_FREE, id, NO_CALLER, 0);
  store<i32>(s, FREED, SLOT_ID);
  died(id);
  releaseId(id);
}

/** realloc(oldPointer, sizeBytes) returning newPointer, with the host mapper's C semantics. */
export function mapRealloc(oldPointer: u64, newPointer: u64, sizeBytes: f64, caller: i32): void {
  if (oldPointer == 0) return mapAlloc(EV_ALLOC, newPointer, sizeBytes, caller);
  if (sizeBytes == 0) return mapFree(oldPointer);
  const id = get(oldPointer);
  if (id == FREED) return emit(EV_SKIP, SKIP_DOUBLE_FREE, NO_CALLER, 0);
  if (newPointer == 0) return emit(EV_SKIP, id == ABSENT ? SKIP_UNMATCHED_REALLOC : SKIP_FAILED_ALLOC, NO_CALLER, 0);
  if (id == ABSENT) {
    // A pointer the trace never saw: the program got a block of the new size at newPointer.
    if (!fits(sizeBytes)) return emit(EV_REFUSE, 0, NO_CALLER, 0);
    const size = <u64>sizeBytes;
    const created = newId(newPointer);
    emit(EV_UNTRACED_REALLOC, created, caller, size);
    born(created, size);
    return;
  }
  if (!fitsResize(id, sizeBytes)) return emit(EV_REFUSE, 0, NO_CALLER, 0);
  const size = <u64>sizeBytes;
  if (newPointer != oldPointer) {
    const other = get(newPointer);
    // newPointer still live as another block: a free the trace did not show; free it first.
    if (other >= 0) {
      emit(EV_IMPLICIT_FREE, other, NO_CALLER, 0);
      died(other);
      releaseId(other);
    }
    set(oldPointer, FREED);
    set(newPointer, id);
  }
  emit(EV_REALLOC, id, caller, size);
  liveBytes += size - sizeOfId(id);
  store<u64>(idRecord(id), size | SIZE_LIVE_BIT);
}

/** An allocator call that happened but whose outcome the trace does not show. */
export function mapSkip(reason: u32): void {
  emit(EV_SKIP, reason, NO_CALLER, 0);
}
