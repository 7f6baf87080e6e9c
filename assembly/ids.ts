// === Block id table ===
//
// The host names every live block by an id; the engine maps it to the owning heap and the policy's
// handle, and keeps the bytes the program asked for.
//
// ╒═══ entry (8 bytes, one per id) ═══════════════════════════════════════════════════╕
// │ 0 u32: handle (29 bits) << 3 | heap (3) │ 4 u32: requested bytes; REQ_BIG = see below │
// ╘════════════════════════════════════════════════════════════════════════════════════╛
//   handle 0 = id not live.
//
// Two levels, so memory follows the ids in use, not the largest one: a directory (allocated with the
// first id) holds one page pointer per ID_PAGE_IDS ids, and a page (ID_PAGE_IDS entries, 32 KiB) is allocated, zeroed,
// the first time an id in it is written. Dense ids (what the host's trace readers produce) cost
// 8 bytes each; a lone id anywhere below MAX_ID costs one page. No single allocation grows with the
// largest id (the old flat table asked TLSF for ids × 8 bytes in one block and trapped above 2^26).
//
// Requested sizes of 2^32 - 1 bytes and more (possible on x64) do not fit the entry: it holds
// REQ_BIG and the exact u64 goes to a side table keyed by id (idwords.ts). At most
// 128 TiB / 4 GiB = 32768 such blocks can be live at once, so the side table stays small.
//
// Shared records (idShareRecords): when another module already keeps one record per id for the
// same ids (the trace ledger of the one-instance `.hst` replay, trace/ledger.ts), the entries live
// in its records instead: its directory and pages (same ID_PAGE_SHIFT), the u32 entry word at
// `entryOffset` of each record, and the requested bytes read from the record's own size (the bits
// of a mask in a u32 at `sizeOffset`; all of them set: the exact u64 is the owner's entry in
// ownerWideSizes), which that owner writes: one record and one cache line per id instead of two
// tables. The owner makes each record (zeroed) before the engine is asked about its id. A free
// takes the block's bytes from its op (idTake's `given`), not from the record, so the owner may
// rewrite a freed id's size (a rebirth) before the engine has applied the free.
//
// Id modes: the table is in one of the two layouts for the rest of an instance's life once the
// first id is written (own entries, or shared records from idShareRecords on). The accessors below
// (idEntry, idRequested, ...) test which at run time; the engine's batch loops are instantiated
// once per mode instead (engine.ts batchOf with OwnIds or SharedIds: stride, offsets and the mode
// constants there, no test per op), and idsShared() says which loop runs.
import { IdWords } from "./idwords";

export const ID_BYTES: usize = 8;
export const ID_REQ: usize = 4;                  // offset of the requested size in an entry
export const ID_PAGE_SHIFT: u32 = 12;
export const ID_PAGE_IDS: u32 = 1 << ID_PAGE_SHIFT;
const ID_PAGE_MASK: u32 = ID_PAGE_IDS - 1;
const ID_PAGE_BYTES: usize = <usize>ID_PAGE_IDS * ID_BYTES;
export const MAX_ID: u32 = 1 << 28;              // ids 0 .. 2^28 - 1 (the host's traces use up to 2^27 - 1)
const DIRECTORY_PAGES: u32 = MAX_ID >> ID_PAGE_SHIFT;
const DIRECTORY_BYTES: usize = <usize>DIRECTORY_PAGES << 2;
let directory: usize = 0;                        // u32 page pointers, 0 = none
let idLimit: u32 = 0;                            // MAX_ID once the directory exists (never more): one compare per lookup
let pageHigh: u32 = 0;                           // 1 + the highest page index ever allocated
let pagesInUse: u32 = 0;
let entryOffset: usize = 0;                      // of the entry word in a page's record (SHARED_ENTRY when shared)

// The shared records' layout: the only one idShareRecords takes (the engine's shared batch loop is
// compiled for it). The stride is an own entry's too, so one id's entry is 8 bytes from the last
// in either mode.
const SHARED_RECORD_BYTES: usize = 8;
const SHARED_ENTRY: usize = 4;                   // the entry word
const SHARED_SIZE: usize = 0;                    // the u32 holding the requested bytes
const SHARED_SIZE_MASK: u32 = 0xFFFF;            // its size bits; all set = in ownerWideSizes
if (SHARED_RECORD_BYTES != ID_BYTES) ERROR("an id's entry is ID_BYTES from the last in either mode");

