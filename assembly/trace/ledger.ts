// === Trace ledger, inside WASM ===
//
// What src/trace/ledger.ts keeps for a trace read on the host, kept here for `.hst` records
// decoded in WASM (trace/hst.ts): one record per block id, the running counts every report uses,
// and one row of counts per thread of the trace. The rules are the host ledger's, step for step
// (test/trace/hst-wasm.test.ts holds the two to the same results): an allocation larger than
// MAX_REQUEST_BYTES, or one that would take the live bytes beyond it, is a failed allocation (a
// skip) counted as oversize; an allocation into a live id frees the older block first (an
// implicit free, not an event); events are numbered from 1.
//
// ╒═══ id record (8 bytes) ═════════════════════════════════════════════════════════════╕
// │ 0 u32: requested bytes (bits 0-15; SIZE_WIDE: the exact u64 is in a side table)        │
// │        | state (16-17: 0 unused, 1 live, 2 freed)                                      │
// │        | caller + 1 (18-31: 0 none, else a ledger index + 1; CALLER_WIDE: side table)  │
// │ 4 u32 engine entry                                                                     │
// ╘══════════════════════════════════════════════════════════════════════════════════════╛
// (8 bytes: a replay's ledger is fresh memory, and each page of it first touched costs a page
// fault in a cold process, ~17 us here (docs/performance.md): 8 bytes instead of 16 is half as
// many.) The rare values that do not fit their field keep a marker in the record and the exact
// value in a side table keyed by id (idwords.ts), which holds an entry for an id exactly while its
// record holds the marker (the record's own stores add and remove it): requested sizes from
// SIZE_WIDE = 64 KiB - 1 bytes on (33 of the bench's 3.1 M CPython allocations; the ledger takes
// up to MAX_REQUEST_BYTES = 2^47; ids.ts ownerWideSizes, which the engine reads when it shares the
// records), caller indices from CALLER_WIDE - 1 = 16,382 on (a trace with more distinct callers:
// the bench's has 768). A freed record keeps its size and caller (and their entries) until the id
// is born again. The engine entry is the engine's id table entry for the id when the engine of
// this instance replays the trace as it is decoded (ledgerShareWithEngine: ids.ts keeps its entries
// here and reads the requested bytes from word 0 instead of a table of its own); else it stays 0.
// Two per-id values live outside the record, in pages of their own beside the record pages, made
// only by the traces that need them:
// - thread rows: a u8 per id (ROW_WIDE and more in a side table as above), in row pages made from
//   the first block of a row other than 0 on; an id without a row page is row 0's. A trace of one
//   thread (nearly every trace) has only row 0 and makes none.
// - birth events: only `heapsim stats` reads them (the lifetimes of freed blocks), so they are kept
//   only while stats collect (S.collecting, turned on before the trace's first event), as u32 in
//   birth pages (birth events from 2^32 - 1 on, a trace of more than 4 G events, in a side table).
//   A replay makes and touches none of them.
// Records live in pages of PAGE_IDS ids, made when an id of their range is first used, under a
// directory covering every id up to MAX_BLOCK_ID: memory follows the id ranges in use, never the
// largest id alone (the host ledger's bound, docs/trace-format.md).
//
// Thread rows (ROW_BYTES each, f64 counts: the host reads them as they are) are made by the host
// (one per thread id it sees) and, for the implicit thread 0 of a trace that names no thread
// before its first event, here (the host learns that row's id from rowCount()). While there is at
// most one row (nearly every trace: one thread), every event so far is that row's, so its counts
// are the ledger's own: they are not kept per event but written into the row from the ledger's
// counts (rowsSync) when the host reads the rows or a second row is made, from which on each
// event updates its rows (rowsDerived false until the next ledgerReset).

import { resize } from "../mem";
import { IdWords } from "../idwords";
import { idShareRecords, ownerWideSizes } from "../ids";
import * as S from "./stats";
import { allocZeroed, memoryEnd, writeTouch, zeroBelow } from "./zeroed";

export const MAX_BLOCK_ID: u64 = (1 << 27) - 1;       // src/trace/ledger.ts MAX_BLOCK_ID
export const MAX_REQUEST_BYTES: u64 = 1 << 47;        // x64's user space (vm/constants.ts USER_HIGH_X64)
export const NO_CALLER: i32 = -1;                     // src/trace/events.ts NO_CALLER

// Why an allocator call produced no heap operation (src/trace/events.ts SKIP_*).
export const SKIP_UNMATCHED_FREE: u32 = 0;
export const SKIP_UNMATCHED_REALLOC: u32 = 1;
export const SKIP_DOUBLE_FREE: u32 = 2;
export const SKIP_FAILED_ALLOC: u32 = 3;
export const SKIP_REASON_COUNT: u32 = 6;

