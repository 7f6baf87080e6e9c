// === The engine's thread table ===
//
// A trace names its threads by whatever id the recording system gave them (Linux tids, logalloc
// tids): numbers below 2^53, sparse. Policies want small dense numbers they can index tables by,
// so the engine maps each thread id to a thread *slot* (0, 1, 2, …) and the kit clock carries the
// slot of the thread the current op runs on (kit/clock.ts clockThread()).
//
//   THREAD id       the following ops run on thread `id`; an id seen for the first time gets the
//                   lowest free slot (a LIFO stack of slots freed by THREAD_END, else the next new
//                   one). Slot 0 is the thread that runs before any THREAD op: the first THREAD op
//                   of a run that has executed no event yet names it instead of taking a new slot
//                   (a recorded trace starts with its first thread's id).
//   THREAD_END id   thread `id` has exited: each heap's threadEnd hook runs with the clock set to
//                   the thread's slot (a policy flushes its thread cache, detaches its arena), then
//                   the slot is free for a later thread. When the ending thread is the current
//                   one, later ops without a THREAD op run on a new thread of the same id (the
//                   trace showed more calls from it).
//
// ╒═══ thread map: open addressing, linear probing, backward-shift deletion ═══╕
// │ entry (16 bytes): u64 key = thread id + 1 (0 = empty) │ u32 slot │ u32 spare │
// ╘═════════════════════════════════════════════════════════════════════════════╛

import { resize, resizeZeroed } from "./mem";
import { Status } from "./abi";
import { clockEvents, clockSetThread } from "./kit/clock";

/** Threads alive at once (slots); a trace with more is refused (Status.TOO_MANY_THREADS). */
export const MAX_THREADS: u32 = 1 << 16;
/** Largest thread id an op may carry (ids are exact JavaScript numbers on the host). */
export const MAX_THREAD_ID: u64 = (<u64>1 << 53) - 1;

const ENTRY_BYTES: usize = 16;
const E_SLOT: usize = 8;
const INITIAL_BUCKETS: u32 = 64;

let buckets: usize = 0;       // the map
let bucketCount: u32 = 0;     // power of two
let mapped: u32 = 0;          // entries in use
let freeSlots: usize = 0;     // u32 stack of free slots
let freeCount: u32 = 0;
let freeCap: u32 = 0;
let nextSlot: u32 = 1;        // slot 0 is the initial thread
let currentId: u64 = 0;       // thread id of the current slot + 1 (0: the unnamed initial thread)
let slotIds: usize = 0;       // u64 per slot: its thread id + 1 (0 = free or unnamed)
let slotCap: u32 = 0;
let liveThreads: u32 = 1;     // slots in use (the initial thread counts)
let initialGone = false;      // slot 0 has been named or released: the rule for naming it is spent

// @ts-ignore: decorator
@inline function hash(key: u64): u32 { return <u32>((key * 0x9E3779B97F4A7C15) >> 40); }
// @ts-ignore: decorator
@inline function entry(i: u32): usize { return buckets + <usize>i * ENTRY_BYTES; }

function ensureSlotIds(slot: u32): void {
  if (slot < slotCap) return;
  let cap = slotCap ? slotCap : 16;
  while (cap <= slot) cap <<= 1;
  slotIds = resizeZeroed(slotIds, <usize>slotCap << 3, <usize>cap << 3);
  slotCap = cap;
}

function rehash(count: u32): void {
  const old = buckets, oldCount = bucketCount;
  buckets = resize(0, <usize>count * ENTRY_BYTES);
  memory.fill(buckets, 0, <usize>count * ENTRY_BYTES);
  bucketCount = count;
  for (let i: u32 = 0; i < oldCount; i++) {
    const e = old + <usize>i * ENTRY_BYTES;
    const key = load<u64>(e);
    if (key) insertKey(key, load<u32>(e, E_SLOT));
  }
  if (old) heap.free(old);
}

function insertKey(key: u64, slot: u32): void {
  let i = hash(key) & (bucketCount - 1);
  while (load<u64>(entry(i))) i = (i + 1) & (bucketCount - 1);
  store<u64>(entry(i), key);
  store<u32>(entry(i), slot, E_SLOT);
}