const REQ_BIG: u32 = 0xFFFFFFFF;
const bigRequests = changetype<IdWords>(memory.data(<i32>offsetof<IdWords>()));
/**
 * The owner of shared records keeps here the requested bytes its size bits cannot hold (keyed by
 * id, while the record's size bits are all set): the engine reads them as it reads the record.
 */
export const ownerWideSizes = changetype<IdWords>(memory.data(<i32>offsetof<IdWords>()));

// Shared records (see the top).
let shared: bool = false;
let sharedPages: u32 = 0;

/** Whether the entries live in another module's records (idShareRecords was called). */
// @ts-ignore: decorator
@inline export function idsShared(): bool { return shared; }

// Entry address of `id`, or 0 when its page was never written (the id is not live).
// @ts-ignore: decorator
@inline export function idEntry(id: u32): usize { return idEntryAt(id, entryOffset); }
// @ts-ignore: decorator
@inline function idEntryAt(id: u32, offset: usize): usize {
  if (id >= idLimit) return 0;
  const page = <usize>load<u32>(directory + (<usize>(id >> ID_PAGE_SHIFT) << 2));
  return page ? page + <usize>(id & ID_PAGE_MASK) * ID_BYTES + offset : 0;
}

// idEntry in steps, for a caller that branches on each itself (the batch loop's allocations and
// frees: V8 tests idEntry's select result again after the select): whether the id may have an
// entry (below the limit: never for ids >= MAX_ID), then the page holding its entry (0: never
// written; only for an id below the limit), then the entry in that page.
// @ts-ignore: decorator
@inline export function idInTable(id: u32): bool { return id < idLimit; }
// @ts-ignore: decorator
@inline export function idPageOf(id: u32): usize {
  return <usize>load<u32>(directory + (<usize>(id >> ID_PAGE_SHIFT) << 2));
}
// @ts-ignore: decorator
@inline export function idEntryIn(page: usize, id: u32): usize {
  return page + <usize>(id & ID_PAGE_MASK) * ID_BYTES + entryOffset;
}

// Entry address of `id` for writing: allocates its page on first use; 0 when id >= MAX_ID.
export function idEntryForWrite(id: u32): usize {
  const e = idEntry(id);
  if (e || id >= MAX_ID) return e;
  if (shared) unreachable(); // the owner of the records makes each one before the engine sees its id
  if (!directory) {
    directory = heap.alloc(DIRECTORY_BYTES);
    memory.fill(directory, 0, DIRECTORY_BYTES);
    idLimit = MAX_ID;
  }
  const p = id >> ID_PAGE_SHIFT;
  const carved = p < reservedPages;
  const page = carved ? reservedBlock + <usize>p * ID_PAGE_BYTES : heap.alloc(ID_PAGE_BYTES);
  if (carved) pagesCarved++;
  memory.fill(page, 0, ID_PAGE_BYTES);
  store<u32>(directory + (<usize>p << 2), <u32>page);
  pagesInUse++;
  if (p >= pageHigh) pageHigh = p + 1;
  return page + (<usize>(id & ID_PAGE_MASK) << 3);
}

// Takes one block for the pages of ids 0 .. min(idBound, HINT_MAX_IDS) - 1 (the replay's size
// hint, engine.ts engineReserve): one allocation instead of one per page as the ids come. Pages
// are never freed one by one, so they may share a block; a page is still made (zeroed) when an id
// of its range is first written, so a hint above the truth costs address space, not touched memory.
// Ids beyond get pages of their own, as without a hint.
const HINT_MAX_IDS: u32 = 1 << 22;
let reservedBlock: usize = 0;
let reservedPages: u32 = 0;
let pagesCarved: u32 = 0;        // pages made inside the reserved block
export function idReserve(idBound: u32): void {
  if (reservedBlock || shared) return;
  const pages = (min(idBound, HINT_MAX_IDS) + ID_PAGE_IDS - 1) >> ID_PAGE_SHIFT;
  if (!pages || pageHigh) return; // no hint, or ids written already: pages come one by one
  reservedBlock = heap.alloc(<usize>pages * ID_PAGE_BYTES);
  reservedPages = pages;
}

/**
 * From now on the entries live in another module's per-id records (see the top): `dir` holds one
 * u32 page address per ID_PAGE_IDS ids for `pages` pages (0 = none yet), each page ID_PAGE_IDS
 * records of `stride` bytes; a record's u32 at `entry` is the entry word (0 until the engine writes
 * it), its u32 at `size` holds the requested bytes in the bits of `mask` (all set: the exact value
 * is the id's entry in ownerWideSizes). Only before any id was
 * written here (a trap otherwise); a block reserved by idReserve is given back.
 */