const STATE_LIVE: u32 = 1;
const STATE_FREED: u32 = 2;
const SIZE_BITS: u32 = 16;
const SIZE_WIDE: u32 = (1 << SIZE_BITS) - 1;          // also the mask of the size bits
const STATE_SHIFT: u32 = SIZE_BITS;
const STATE_MASK: u32 = 3;
const STATE_BITS: u32 = STATE_MASK << STATE_SHIFT;
const CALLER_SHIFT: u32 = 18;
const CALLER_WIDE: u32 = (1 << (32 - CALLER_SHIFT)) - 1; // caller + 1 from here on: in wideCallers
const CALLER_BITS: u32 = CALLER_WIDE << CALLER_SHIFT;
const wideSizes = ownerWideSizes;
const wideCallers = changetype<IdWords>(memory.data(<i32>offsetof<IdWords>()));
const wideRows = changetype<IdWords>(memory.data(<i32>offsetof<IdWords>()));
const REC_BYTES: usize = 8;
const REC_SIZE: usize = 0;
const REC_ENGINE: usize = 4;
const ROW_WIDE: u32 = 0xFF;                           // a row byte: rows from here on in wideRows
const BIRTH_WIDE: u32 = 0xFFFFFFFF;
const BIRTH_BYTES: usize = 4;
const wideBirths = changetype<IdWords>(memory.data(<i32>offsetof<IdWords>()));

// @ts-ignore: decorator
@inline function stateAt(r: usize): u32 { return (load<u32>(r, REC_SIZE) >> STATE_SHIFT) & STATE_MASK; }
// Requested bytes of block `id` (record `r`).
// @ts-ignore: decorator
@inline function sizeAt(id: u32, r: usize): u64 {
  const s = load<u32>(r, REC_SIZE) & SIZE_WIDE;
  return s == SIZE_WIDE ? wideSizes.get(id) : <u64>s;
}
// The size bits of word 0 for `size` bytes of block `id`, whose word 0 is now `w`: the side table
// entry of a wide size made or dropped as the record's size bits change.
// @ts-ignore: decorator
@inline function sizeBits(id: u32, w: u32, size: u64): u32 {
  if (size >= <u64>SIZE_WIDE) { wideSizes.set(id, size); return SIZE_WIDE; }
  if ((w & SIZE_WIDE) == SIZE_WIDE) wideSizes.delete(id);
  return <u32>size;
}
// Caller of block `id` (record `r`): a ledger index, or NO_CALLER.
// @ts-ignore: decorator
@inline function callerOf(id: u32, r: usize): i32 {
  const v = load<u32>(r, REC_SIZE) >> CALLER_SHIFT;
  return <i32>(v == CALLER_WIDE ? <u32>wideCallers.get(id) : v) - 1;
}
// The caller bits of word 0 for `caller` (>= NO_CALLER) of block `id`, whose word 0 is now `w`
// (the side table entry made or dropped as for sizes).
// @ts-ignore: decorator
@inline function callerBits(id: u32, w: u32, caller: i32): u32 {
  if ((w >> CALLER_SHIFT) == CALLER_WIDE) wideCallers.delete(id);
  const v = <u32>(caller + 1);
  if (v >= CALLER_WIDE) { wideCallers.set(id, <u64>v); return CALLER_BITS; }
  return v << CALLER_SHIFT;
}
const PAGE_SHIFT: u32 = 12;
const PAGE_IDS: u32 = 1 << PAGE_SHIFT;
const PAGE_MASK: u32 = PAGE_IDS - 1;
const PAGE_BYTES: usize = <usize>PAGE_IDS * REC_BYTES;
const PAGES: u32 = (<u32>MAX_BLOCK_ID >> PAGE_SHIFT) + 1;
const directory = memory.data(<i32>PAGES * 4);        // page address per id range, 0 = none yet
// Row pages (see the top): a u8 thread row per id of PAGE_IDS ids; none: every id's row is 0.
const ROW_PAGE_BYTES: usize = <usize>PAGE_IDS;
let rowDirectory: usize = 0;                          // row page address per id range (made with the first row page)

