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
// REQ_BIG and the exact u64 goes to a small open-addressing side table keyed by id. At most
// 128 TiB / 4 GiB = 32768 such blocks can be live at once, so the side table stays small.

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
let idLimit: u32 = 0;                            // MAX_ID once the directory exists: one compare per lookup
let pageHigh: u32 = 0;                           // 1 + the highest page index ever allocated
let pagesInUse: u32 = 0;

const REQ_BIG: u32 = 0xFFFFFFFF;

// Entry address of `id`, or 0 when its page was never written (the id is not live).
// @ts-ignore: decorator
@inline export function idEntry(id: u32): usize {
  if (id >= idLimit) return 0;
  const page = <usize>load<u32>(directory + (<usize>(id >> ID_PAGE_SHIFT) << 2));
  return page ? page + (<usize>(id & ID_PAGE_MASK) << 3) : 0;
}

// Entry address of `id` for writing: allocates its page on first use; 0 when id >= MAX_ID.
export function idEntryForWrite(id: u32): usize {
  const e = idEntry(id);
  if (e || id >= MAX_ID) return e;
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
  if (reservedBlock) return;
  const pages = (min(idBound, HINT_MAX_IDS) + ID_PAGE_IDS - 1) >> ID_PAGE_SHIFT;
  if (!pages || pageHigh) return; // no hint, or ids written already: pages come one by one
  reservedBlock = heap.alloc(<usize>pages * ID_PAGE_BYTES);
  reservedPages = pages;
}

// Bytes of the id table: the directory, every page allocated and the reserved block.
export function idTableBytes(): usize {
  return (directory ? DIRECTORY_BYTES : 0) + <usize>(pagesInUse - pagesCarved + reservedPages) * ID_PAGE_BYTES + <usize>bigCap * BIG_SLOT_BYTES;
}

// For scans of every entry (rare: heap destroy, invariant checks): pages 0 .. idPageCount() - 1,
// each absent (base 0) or ID_PAGE_IDS entries from idPageBase(p); page p holds ids p << ID_PAGE_SHIFT on.
export function idPageCount(): u32 { return pageHigh; }
// @ts-ignore: decorator
@inline export function idPageBase(p: u32): usize { return directory ? <usize>load<u32>(directory + (<usize>p << 2)) : 0; }

// ---- requested bytes ----

// Bytes the program asked for, of the live id whose entry is `e`.
export function idRequested(e: usize, id: u32): u64 {
  const r = load<u32>(e, ID_REQ);
  return r == REQ_BIG ? bigGet(id) : <u64>r;
}

// Sets the requested bytes of the live id whose entry is `e`.
export function idSetRequested(e: usize, id: u32, size: u64): void {
  const old = load<u32>(e, ID_REQ);
  if (size >= <u64>REQ_BIG) {
    store<u32>(e, REQ_BIG, ID_REQ);
    bigSet(id, size);
  } else {
    if (old == REQ_BIG) bigDelete(id);
    store<u32>(e, <u32>size, ID_REQ);
  }
}

// Clears an entry (the id is no longer live).
export function idClear(e: usize, id: u32): void {
  if (load<u32>(e, ID_REQ) == REQ_BIG) bigDelete(id);
  store<u64>(e, 0);
}

// ---- side table: id -> u64 requested bytes, open addressing with linear probing ----
// Slot: u32 key (id + 1; 0 = empty), u32 pad, u64 value. Deletion shifts later entries back, so
// there are no tombstones and probes stay short.

const BIG_SLOT_BYTES: usize = 16;
const BIG_INITIAL_SLOTS: u32 = 64;
let bigTable: usize = 0;
let bigCap: u32 = 0;     // slots, a power of two
let bigCount: u32 = 0;

// @ts-ignore: decorator
@inline function bigHome(id: u32): u32 { return (id * 0x9E3779B1) & (bigCap - 1); }
// @ts-ignore: decorator
@inline function bigSlot(i: u32): usize { return bigTable + <usize>i * BIG_SLOT_BYTES; }

function bigFind(id: u32): i64 {
  if (!bigCap) return -1;
  let i = bigHome(id);
  let k = load<u32>(bigSlot(i));
  while (k != 0 && k != id + 1) {
    i = (i + 1) & (bigCap - 1);
    k = load<u32>(bigSlot(i));
  }
  return k == 0 ? -1 : <i64>i;
}

function bigGet(id: u32): u64 {
  const i = bigFind(id);
  return i < 0 ? 0 : load<u64>(bigSlot(<u32>i), 8);
}

function bigSet(id: u32, value: u64): void {
  const found = bigFind(id);
  if (found >= 0) { store<u64>(bigSlot(<u32>found), value, 8); return; }
  if ((bigCount + 1) * 2 > bigCap) bigGrow();
  let i = bigHome(id);
  while (load<u32>(bigSlot(i))) i = (i + 1) & (bigCap - 1);
  store<u32>(bigSlot(i), id + 1);
  store<u64>(bigSlot(i), value, 8);
  bigCount++;
}

function bigGrow(): void {
  const oldTable = bigTable;
  const oldCap = bigCap;
  bigCap = oldCap ? oldCap << 1 : BIG_INITIAL_SLOTS;
  bigTable = heap.alloc(<usize>bigCap * BIG_SLOT_BYTES);
  memory.fill(bigTable, 0, <usize>bigCap * BIG_SLOT_BYTES);
  for (let j: u32 = 0; j < oldCap; j++) {
    const s = oldTable + <usize>j * BIG_SLOT_BYTES;
    const k = load<u32>(s);
    if (!k) continue;
    let i = bigHome(k - 1);
    while (load<u32>(bigSlot(i))) i = (i + 1) & (bigCap - 1);
    store<u32>(bigSlot(i), k);
    store<u64>(bigSlot(i), load<u64>(s, 8), 8);
  }
  if (oldTable) heap.free(oldTable);
}

function bigDelete(id: u32): void {
  const found = bigFind(id);
  if (found < 0) return;
  let hole = <u32>found;
  let i = (hole + 1) & (bigCap - 1);
  // Backward-shift deletion: move later entries of the probe run into the hole when their home
  // is not between the hole and their slot.
  for (;;) {
    const k = load<u32>(bigSlot(i));
    if (!k) break;
    const home = bigHome(k - 1);
    const between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!between) {
      store<u32>(bigSlot(hole), k);
      store<u64>(bigSlot(hole), load<u64>(bigSlot(i), 8), 8);
      hole = i;
    }
    i = (i + 1) & (bigCap - 1);
  }
  store<u32>(bigSlot(hole), 0);
  store<u64>(bigSlot(hole), 0, 8);
  bigCount--;
}

// Live ids with a requested size of 2^32 - 1 bytes or more (for the invariant check).
export function idBigCount(): u32 { return bigCount; }