export function idShareRecords(dir: usize, pages: u32, stride: usize, entry: usize, size: usize, mask: u32): void {
  if (shared) return;
  if (pagesInUse) unreachable();
  // The one layout the shared accessors and the engine's shared batch loop are compiled for.
  if (stride != SHARED_RECORD_BYTES || entry != SHARED_ENTRY || size != SHARED_SIZE || mask != SHARED_SIZE_MASK) unreachable();
  if (reservedBlock) { heap.free(reservedBlock); reservedBlock = 0; reservedPages = 0; }
  if (directory) { heap.free(directory); }
  shared = true;
  directory = dir;
  sharedPages = pages;
  idLimit = <u32>min(<u64>pages << ID_PAGE_SHIFT, <u64>MAX_ID); // idEntry answers 0 for every id >= MAX_ID
  entryOffset = SHARED_ENTRY;
}

// Bytes of the id table: the directory, every page allocated and the reserved block (none when the
// entries live in another module's records: that module counts them).
export function idTableBytes(): usize {
  const own: usize = shared ? 0 : (directory ? DIRECTORY_BYTES : 0) + <usize>(pagesInUse - pagesCarved + reservedPages) * ID_PAGE_BYTES;
  return own + bigRequests.bytes();
}

// For scans of every entry (rare: heap destroy, invariant checks): pages 0 .. idPageCount() - 1,
// each absent (base 0) or ID_PAGE_IDS entries from idPageBase(p), entry i at idSlot(base, i);
// page p holds ids p << ID_PAGE_SHIFT on.
export function idPageCount(): u32 { return shared ? sharedPages : pageHigh; }
// @ts-ignore: decorator
@inline export function idPageBase(p: u32): usize { return directory ? <usize>load<u32>(directory + (<usize>p << 2)) : 0; }
// @ts-ignore: decorator
@inline export function idSlot(base: usize, i: u32): usize { return base + <usize>i * ID_BYTES + entryOffset; }
/** Whether a free entry (word 0) is as a free entry must be: no requested bytes kept (own entries only). */
export function idFreeEntryClean(e: usize): bool { return shared || load<u32>(e, ID_REQ) == 0; }
/** Whether a live entry's requested bytes are in the side table. */
export function idIsBig(e: usize): bool { return !shared && load<u32>(e, ID_REQ) == REQ_BIG; }

// ---- requested bytes ----
// Each accessor has an own-entries and a shared-records form (ownX, sharedX); idX picks by the
// mode at run time, OwnIds and SharedIds (below) are the forms of one mode.

// Requested bytes of the id whose entry `e` is in a shared record.
// @ts-ignore: decorator
@inline function sharedSize(e: usize, id: u32): u64 {
  const s = load<u32>(e - (SHARED_ENTRY - SHARED_SIZE)) & SHARED_SIZE_MASK;
  return s == SHARED_SIZE_MASK ? ownerWideSizes.get(id) : <u64>s;
}
// @ts-ignore: decorator
@inline function ownSize(e: usize, id: u32): u64 {
  const r = load<u32>(e, ID_REQ);
  return r == REQ_BIG ? bigRequests.get(id) : <u64>r;
}

// Bytes the program asked for, of the live id whose entry is `e`.
// @ts-ignore: decorator
@inline export function idRequested(e: usize, id: u32): u64 { return shared ? sharedSize(e, id) : ownSize(e, id); }

// Sets the requested bytes of the live id whose entry is `e` (shared records: the owner has
// written them, or writes them after the engine's realloc has read the old ones).
// @ts-ignore: decorator
@inline export function idSetRequested(e: usize, id: u32, size: u64): void { if (!shared) ownSetSize(e, id, size); }
// @ts-ignore: decorator
@inline function ownSetSize(e: usize, id: u32, size: u64): void {
  const old = load<u32>(e, ID_REQ);
  if (size >= <u64>REQ_BIG) {
    store<u32>(e, REQ_BIG, ID_REQ);
    bigRequests.set(id, size);
  } else {
    if (old == REQ_BIG) bigRequests.delete(id);
    store<u32>(e, <u32>size, ID_REQ);
  }
}

// Makes the free entry `e` of `id` live: entry word `word` and `size` requested bytes (a free
// entry keeps no size, so nothing is read: one store for an own entry; shared records: the owner
// has written the size).
// @ts-ignore: decorator
@inline export function idSetLive(e: usize, id: u32, word: u32, size: u64): void {
  if (shared) store<u32>(e, word);
  else ownSetLive(e, id, word, size);
}
// @ts-ignore: decorator
@inline function ownSetLive(e: usize, id: u32, word: u32, size: u64): void {
  if (size >= <u64>REQ_BIG) {
    store<u64>(e, (<u64>REQ_BIG << 32) | word);
    bigRequests.set(id, size);
  } else {
    store<u64>(e, (size << 32) | word);
  }
}