// Thread row of block `id`.
// @ts-ignore: decorator
@inline function rowOf(id: u32): i32 {
  if (!rowDirectory) return 0;
  const p = load<usize>(rowDirectory + (<usize>(id >> PAGE_SHIFT) << 2));
  if (!p) return 0;
  const v = <u32>load<u8>(p + <usize>(id & PAGE_MASK));
  return v == ROW_WIDE ? <i32>wideRows.get(id) : <i32>v;
}
// Block `id` (born or resized) belongs to the current row: kept only once a row other than 0 was
// (no row page: row 0), as one compare while that never happened.
// @ts-ignore: decorator
@inline function rowKept(id: u32): void { if (currentRow != 0 || rowDirectory) setRow(id, currentRow); }
function setRow(id: u32, row: i32): void {
  let slot: usize = 0;
  let p: usize = 0;
  if (rowDirectory) { slot = rowDirectory + (<usize>(id >> PAGE_SHIFT) << 2); p = load<usize>(slot); }
  if (!p) {
    if (row == 0) return; // a page without row bytes holds row 0's ids
    if (!rowDirectory) {
      rowDirectory = allocZeroed(<usize>PAGES * 4);
      slot = rowDirectory + (<usize>(id >> PAGE_SHIFT) << 2);
    }
    p = allocZeroed(ROW_PAGE_BYTES);
    store<usize>(slot, p);
  }
  const b = p + <usize>(id & PAGE_MASK);
  if (<u32>load<u8>(b) == ROW_WIDE) wideRows.delete(id);
  const v = <u32>row;
  if (v >= ROW_WIDE) { store<u8>(b, <u8>ROW_WIDE); wideRows.set(id, <u64>v); }
  else store<u8>(b, <u8>v);
}
// Birth pages (births kept only while stats collect: see the top): u32 birth events of PAGE_IDS ids.
const BIRTH_PAGE_BYTES: usize = <usize>PAGE_IDS * BIRTH_BYTES;
const BIRTH_DIRECTORY_BYTES: usize = <usize>PAGES * 4;
let birthDirectory: usize = 0;                        // birth page address per id range (made with the first birth kept)

// Thread row: f64 counts, in the order of src/trace/ledger.ts ThreadCounts (less the thread id).
export const ROW_EVENTS: usize = 0;
export const ROW_ALLOCS: usize = 8;
export const ROW_REALLOCS: usize = 16;
export const ROW_FREES: usize = 24;
export const ROW_LIVE_BLOCKS: usize = 32;
export const ROW_LIVE_BYTES: usize = 40;
export const ROW_PEAK_LIVE_BYTES: usize = 48;
export const ROW_ENDS: usize = 56;
export const ROW_BYTES: usize = 64;

// Counts (read by the host through trace/hst.ts hstCounts).
export let events: u64 = 0;
export let allocs: u64 = 0;
export let callocs: u64 = 0;
export let alignedAllocs: u64 = 0;
export let reallocs: u64 = 0;
export let untracedReallocs: u64 = 0;
export let frees: u64 = 0;
export let implicitFrees: u64 = 0;
export let marks: u64 = 0;
export let ticks: u64 = 0;
export let liveBlocks: u64 = 0;
export let liveBytes: u64 = 0;
export let peakLiveBytes: u64 = 0;
export let peakEvent: u64 = 0;
export let idHighWater: u64 = 0;
export let oversizeRequests: u64 = 0;
export const skips = memory.data(<i32>SKIP_REASON_COUNT * 8);

let rows: usize = 0;
let rowCap: i32 = 0;
export let rowCount: i32 = 0;
/** Row of the thread the next event comes from (-1: none named yet). */
export let currentRow: i32 = -1;
/** Row of thread id 0, once made (-1: none). */
export let zeroRow: i32 = -1;

// Pages 0 .. reservedPages - 1 are carved from one block (ledgerReserve) when first used, and
// freed with it.
let reservedBlock: usize = 0;
let reservedPages: u32 = 0;
// Memory's end before the reserved block was taken: its pages from here on are zero until made.
let reservedFresh: usize = 0;
// The largest hint used: 4 M ids (96 MiB of records; a hint is not checksummed, so it may lie).
const HINT_MAX_IDS: u32 = 1 << 22;

/**
 * Record pages are written once when made (ledgerWriteFirst): the .hst decoder reads a record
 * before it writes it (hst.ts stage), and a fresh 4 KiB page read first faults twice (zero page,
 * then its copy); written first, once. python.hst: pool -2,262 faults, tcmalloc -2,044, ptmalloc
 * -1,705 (whole.py). The text path writes a record first (the address map's birth): touching the
 * pages it leaves unused cost it +176, so it keeps the default.
 */
let writeFirst = false;
export function ledgerWriteFirst(): void { writeFirst = true; }