// Index of the entry for `key`, or -1.
function find(key: u64): i64 {
  if (!bucketCount) return -1;
  let i = hash(key) & (bucketCount - 1);
  let k: u64;
  while ((k = load<u64>(entry(i))) != 0) {
    if (k == key) return i;
    i = (i + 1) & (bucketCount - 1);
  }
  return -1;
}

// Removes entry i, shifting later entries of its probe run back (no tombstones).
function removeAt(i: u32): void {
  const mask = bucketCount - 1;
  let hole = i;
  let j = (i + 1) & mask;
  for (;;) {
    const k = load<u64>(entry(j));
    if (!k) break;
    const home = hash(k) & mask;
    // Move j into the hole when its home is not cyclically in (hole, j].
    const inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!inRange) {
      store<u64>(entry(hole), k);
      store<u32>(entry(hole), load<u32>(entry(j), E_SLOT), E_SLOT);
      hole = j;
    }
    j = (j + 1) & mask;
  }
  store<u64>(entry(hole), 0);
  store<u32>(entry(hole), 0, E_SLOT);
  mapped--;
}

function takeSlot(): u32 {
  if (freeCount) return load<u32>(freeSlots + (<usize>(--freeCount) << 2));
  return nextSlot++;
}

function giveSlot(slot: u32): void {
  if (freeCount == freeCap) {
    freeCap = freeCap ? freeCap << 1 : 16;
    freeSlots = resize(freeSlots, <usize>freeCap << 2);
  }
  store<u32>(freeSlots + (<usize>(freeCount++) << 2), slot);
}

// The slot of thread `id`, giving it one when it has none. Returns MAX_THREADS when the table is full.
function slotFor(id: u64): u32 {
  const key = id + 1;
  const at = find(key);
  if (at >= 0) return load<u32>(entry(<u32>at), E_SLOT);
  let slot: u32;
  if (mapped == 0 && currentId == 0 && clockEvents() == 0 && !initialGone) {
    slot = 0; // the first thread of the run names the initial slot
    initialGone = true;
  } else {
    if (liveThreads >= MAX_THREADS) return MAX_THREADS;
    slot = takeSlot();
    liveThreads++;
  }
  if ((mapped + 1) * 2 > bucketCount) rehash(bucketCount ? bucketCount << 1 : INITIAL_BUCKETS);
  insertKey(key, slot);
  mapped++;
  ensureSlotIds(slot);
  store<u64>(slotIdsAt(slot), key);
  return slot;
}

// @ts-ignore: decorator
@inline function slotIdsAt(slot: u32): usize { ensureSlotIds(slot); return slotIds + (<usize>slot << 3); }

// THREAD op: the following ops run on thread `id`.
export function threadSwitch(id: u64): Status {
  if (id > MAX_THREAD_ID) return Status.BAD_PARAM;
  const slot = slotFor(id);
  if (slot == MAX_THREADS) return Status.TOO_MANY_THREADS;
  currentId = id + 1;
  clockSetThread(slot);
  return Status.OK;
}

// THREAD_END op, first half: the slot of ending thread `id` (MAX_THREADS when the id has no slot).
// The engine runs the heaps' hooks with the clock on that slot, then calls threadRelease.
export function threadSlotOf(id: u64): u32 {
  if (id > MAX_THREAD_ID) return MAX_THREADS;
  const at = find(id + 1);
  return at < 0 ? MAX_THREADS : load<u32>(entry(<u32>at), E_SLOT);
}

// THREAD_END op, second half: forgets thread `id` (whose slot is `slot`) and frees the slot. If it
// was the current thread, the clock moves to a new slot for the same id (see the header).
export function threadRelease(id: u64, slot: u32): void {
  const at = find(id + 1);
  if (at >= 0) removeAt(<u32>at);
  store<u64>(slotIdsAt(slot), 0);
  giveSlot(slot);
  liveThreads--;
  if (currentId == id + 1) {
    const fresh = slotFor(id);
    clockSetThread(fresh == MAX_THREADS ? 0 : fresh);
  }
}

/** Slots in use now (threads alive, the initial one included). */
export function threadsAlive(): u32 { return liveThreads; }
/** One more than the largest slot ever handed out: per-thread tables need this many rows. */
export function threadSlotsUsed(): u32 { return nextSlot; }
/** Engine bytes of the thread table. */
export function threadTableBytes(): usize {
  return <usize>bucketCount * ENTRY_BYTES + (<usize>freeCap << 2) + (<usize>slotCap << 3);
}