// The requested bytes of the live id whose entry is `e`, and the entry cleared (idRequested then
// idClear, reading the entry once). Shared records: `given`, the bytes the owner gave with the
// free (its op's size): the owner may have written the record's size for a later birth of the id
// already, when it hands the engine its ops in runs (trace/hst.ts); own entries ignore it.
// @ts-ignore: decorator
@inline export function idTake(e: usize, id: u32, given: u64): u64 {
  if (shared) {
    store<u32>(e, 0);
    return given;
  }
  return ownTake(e, id);
}
// @ts-ignore: decorator
@inline function ownTake(e: usize, id: u32): u64 {
  const r = <u32>(load<u64>(e) >> 32);
  store<u64>(e, 0);
  if (r != REQ_BIG) return <u64>r;
  const big = bigRequests.get(id);
  bigRequests.delete(id);
  return big;
}

// Clears an entry (the id is no longer live).
// @ts-ignore: decorator
@inline export function idClear(e: usize, id: u32): void {
  if (shared) { store<u32>(e, 0); return; }
  if (load<u32>(e, ID_REQ) == REQ_BIG) bigRequests.delete(id);
  store<u64>(e, 0);
}

// ---- the accessors of one mode (engine.ts batchOf: a batch loop per mode) ----
// Each class has the same methods as the idX functions of the same names, for a caller that knows
// the table's mode (idsShared() at the loop's start: the mode never changes while ids are live):
// OwnIds before idShareRecords, SharedIds after it. Used as `changetype<I>(0)` (no instance).

export class OwnIds {
  // @ts-ignore: decorator
  @inline entry(id: u32): usize { return idEntryAt(id, 0); }
  // @ts-ignore: decorator
  @inline entryIn(page: usize, id: u32): usize { return page + <usize>(id & ID_PAGE_MASK) * ID_BYTES; }
  // @ts-ignore: decorator
  @inline requested(e: usize, id: u32): u64 { return ownSize(e, id); }
  // @ts-ignore: decorator
  @inline setRequested(e: usize, id: u32, size: u64): void { ownSetSize(e, id, size); }
  // @ts-ignore: decorator
  @inline setLive(e: usize, id: u32, word: u32, size: u64): void { ownSetLive(e, id, word, size); }
  // @ts-ignore: decorator
  @inline take(e: usize, id: u32, given: u64): u64 { return ownTake(e, id); }
}

export class SharedIds {
  // @ts-ignore: decorator
  @inline entry(id: u32): usize { return idEntryAt(id, SHARED_ENTRY); }
  // @ts-ignore: decorator
  @inline entryIn(page: usize, id: u32): usize { return page + <usize>(id & ID_PAGE_MASK) * SHARED_RECORD_BYTES + SHARED_ENTRY; }
  // @ts-ignore: decorator
  @inline requested(e: usize, id: u32): u64 { return sharedSize(e, id); }
  // @ts-ignore: decorator
  @inline setRequested(e: usize, id: u32, size: u64): void {}
  // @ts-ignore: decorator
  @inline setLive(e: usize, id: u32, word: u32, size: u64): void { store<u32>(e, word); }
  // @ts-ignore: decorator
  @inline take(e: usize, id: u32, given: u64): u64 { store<u32>(e, 0); return given; }
}

// The mode tested at run time (the accessors above): the engine's loops for any other caller.
export class AnyIds {
  // @ts-ignore: decorator
  @inline entry(id: u32): usize { return idEntry(id); }
  // @ts-ignore: decorator
  @inline entryIn(page: usize, id: u32): usize { return idEntryIn(page, id); }
  // @ts-ignore: decorator
  @inline requested(e: usize, id: u32): u64 { return idRequested(e, id); }
  // @ts-ignore: decorator
  @inline setRequested(e: usize, id: u32, size: u64): void { idSetRequested(e, id, size); }
  // @ts-ignore: decorator
  @inline setLive(e: usize, id: u32, word: u32, size: u64): void { idSetLive(e, id, word, size); }
  // @ts-ignore: decorator
  @inline take(e: usize, id: u32, given: u64): u64 { return idTake(e, id, given); }
}

// Live ids with a requested size of 2^32 - 1 bytes or more (for the invariant check).
export function idBigCount(): u32 { return bigRequests.count; }