// Forgets every record and count (a new trace in the same instance).
export function ledgerReset(): void {
  writeFirst = false;
  rowsDerived = true;
  unrowedEvents = 0;
  for (let i: u32 = reservedPages; i < PAGES; i++) {
    const p = load<usize>(directory + (<usize>i << 2));
    if (p) { heap.free(p); store<usize>(directory + (<usize>i << 2), 0); }
  }
  freePages(birthDirectory);
  birthDirectory = 0;
  freePages(rowDirectory);
  rowDirectory = 0;
  if (reservedBlock) {
    heap.free(reservedBlock);
    memory.fill(directory, 0, <usize>reservedPages << 2);
    reservedBlock = 0;
    reservedPages = 0;
  }
  events = 0; allocs = 0; callocs = 0; alignedAllocs = 0; reallocs = 0; untracedReallocs = 0; frees = 0;
  implicitFrees = 0; marks = 0; ticks = 0; liveBlocks = 0; liveBytes = 0; peakLiveBytes = 0; peakEvent = 0;
  idHighWater = 0; oversizeRequests = 0;
  memory.fill(skips, 0, <usize>SKIP_REASON_COUNT * 8);
  wideBirths.clear();
  wideSizes.clear();
  wideRows.clear();
  wideCallers.clear();
  rowCount = 0; currentRow = -1; zeroRow = -1;
  S.statsReset();
}

// Frees the pages of side directory `dir` (PAGES page addresses, 0 = none) and the directory (if any).
function freePages(dir: usize): void {
  if (!dir) return;
  for (let i: u32 = 0; i < PAGES; i++) {
    const p = load<usize>(dir + (<usize>i << 2));
    if (p) heap.free(p);
  }
  heap.free(dir);
}

// ---------------------------------------------------------------- thread rows

/** A new row of zero counts; its index. */
export function newRow(): i32 {
  if (rowsDerived && rowCount == 1) { rowsSync(); rowsDerived = false; } // rows kept per event from now on
  if (rowCount == rowCap) {
    rowCap = rowCap ? rowCap * 2 : 16;
    rows = resize(rows, <usize>rowCap * ROW_BYTES);
  }
  memory.fill(rows + <usize>rowCount * ROW_BYTES, 0, ROW_BYTES);
  return rowCount++;
}

/** Address of row `r`. */
// @ts-ignore: decorator
@inline export function rowAt(r: i32): usize { return rows + <usize>r * ROW_BYTES; }

// @ts-ignore: decorator
@inline function rowAdd(r: usize, field: usize, delta: f64): void { store<f64>(r + field, load<f64>(r + field) + delta); }

// The current thread's row made if there is none yet (the implicit thread 0 of a trace that names
// no thread before its first event): inline, as one compare, at every event.
// @ts-ignore: decorator
@inline function rowMade(): void { if (currentRow < 0) firstRow(); }
function firstRow(): void {
  if (zeroRow < 0) {
    // No event was counted yet (each makes its row first): a row the host made already (a thread
    // that ended before the first event) holds no counts, and from the second row on the rows are
    // kept per event, so nothing is synced.
    if (rowCount > 0) rowsDerived = false;
    zeroRow = newRow();
  }
  currentRow = zeroRow;
}

// @ts-ignore: decorator
@inline function rowBytes(r: usize, delta: f64): void {
  const v = load<f64>(r + ROW_LIVE_BYTES) + delta;
  store<f64>(r + ROW_LIVE_BYTES, v);
  if (v > load<f64>(r + ROW_PEAK_LIVE_BYTES)) store<f64>(r + ROW_PEAK_LIVE_BYTES, v);
}

// True while the rows' event counts are the ledger's own (at most one row: see the top); then no
// event updates a row, and rowsSync writes row 0 from the ledger's counts.
let rowsDerived: bool = true;
// Events counted without a row (ledgerSkipEvents): the rows never saw them.
let unrowedEvents: u64 = 0;

/**
 * Writes the counts of the only row (row 0) from the ledger's counts, while they are derived (at
 * most one row: every event so far was that row's). Its thread ends are the host's and stay.
 * Called before the rows are read (trace/hst.ts hstRows) and when a second row is made.
 */
export function rowsSync(): void {
  if (!rowsDerived || rowCount != 1) return;
  const t = rowAt(0);
  store<f64>(t + ROW_EVENTS, <f64>(events - unrowedEvents));
  store<f64>(t + ROW_ALLOCS, <f64>(allocs + callocs + alignedAllocs)); // a birth not by a realloc
  store<f64>(t + ROW_REALLOCS, <f64>reallocs);                        // resizes and untraced reallocs
  store<f64>(t + ROW_FREES, <f64>frees);
  store<f64>(t + ROW_LIVE_BLOCKS, <f64>liveBlocks);
  store<f64>(t + ROW_LIVE_BYTES, <f64>liveBytes);
  store<f64>(t + ROW_PEAK_LIVE_BYTES, <f64>peakLiveBytes);
}

// ---------------------------------------------------------------- id records

// The record of `id` (any value), 0 when its page was never made.
// @ts-ignore: decorator
@inline function recordOf(id: u64): usize {
  if (id > MAX_BLOCK_ID) return 0;
  const p = load<usize>(directory + (<usize>(<u32>id >> PAGE_SHIFT) << 2));
  return p ? p + <usize>(<u32>id & PAGE_MASK) * REC_BYTES : 0;
}

// Takes one block for the pages of ids 0 .. min(idBound, HINT_MAX_IDS) - 1 (a `.hst` version 3
// header's hint, given right after ledgerReset): one allocation instead of one per page. A page is
// still made (zeroed) only when an id of its range is first used, so a hint above the truth costs
// address space, not touched memory; ids beyond it get pages of their own, as without a hint.
export function ledgerReserve(idBound: f64): void {
  if (reservedBlock || !(idBound >= 1)) return;
  const pages = (<u32>Math.min(idBound, <f64>HINT_MAX_IDS) + PAGE_IDS - 1) >> PAGE_SHIFT;
  for (let i: u32 = 0; i < pages; i++) if (load<usize>(directory + (<usize>i << 2))) return; // records exist already
  reservedFresh = memoryEnd();
  reservedBlock = heap.alloc(<usize>pages * PAGE_BYTES);
  reservedPages = pages;
}

/** The record of a valid id (<= MAX_BLOCK_ID), its page made if needed (never 0). */
export function recordMade(id: u32): usize {
  const slot = directory + (<usize>(id >> PAGE_SHIFT) << 2);
  let p = load<usize>(slot);
  if (!p) {
    // Zeroed, where the memory is not zero already (zeroed.ts: a first touch of a fresh page is a
    // page fault, taken here by the record's own first store instead).
    const page = id >> PAGE_SHIFT;
    if (page < reservedPages) {
      p = reservedBlock + <usize>page * PAGE_BYTES;
      zeroBelow(p, PAGE_BYTES, reservedFresh);
    } else p = allocZeroed(PAGE_BYTES);
    if (writeFirst) writeTouch(p, PAGE_BYTES);
    store<usize>(slot, p);
  }
  return p + <usize>(id & PAGE_MASK) * REC_BYTES;
}

// ---------------------------------------------------------------- plain records, for the decoder's loop
//
// trace/hst.ts applyStaged keeps the counts in locals over a run of staged records and does the
// common ones itself with these, when the ledger's bookkeeping is plain (see plainBookkeeping);
// any other record goes through bornMade/freedAt and the rest as before.

/**
 * True while a birth or a free changes no row and no stats: stats not collecting, at most one
 * row (the counts are the ledger's own), the current thread row 0, no row pages. Then a plain
 * record's birth or free is its word 0 and the counts alone (bornMade, freedAt).
 */
// @ts-ignore: decorator
@inline export function plainBookkeeping(): bool {
  return !S.collecting && rowsDerived && currentRow == 0 && !rowDirectory;
}
/** plainLiveSize's answer for a record that is not live or whose size is wide. */
export const NOT_PLAIN: u32 = 0xFFFFFFFF;
/** The requested bytes of a live record of word 0 `w` with a narrow size, else NOT_PLAIN. */
// @ts-ignore: decorator
@inline export function plainLiveSize(w: u32): u32 {
  const s = w & SIZE_WIDE;
  return (w & STATE_BITS) == (STATE_LIVE << STATE_SHIFT) && s != SIZE_WIDE ? s : NOT_PLAIN;
}
/** Word 0 of a record of word 0 `w` freed (freedAt's store). */
// @ts-ignore: decorator
@inline export function freedWord(w: u32): u32 { return (w & ~STATE_BITS) | (STATE_FREED << STATE_SHIFT); }
/**
 * Word 0 of a record of word 0 `w` born with `size` bytes and `caller` (bornMade's store), or 0
 * when that takes more than the word: the record is live (an implicit free first), or the old or
 * the new size or caller is wide (a side table entry to drop or make).
 */
// @ts-ignore: decorator
@inline export function plainBornWord(w: u32, size: u64, caller: i32): u32 {
  const v = <u32>(caller + 1);
  if ((w & STATE_BITS) == (STATE_LIVE << STATE_SHIFT) || (w & SIZE_WIDE) == SIZE_WIDE || (w >> CALLER_SHIFT) == CALLER_WIDE) return 0;
  if (size >= <u64>SIZE_WIDE || v >= CALLER_WIDE) return 0;
  return <u32>size | (STATE_LIVE << STATE_SHIFT) | (v << CALLER_SHIFT);
}

// @ts-ignore: decorator
@inline export function isLive(id: u64): bool { return isLiveAt(recordOf(id)); }
// @ts-ignore: decorator
@inline export function wasFreed(id: u64): bool { return wasFreedAt(recordOf(id)); }

// The same with the record looked up once by the caller (recordAt) and handed on to the calls below
// that take it (bornAt, freedAt, implicitFreedAt): one directory walk per record decoded.
/** The record of `id` (any value), 0 when its page was never made. */
// @ts-ignore: decorator
@inline export function recordAt(id: u64): usize { return recordOf(id); }
/** recordAt of an id known to be <= MAX_BLOCK_ID (no range test). */
// @ts-ignore: decorator
@inline export function recordAtValid(id: u32): usize {
  const p = load<usize>(directory + (<usize>(id >> PAGE_SHIFT) << 2));
  return p ? p + <usize>(id & PAGE_MASK) * REC_BYTES : 0;
}
// @ts-ignore: decorator
@inline export function isLiveAt(r: usize): bool { return r != 0 && stateAt(r) == STATE_LIVE; }
/** isLiveAt of a record that exists (recordMade's, never 0): no test of the address. */
// @ts-ignore: decorator
@inline export function isLiveMade(r: usize): bool { return stateAt(r) == STATE_LIVE; }
// @ts-ignore: decorator
@inline export function wasFreedAt(r: usize): bool { return r != 0 && stateAt(r) == STATE_FREED; }

// False when an allocation of `size` (aligned to `align`) could not be served by any simulated
// architecture, or would take the live bytes beyond the largest address space.
// @ts-ignore: decorator
@inline export function fits(size: u64, align: u64): bool {
  return size <= MAX_REQUEST_BYTES && align <= MAX_REQUEST_BYTES && liveBytes + size <= MAX_REQUEST_BYTES;
}
/** Below this a size can be added to the live bytes (at most MAX_REQUEST_BYTES) without overflow. */
export const FITS_SUM_SIZE_LIMIT: u64 = 1 << 56;
// fits(size, 1) for a size below FITS_SUM_SIZE_LIMIT (the decoder's staged sizes): the live bytes
// never exceed MAX_REQUEST_BYTES, so their sum with such a size does not overflow, and a sum
// within MAX_REQUEST_BYTES bounds the size as well: one test instead of two.
// @ts-ignore: decorator
@inline export function fitsBelowLimit(size: u64): bool { return liveBytes + size <= MAX_REQUEST_BYTES; }
// Like fits, for resizing live block `id` to `size`.
// @ts-ignore: decorator
@inline export function fitsResize(id: u32, size: u64): bool {
  return size <= MAX_REQUEST_BYTES && liveBytes - sizeAt(id, recordOf(id)) + size <= MAX_REQUEST_BYTES;
}

// Keeps birth event `e` of block `id` (births kept: S.collecting), its birth page made if needed.
function keepBirth(id: u32, e: u64): void {
  if (!birthDirectory) birthDirectory = allocZeroed(BIRTH_DIRECTORY_BYTES);
  const slot = birthDirectory + (<usize>(id >> PAGE_SHIFT) << 2);
  let p = load<usize>(slot);
  if (!p) {
    p = allocZeroed(BIRTH_PAGE_BYTES);
    store<usize>(slot, p);
  }
  const b = p + <usize>(id & PAGE_MASK) * BIRTH_BYTES;
  if (e < <u64>BIRTH_WIDE) store<u32>(b, <u32>e);
  else { store<u32>(b, BIRTH_WIDE); wideBirths.set(id, e); }
}

// Birth event of live block `id` (births kept: its birth page exists).
function birthOf(id: u32): u64 {
  const page = load<usize>(birthDirectory + (<usize>(id >> PAGE_SHIFT) << 2));
  const b = load<u32>(page + <usize>(id & PAGE_MASK) * BIRTH_BYTES);
  return b == BIRTH_WIDE ? wideBirths.get(id) : <u64>b;
}

// Live block `id` ends at event `e` (births kept): its lifetime counted, its wide birth dropped.
function birthEnds(id: u32, e: u64): void {
  const birth = birthOf(id);
  if (birth >= <u64>BIRTH_WIDE) wideBirths.delete(id);
  S.countLifetime(e - birth);
}

// Frees live block `id` (record `r`) without an event (implicit free) or as one (free): the shared
// part. Returns the block's requested bytes.
// @ts-ignore: decorator
@inline function unlive(id: u32, r: usize): u64 {
  const w = load<u32>(r, REC_SIZE);
  const s = w & SIZE_WIDE;
  const size = s == SIZE_WIDE ? wideSizes.get(id) : <u64>s;
  store<u32>(r, (w & ~STATE_BITS) | (STATE_FREED << STATE_SHIFT), REC_SIZE); // setState, word 0 read once
  liveBlocks--;
  liveBytes -= size;
  return size;
}

// @ts-ignore: decorator
@inline function ownerLoses(id: u32, r: usize): void {
  const owner = rowAt(rowOf(id));
  rowAdd(owner, ROW_LIVE_BLOCKS, -1);
  rowBytes(owner, -<f64>sizeAt(id, r));
}

/** Live block `id` freed because its id was handed out again (not an event); its requested bytes. */
// @ts-ignore: decorator
@inline export function implicitFreed(id: u32): u64 { return implicitFreedAt(id, recordOf(id)); }
/** implicitFreed of the block whose record is `r`. */
export function implicitFreedAt(id: u32, r: usize): u64 {
  implicitFrees++;
  if (S.collecting) birthEnds(id, events);
  const size = unlive(id, r);
  if (!rowsDerived) ownerLoses(id, r);
  return size;
}

/**
 * A new live block (the caller checked fits and counted the call; `id` <= MAX_BLOCK_ID, not live:
 * the caller made the implicit free first). `asRealloc`: an untraced realloc.
 */
// @ts-ignore: decorator
@inline export function born(id: u32, size: u64, caller: i32, asRealloc: bool): void { bornAt(id, recordOf(id), size, caller, asRealloc); }
/** born, with `rec` = recordAt(id) (0: none made yet). Inline: one call less per birth. */
// @ts-ignore: decorator
@inline export function bornAt(id: u32, rec: usize, size: u64, caller: i32, asRealloc: bool): void {
  bornMade(id, rec ? rec : recordMade(id), size, caller, asRealloc);
}
/** born, with `r` = the record of `id` that exists (recordMade's, never 0). */
// @ts-ignore: decorator
@inline export function bornMade(id: u32, r: usize, size: u64, caller: i32, asRealloc: bool): void {
  if (<u64>id >= idHighWater) idHighWater = <u64>id + 1;
  // Counters through locals: each global read once (V8 reloads a global after its store).
  const e = events + 1;
  events = e;
  if (S.collecting) { S.countSize(size); keepBirth(id, e); }
  rowMade();
  // Word 0 written once: size, live, and the current row (each wide value's side table entry
  // made or dropped as its bits change).
  const w = load<u32>(r, REC_SIZE);
  store<u32>(r, sizeBits(id, w, size) | (STATE_LIVE << STATE_SHIFT) | callerBits(id, w, caller), REC_SIZE);
  rowKept(id);
  liveBlocks++;
  const live = liveBytes + size;
  liveBytes = live;
  if (live > peakLiveBytes) { peakLiveBytes = live; peakEvent = e; }
  if (!rowsDerived) {
    const t = rowAt(currentRow);
    rowAdd(t, ROW_EVENTS, 1);
    rowAdd(t, asRealloc ? ROW_REALLOCS : ROW_ALLOCS, 1);
    rowAdd(t, ROW_LIVE_BLOCKS, 1);
    rowBytes(t, <f64>size);
  }
}

/** Live block `id` resized (the caller checked fitsResize and counted the call). */
export function resized(id: u32, size: u64, caller: i32): void {
  const r = recordOf(id);
  const e = ++events;
  if (S.collecting) S.countSize(size);
  rowMade();
  if (!rowsDerived) {
    const t = rowAt(currentRow);
    ownerLoses(id, r);
    rowAdd(t, ROW_EVENTS, 1);
    rowAdd(t, ROW_REALLOCS, 1);
    rowAdd(t, ROW_LIVE_BLOCKS, 1);
    rowBytes(t, <f64>size);
  }
  liveBytes = liveBytes - sizeAt(id, r) + size;
  const w = load<u32>(r, REC_SIZE);
  const callerPart = caller != NO_CALLER ? callerBits(id, w, caller) : w & CALLER_BITS;
  store<u32>(r, sizeBits(id, w, size) | (STATE_LIVE << STATE_SHIFT) | callerPart, REC_SIZE);
  rowKept(id);
  if (liveBytes > peakLiveBytes) { peakLiveBytes = liveBytes; peakEvent = e; }
}

/** Live block `id` freed (one event); its requested bytes. */
// @ts-ignore: decorator
@inline export function freed(id: u32): u64 { return freedAt(id, recordOf(id)); }
/** freed, of the block whose record is `r`. Inline: one call less per free. */
// @ts-ignore: decorator
@inline export function freedAt(id: u32, r: usize): u64 {
  frees++;
  const e = events + 1;
  events = e;
  if (S.collecting) birthEnds(id, e);
  const size = unlive(id, r);
  rowMade();
  if (!rowsDerived) {
    const t = rowAt(currentRow);
    rowAdd(t, ROW_EVENTS, 1);
    rowAdd(t, ROW_FREES, 1);
    ownerLoses(id, r);
  }
  return size;
}

/** A call that changed nothing: one event. */
export function skipped(reason: u32): void {
  const p = skips + (<usize>reason << 3);
  store<u64>(p, load<u64>(p) + 1);
  ++events;
  rowMade();
  if (!rowsDerived) rowAdd(rowAt(currentRow), ROW_EVENTS, 1);
}

/** An allocation no architecture can serve: a failed allocation, counted as oversize. */
export function refused(): void {
  oversizeRequests++;
  skipped(SKIP_FAILED_ALLOC);
}

// ---------------------------------------------------------------- read by the host

// Writes up to `max` live blocks with ids from `from` on, in id order, as (id, bytes, caller,
// birth) f64 quadruples to `out` (birth -1 while births are not kept: see the top); returns how
// many were written. ledgerNextId() is where to go on.
let nextId: u64 = 0;
/** Records ledgerLive tests in one step of its scan. */
const SCAN_STEP_RECORDS: usize = 4;
/**
 * The first live record in [r, end) (records of one page, in order), else `end`. The host calls
 * ledgerLive once at the end of a run, over every id (python.hst: 1.2 M), so it runs in V8's
 * baseline tier (Liftoff keeps no local in a register across a loop's back edge): a loop of the
 * record pointer alone, four records a step, is the cheap form there (34 -> ~10 M instructions).
 */
// @ts-ignore: decorator
@inline function nextLive(r: usize, end: usize): usize {
  const LIVE = STATE_LIVE << STATE_SHIFT;
  while (r + SCAN_STEP_RECORDS * REC_BYTES <= end) {
    if ((load<u32>(r, REC_SIZE) & STATE_BITS) == LIVE) return r;
    if ((load<u32>(r, REC_BYTES + REC_SIZE) & STATE_BITS) == LIVE) return r + REC_BYTES;
    if ((load<u32>(r, 2 * REC_BYTES + REC_SIZE) & STATE_BITS) == LIVE) return r + 2 * REC_BYTES;
    if ((load<u32>(r, 3 * REC_BYTES + REC_SIZE) & STATE_BITS) == LIVE) return r + 3 * REC_BYTES;
    r += SCAN_STEP_RECORDS * REC_BYTES;
  }
  while (r < end && (load<u32>(r, REC_SIZE) & STATE_BITS) != LIVE) r += REC_BYTES;
  return r;
}
export function ledgerLive(from: u32, out: usize, max: i32): i32 {
  let n = 0;
  let id = <u64>from;
  const high = idHighWater;
  while (id < high && n < max) {
    const page = load<usize>(directory + (<usize>(<u32>id >> PAGE_SHIFT) << 2));
    const pageEnd = ((id >> PAGE_SHIFT) + 1) << PAGE_SHIFT;
    if (!page) { id = pageEnd; continue; }
    // The ids of this page below the high water mark: one directory load per page, records in order.
    const stop = min(pageEnd, high);
    const first = page + <usize>(<u32>id & PAGE_MASK) * REC_BYTES;
    const end = first + <usize>(stop - id) * REC_BYTES;
    let r = first;
    while (r < end) {
      r = nextLive(r, end);
      if (r == end) break;
      if (n == max) break;
      const live = <u32>(id + <u64>((r - first) / REC_BYTES));
      const o = out + (<usize>n << 5);
      store<f64>(o, <f64>live);
      store<f64>(o, <f64>sizeAt(live, r), 8);
      store<f64>(o, <f64>callerOf(live, r), 16);
      store<f64>(o, S.collecting ? <f64>birthOf(live) : -1, 24);
      n++;
      r += REC_BYTES;
    }
    id += <u64>((r - first) / REC_BYTES);
  }
  nextId = id;
  return n;
}
export function ledgerNextId(): u32 { return <u32>nextId; }

// Pages of id records made (PAGE_BYTES each), for the memory bound.
export function ledgerPages(): i32 {
  let n = 0;
  for (let i: u32 = 0; i < PAGES; i++) if (load<usize>(directory + (<usize>i << 2))) n++;
  return n;
}
export function ledgerPageBytes(): i32 { return <i32>PAGE_BYTES; }

/**
 * The engine of this instance keeps its id entries in these records from now on (the one-instance
 * replay, trace/hst.ts hstDirect): one record per id instead of the ledger's and the engine's id
 * table. An allocation and a free take the block's requested bytes from their op (a free's op
 * carries what freed/implicitFreed return), so the ledger may free an id and make it live again
 * before the engine has applied the free. The engine reads word 0's size for a realloc's old size
 * (and in checks): the decoder applies its pending ops before resized() writes the new one.
 * Records are only ever made zeroed (engine entry 0: not live in the engine).
 */
export function ledgerShareWithEngine(): void {
  idShareRecords(directory, PAGES, REC_BYTES, REC_ENGINE, REC_SIZE, SIZE_WIDE);
}

/** Moves the event count on by `n` events that touch no record (tests: birth events beyond 2^32). */
export function ledgerSkipEvents(n: u64): void { events += n; unrowedEvents += n; }
