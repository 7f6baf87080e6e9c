// === .hst records decoded inside WASM ===
//
// The host's reader (src/trace/formats/hst.ts HstParser) keeps the header, the chunking, the
// checksum, the trailer and every message; its WASM variant (src/trace/formats/hst-wasm.ts) copies
// each run of record bytes into the input buffer here and calls hstRecords. The records are decoded
// here, checked, kept in the trace ledger (trace/ledger.ts) and turned into op records for heap 0
// in the output buffer, which the host copies into its op batches. The host is called back (the
// call returns a code, the host answers and calls hstResume) only for what it keeps: strings
// (labels, callers), thread ids, the END record, a full output buffer, and errors (a code, the
// record's offset and its values; the host writes the message). The rules and the order of the
// checks are those of the host reader's record loop, which stays as the reference:
// test/trace/hst-wasm.test.ts runs both on the same bytes, valid and damaged.

import { resize } from "../mem";
import { Op } from "../abi";
import * as L from "./ledger";
import { traceBegin, traceRun, inReplayMode } from "../engine";
import {
  born, resized, freed, skipped, refused, implicitFreed, isLive, wasFreed, fits, fitsResize, ledgerReset, newRow, rowAt,
  ledgerShareWithEngine, recordAt, recordAtValid, recordMade, isLiveAt, isLiveMade, wasFreedAt, bornMade, freedAt,
  implicitFreedAt, fitsBelowLimit,
  MAX_BLOCK_ID, NO_CALLER, SKIP_DOUBLE_FREE, SKIP_UNMATCHED_FREE, SKIP_REASON_COUNT, ROW_ENDS,
} from "./ledger";

// Record opcodes (src/trace/formats/hst.ts OP_*).
const OP_ALLOC: u32 = 0x01;
const OP_CALLOC: u32 = 0x02;
const OP_ALIGNED: u32 = 0x03;
const OP_REALLOC: u32 = 0x04;
const OP_FREE: u32 = 0x05;
const OP_SKIP: u32 = 0x06;
const OP_MARK: u32 = 0x07;
const OP_TICK: u32 = 0x08;
const OP_THREAD: u32 = 0x09;
const OP_DEF_LABEL: u32 = 0x0a;
const OP_DEF_CALLER: u32 = 0x0b;
const OP_UNTRACED_REALLOC: u32 = 0x0c;
const OP_IMPLICIT_FREE: u32 = 0x0d;
const OP_THREAD_END: u32 = 0x0e;
const OP_END: u32 = 0x0f;
const OP_HAS_CALLER: u32 = 0x80;

const MAX_VARINT_BYTES: i32 = 10;
const LAST_VARINT_BYTE_MAX: u32 = 1;
const MAX_STRING_BYTES: u64 = 1 << 20;               // src/trace/lines.ts MAX_LINE_BYTES
const TWO_POW_53: u64 = 1 << 53;                      // first integer a JavaScript number cannot hold exactly
const MAX_LABELS: u32 = 0x10000;                      // a MARK op keeps its label index in 16 bits
const FREE_IMPLICIT: u32 = 1;                         // abi.ts FREE arg bit 0
/** Most ops one record emits (an implicit free and an allocation). */
const MAX_OPS_PER_RECORD: i32 = 2;

// What hstRecords and hstResume return (src/trace/formats/hst-wasm.ts mirrors these).
export const R_DONE: i32 = 0;        // no record left to start before the safe end; hstPos() = next
export const R_WAIT: i32 = 1;        // a string runs past the input: hstPos() = its record's start
export const R_TRUNCATED: i32 = 2;   // the last record runs past the end of input: hstPos() = its start
export const R_LABEL: i32 = 3;       // a label string at hstRecordStart()..+hstValue(): answer hstLabel()
export const R_CALLER: i32 = 4;      // a caller string at hstRecordStart()..+hstValue(): answer hstCaller()
export const R_THREAD: i32 = 5;      // thread switch to hstValue() (its op is out): answer hstSetRow()
export const R_THREAD_END: i32 = 6;  // thread hstValue() ended (its op is out): answer hstRowEnd()
export const R_END: i32 = 7;         // END record with count hstValue(), at hstRecordStart(); decoding stops
export const R_FULL: i32 = 8;        // the output buffer is full: take the ops, resume
export const R_ERROR: i32 = 9;       // hstError() at hstRecordStart(), values hstValue(), hstValue2()

// Error codes (messages on the host).
export const E_OPCODE: i32 = 1;          // value = opcode byte
export const E_VARINT_64: i32 = 2;
export const E_NON_CANONICAL: i32 = 3;
export const E_ALIGN: i32 = 4;           // value = alignment
export const E_CALLER: i32 = 5;          // value = caller index
export const E_ID_LARGE: i32 = 6;        // value = id
export const E_REALLOC_ZERO: i32 = 7;
export const E_UNTRACED: i32 = 8;        // value = id
export const E_IMPLICIT: i32 = 9;        // value = id
export const E_SKIP_REASON: i32 = 10;    // value = reason
export const E_LABEL: i32 = 11;          // value = label index
export const E_TICK: i32 = 12;
export const E_THREAD: i32 = 13;
export const E_STRING_LONG: i32 = 14;    // value = length
export const E_TOO_MANY_LABELS: i32 = 15;

let inBuf: usize = 0;
let inCap: i32 = 0;
let n: i32 = 0;
let safeEnd: i32 = 0;
let atEnd: bool = false;
let pos: i32 = 0;
let lenient: bool = false;
let recordStart: i32 = 0;
let value: u64 = 0;
let value2: u64 = 0;
let errCode: i32 = 0;
let nonCanonical: u64 = 0;

let outBuf: usize = 0;
let outCap: i32 = 0;
let nOps: i32 = 0;
// Direct mode (hstDirect): the ops go to this instance's engine instead of the host, which runs
// the replay on this instance. They are written to the output buffer all the same and applied from
// there in runs (applyOps: engine.ts traceRun, heap 0's policy's own batch loop) before every
// return to the host and before a resize rewrites the size the engine's realloc reads (see
// applyOps). nOps counts the ops of a call as in the other mode, so a call returns R_FULL at the
// same points and takes a bounded number of samples.
let direct: bool = false;
let applied: i32 = 0;          // direct mode: ops [0, applied) of this call are applied

let labelMap: usize = 0;
let labelCount: u32 = 0;
let labelCap: u32 = 0;
let callerMap: usize = 0;
let callerCount: u32 = 0;
let callerCap: u32 = 0;

// ---------------------------------------------------------------- host interface

/** Starts a trace: every record, count and string map forgotten; `outOps` = output buffer size. */
export function hstBegin(isLenient: i32, outOps: i32): void {
  ledgerReset();
  L.ledgerWriteFirst(); // stage() reads a record before applyStaged writes it
  lenient = isLenient != 0;
  if (outOps > outCap) { outBuf = resize(outBuf, <usize>outOps << 4); outCap = outOps; }
  nOps = 0; labelCount = 0; callerCount = 0; nonCanonical = 0; errCode = 0;
}

/** The input buffer, made room for `bytes`; the host writes the record bytes to decode there. */
export function hstInput(bytes: i32): usize {
  if (bytes > inCap) { inBuf = resize(inBuf, <usize>bytes); inCap = bytes; }
  return inBuf;
}

/**
 * Direct mode on (1) or off (0): the ops of the records decoded from now on are applied to this
 * instance's heap 0 (in runs, engine.ts traceRun, before each return), and the host takes none.
 * The host reads the samples after every return (each call starts them afresh, as runBatch does).
 * The engine keeps its id entries in the ledger's records from the first direct call on, for the
 * rest of the instance's life (ledgerShareWithEngine; before any op of the engine named an id),
 * when it runs in replay mode (what `heapsim run` makes): there every op the ledger applies reaches
 * the engine with the ledger's size. An engine with C semantics keeps the old block of a failed
 * realloc, whose size the ledger no longer has: it keeps its own id table.
 */
export function hstDirect(on: i32): void {
  direct = on != 0;
  if (direct && inReplayMode()) ledgerShareWithEngine();
}

/** Decodes input [0, count) (`safe`: no fixed-field record starts at or after it unless `last`). */
export function hstRecords(count: i32, safe: i32, last: i32): i32 {
  n = count; safeEnd = safe; atEnd = last != 0; pos = 0;
  return hstResume();
}

/** Goes on after a call back was answered. */
export function hstResume(): i32 {
  nOps = 0;
  applied = 0;
  if (!direct) return records();
  traceBegin();
  const r = records();
  applyOps(); // every return lets the host read the engine (samples, failures, the end)
  return r;
}

export function hstOut(): usize { return outBuf; }

let scratch: usize = 0;
let scratchCap: i32 = 0;
/** A buffer of at least `bytes` for what the host reads out (counts, live blocks). */
export function hstScratch(bytes: i32): usize {
  if (bytes > scratchCap) { scratch = resize(scratch, <usize>bytes); scratchCap = bytes; }
  return scratch;
}
export function hstOutOps(): i32 { return nOps; }
export function hstPos(): i32 { return pos; }
export function hstRecordStart(): i32 { return recordStart; }
export function hstValue(): f64 { return <f64>value; }
export function hstValue2(): f64 { return <f64>value2; }
export function hstError(): i32 { return errCode; }
export function hstNonCanonical(): f64 { return <f64>nonCanonical; }

/** The label just defined is the ledger's label `index`. */
export function hstLabel(index: i32): void {
  if (labelCount == labelCap) { labelCap = labelCap ? labelCap * 2 : 64; labelMap = resize(labelMap, <usize>labelCap << 2); }
  store<i32>(labelMap + (<usize>labelCount << 2), index);
  labelCount++;
}

/** The caller just defined is the ledger's caller `index`. */
export function hstCaller(index: i32): void {
  if (callerCount == callerCap) { callerCap = callerCap ? callerCap * 2 : 256; callerMap = resize(callerMap, <usize>callerCap << 2); }
  store<i32>(callerMap + (<usize>callerCount << 2), index);
  callerCount++;
}

/** A new thread row (the host's thread id table grows beside it). */
export function hstNewRow(): i32 { return newRow(); }
/** Rows made so far (here: the implicit thread 0's). */
export function hstRowCount(): i32 { return L.rowCount; }
/** Thread id 0's row is `r` (made by the host). */
export function hstZeroRow(r: i32): void { L.zeroRow = r; }
/** The next events come from the thread of row `r`. */
export function hstSetRow(r: i32): void { L.currentRow = r; }
/** The thread of row `r` ended once more. */
export function hstRowEnd(r: i32): void { const p = rowAt(r) + ROW_ENDS; store<f64>(p, load<f64>(p) + 1); }
/** Address of row 0 (rows are contiguous, hstRowBytes() each), their counts up to date. */
export function hstRows(): usize { L.rowsSync(); return rowAt(0); }
export function hstRowBytes(): i32 { return <i32>L.ROW_BYTES; }

/** The ledger's counts as f64 slots at `out` (order: COUNT_SLOTS in src/trace/formats/hst-wasm.ts). */
export function hstCounts(out: usize): void {
  store<f64>(out, <f64>L.events);
  store<f64>(out, <f64>L.allocs, 8);
  store<f64>(out, <f64>L.callocs, 16);
  store<f64>(out, <f64>L.alignedAllocs, 24);
  store<f64>(out, <f64>L.reallocs, 32);
  store<f64>(out, <f64>L.untracedReallocs, 40);
  store<f64>(out, <f64>L.frees, 48);
  store<f64>(out, <f64>L.implicitFrees, 56);
  store<f64>(out, <f64>L.marks, 64);
  store<f64>(out, <f64>L.ticks, 72);
  store<f64>(out, <f64>L.liveBlocks, 80);
  store<f64>(out, <f64>L.liveBytes, 88);
  store<f64>(out, <f64>L.peakLiveBytes, 96);
  store<f64>(out, <f64>L.peakEvent, 104);
  store<f64>(out, <f64>L.idHighWater, 112);
  store<f64>(out, <f64>L.oversizeRequests, 120);
  for (let r: u32 = 0; r < SKIP_REASON_COUNT; r++) store<f64>(out + 128 + (<usize>r << 3), <f64>load<u64>(L.skips + (<usize>r << 3)));
}
/** Bytes hstCounts writes. */
export function hstCountsBytes(): i32 { return 128 + <i32>SKIP_REASON_COUNT * 8; }

// ---------------------------------------------------------------- decoding

// One op record for heap 0 (both modes; direct mode applies it later, applyOps). A FREE's `size`
// is the block's requested bytes (what the ledger's freed/implicitFreed return): in direct mode
// the record carries it, for the engine takes a free's size from its op when it shares the
// ledger's records (ids.ts idTake); the host's records keep 0 there, as its own reader writes.
// @ts-ignore: decorator
@inline function emit(opcode: u32, arg: u32, id: u32, size: u64): void {
  const k = nOps; // read once (V8 reloads a global after its store)
  const p = outBuf + (<usize>k << 4);
  store<u32>(p, opcode | (arg << 16));   // heap 0
  store<u32>(p, id, 4);
  store<u64>(p, opcode == <u32>Op.FREE && !direct ? 0 : size, 8);
  nOps = k + 1;
}

// Direct mode: the ops written since the last run applied to the engine, in order (engine.ts
// traceRun). The engine reads its own state and, with shared id records (ledgerShareWithEngine),
// the ledger's record of an id for its entry word and, in a realloc, the old requested bytes
// (an allocation and a free take theirs from the op): so a run is applied before every return to
// the host and before resized() writes a new size, and nowhere else.
function applyOps(): void {
  if (applied < nOps) {
    traceRun(outBuf, applied, nOps);
    applied = nOps;
  }
}

function fail(code: i32, v: u64): i32 {
  errCode = code; value = v;
  return R_ERROR;
}

// Set by varint(): the position after it, or why it failed.
let vEnd: i32 = 0;
const V_OK: i32 = 0;
const V_TRUNCATED: i32 = 1;
const V_FAILED: i32 = 2;   // errCode set
let vStatus: i32 = V_OK;

// One varint at `p` (src/trace/formats/hst.ts HstParser.varint): its value; vEnd, vStatus.
function varint(p: i32): u64 {
  let v: u64 = 0;
  for (let i = 0; ; i++) {
    if (p >= n) { vStatus = V_TRUNCATED; return 0; }
    const b = <u32>load<u8>(inBuf + <usize>p);
    p++;
    if (i == MAX_VARINT_BYTES - 1 && b > LAST_VARINT_BYTE_MAX) { fail(E_VARINT_64, 0); vStatus = V_FAILED; return 0; }
    v |= <u64>(b & 0x7F) << <u64>(7 * i);
    if (b < 0x80) {
      if (b == 0 && i > 0) {
        if (!lenient) { fail(E_NON_CANONICAL, 0); vStatus = V_FAILED; return 0; }
        nonCanonical++;
      }
      vEnd = p;
      vStatus = V_OK;
      return v;
    }
  }
  return 0; // not reached: the tenth byte ends the loop
}

// @ts-ignore: decorator
@inline function isPowerOfTwo(v: u64): bool { return v != 0 && (v & (v - 1)) == 0; }

// A new block at `id` (fits checked): an allocation into a live id frees the older block first.
// `known`: the id's ledger record when the caller has it (applyStaged's early read), else 0.
// @ts-ignore: decorator
// The record is made first when it is not known (its page zeroed: not live), so the tests below
// take it as it is.
@inline function newBlock(id: u32, size: u64, caller: i32, asRealloc: bool, known: usize): void {
  const r = known ? known : recordMade(id);
  if (isLiveMade(r)) emit(<u32>Op.FREE, FREE_IMPLICIT, id, implicitFreedAt(id, r));
  bornMade(id, r, size, caller, asRealloc);
}

// An untraced realloc of `id` (not live): an allocation of the new size, counted as a realloc.
function untraced(id: u32, size: u64, caller: i32): void {
  if (!fits(size, 1)) { refused(); emit(<u32>Op.SKIP, 0, 0, 1); return; }
  L.reallocs++;
  L.untracedReallocs++;
  newBlock(id, size, caller, true, 0);
  emit(<u32>Op.ALLOC, 0, id, size);
}

// ---------------------------------------------------------------- staging
//
// The ledger's per-id record is a cache miss for most events of a long trace (ids spread over tens
// of megabytes). The common records (alloc, calloc, realloc, free, skip with canonical varints and
// fields the ledger does not judge) are decoded STAGE at a time first, each id's record read as
// it is decoded (so its miss overlaps the decoding and applying of the records between), then
// applied in order.
// A record that is anything else ends the run of staged ones and goes through the general path
// below (after the staged ones are applied), so order and every check stay as they were.

const STAGE: i32 = 32;
const ST_BYTES: usize = 32;          // u32 op byte, u32 id, u64 size, i32 caller, u32 end (an address), u32 record
const ST_RECORD: usize = 24;         // the ledger record of the id when the early read found one, else 0
const staged = memory.data(<i32>(<usize>STAGE * ST_BYTES));
const aheadSink = memory.data(8);
/** Longest varint staged: values below 2^56 (a longer one takes the general path). */
const STAGE_VARINT_BYTES: i32 = 8;
// A staged size (7 value bits a byte: below 2^56) is checked by fitsBelowLimit, which needs it
// below ledger.ts FITS_SUM_SIZE_LIMIT = 2^56: a longer staged varint needs fits() instead.
/** stageVarint's result: value << VARINT_LENGTH_BITS | length in bytes; 0 = not staged. */
const VARINT_LENGTH_BITS: u64 = 8;
const VARINT_LENGTH_MASK: u64 = (1 << VARINT_LENGTH_BITS) - 1;

// A canonical varint of at most STAGE_VARINT_BYTES at `p` (< end), wholly before `end`: its value
// << VARINT_LENGTH_BITS | its length, or 0 when it is not (longer, cut by `end`, non-canonical: the
// general path reads, counts or refuses it). Lengths 1 to 3 (ids below 2^21, sizes, caller
// indexes: nearly every field) inline, in registers; longer ones out of line. Lengths 2 and 3 with
// four bytes before `end` from one u32 load (stageVarintWord); else byte by byte.
// @ts-ignore: decorator
@inline function stageVarint(p: usize, end: usize): u64 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0x80) return (<u64>b0 << VARINT_LENGTH_BITS) | 1;
  if (p + WORD_BYTES <= end) return stageVarintWord(p, end, load<u32>(p));
  return stageVarintBytes(p, end, b0);
}

const WORD_BYTES: usize = 4;
const BYTE1_STOP: u32 = 0x8000;        // continuation bit of byte 1 in a little-endian u32 (clear: it ends there)
const BYTE2_STOP: u32 = 0x800000;
const BYTE1_BITS: u32 = 0xFF00;
const BYTE2_BITS: u32 = 0xFF0000;

// stageVarint of a varint whose first byte continues, with w = the four bytes at `p` (all before
// `end`): bytes 0-2 gathered by shifts and masks, as the byte loop would read them.
// The stop bits are tested first and each length gathers its value bits in its own branch: V8
// computed bytes 0-1's bits before the first test and again for three bytes (the common id).
// @ts-ignore: decorator
@inline function stageVarintWord(p: usize, end: usize, w: u32): u64 {
  if (!(w & BYTE1_STOP)) {
    if ((w & BYTE1_BITS) == 0) return 0;
    return (<u64>((w & 0x7F) | ((w >> 1) & 0x3F80)) << VARINT_LENGTH_BITS) | 2;   // bytes 0 and 1
  }
  const v3 = (w & 0x7F) | ((w >> 1) & 0x3F80) | ((w >> 2) & 0x1FC000);          // bytes 0, 1 and 2
  if (!(w & BYTE2_STOP)) return (w & BYTE2_BITS) == 0 ? 0 : (<u64>v3 << VARINT_LENGTH_BITS) | 3;
  return stageVarintLong(p, end, <u64>v3);
}

// stageVarint's bytes 1 and 2 read one by one (fewer than four bytes before `end`).
// @ts-ignore: decorator
@inline function stageVarintBytes(p: usize, end: usize, b0: u32): u64 {
  if (p + 1 >= end) return 0;
  const b1 = <u32>load<u8>(p, 1);
  let v = (b0 & 0x7F) | ((b1 & 0x7F) << 7);
  if (b1 < 0x80) return b1 == 0 ? 0 : (<u64>v << VARINT_LENGTH_BITS) | 2;
  if (p + 2 >= end) return 0;
  const b2 = <u32>load<u8>(p, 2);
  v |= (b2 & 0x7F) << 14;
  if (b2 < 0x80) return b2 == 0 ? 0 : (<u64>v << VARINT_LENGTH_BITS) | 3;
  return stageVarintLong(p, end, <u64>v);
}

// stageVarint from the fourth byte on (`v`: the first three bytes' value bits).
function stageVarintLong(p: usize, end: usize, v: u64): u64 {
  for (let i = 3; i < STAGE_VARINT_BYTES; i++) {
    if (p + <usize>i >= end) return 0;
    const b = <u32>load<u8>(p + <usize>i);
    v |= <u64>(b & 0x7F) << <u64>(7 * i);
    if (b < 0x80) return b == 0 ? 0 : (v << VARINT_LENGTH_BITS) | <u64>(i + 1);
  }
  return 0;
}

// The opcodes staged, one bit each: without a caller, and with one.
const STAGED_WITH_CALLER: u32 = (1 << OP_ALLOC) | (1 << OP_CALLOC) | (1 << OP_REALLOC);
const STAGED_PLAIN: u32 = STAGED_WITH_CALLER | (1 << OP_FREE) | (1 << OP_SKIP);
const STAGED_OP_LIMIT: u32 = 32;   // bits of the masks
const OP_BYTE_VALUES: u32 = 256;
// The staged opcode of each record's first byte (its opcode less the caller bit), 0 when stage()
// leaves the record to the general path: one load instead of the masks' tests per record.
const stagedOps = memory.data(<i32>OP_BYTE_VALUES);
for (let b: u32 = 0; b < OP_BYTE_VALUES; b++) {
  const op = b & ~OP_HAS_CALLER;
  const staged = op < STAGED_OP_LIMIT && (((b & OP_HAS_CALLER) ? STAGED_WITH_CALLER : STAGED_PLAIN) & (1 << op)) != 0;
  store<u8>(stagedOps + <usize>b, staged ? <u8>op : 0);
}

/**
 * Most bytes a fixed-field record takes (the opcode and four 10-byte varints: src/trace/formats/hst.ts
 * MAX_FIXED_RECORD_BYTES). A record that starts this far before the input's end lies wholly inside
 * it, and so does every byte stage() reads for it (each varint it reads inline is at most
 * STAGE_VARINT_BYTES long: at most 1 + 3 * STAGE_VARINT_BYTES bytes from the record's start).
 */
const MAX_FIXED_RECORD_BYTES: usize = 1 + 4 * <usize>MAX_VARINT_BYTES;

// stageVarint where the whole varint lies before the input's end (stage's unchecked records).
// @ts-ignore: decorator
@inline function stageVarintIn(p: usize): u64 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0x80) return (<u64>b0 << VARINT_LENGTH_BITS) | 1;
  return stageVarintWord(p, p + <usize>STAGE_VARINT_BYTES, load<u32>(p));
}

// Decodes up to STAGE common records from pos; returns how many. A record that starts at least
// MAX_FIXED_RECORD_BYTES before the input's end is decoded with no test of the end (outside the
// last piece of a file, every record before safeEnd is: the host's safe end keeps that room);
// the few records after those take stageChecked.
function stage(): i32 {
  // No record starts at or after safeEnd unless atEnd; none is decoded here within
  // MAX_FIXED_RECORD_BYTES of the end.
  const buf = inBuf;
  const room = n - <i32>MAX_FIXED_RECORD_BYTES;
  const limit = room > 0 ? buf + <usize>(atEnd ? room : min(safeEnd, room)) : buf;
  const k = stageFrom(staged, buf + <usize>pos, limit, false);
  return k >= 0 ? k : stageChecked(staged + <usize>(~k) * ST_BYTES, stageTail);
}

// stage() from entry `e` and record address `p` on, every read tested against the input's end
// (the last MAX_FIXED_RECORD_BYTES of a file's last piece); returns the entries staged in all.
function stageChecked(e: usize, p: usize): i32 {
  return stageFrom(e, p, inBuf + <usize>(atEnd ? max(safeEnd, n) : safeEnd), true);
}

/** Where stageFrom's unchecked records reached `limit`, when it returns ~entries. */
let stageTail: usize = 0;

// The records from entry `e` and address `p` on, up to `limit` (no record starts at or after it);
// returns the entries staged in all. `checked` (a constant at each use): every read tested against
// the input's end; else none is, and a record at `limit` ends the call with ~entries returned and
// its address in stageTail (stage() goes on in stageChecked).
// @ts-ignore: decorator
@inline function stageFrom(e: usize, p: usize, limit: usize, checked: bool): i32 {
  // Positions as addresses in memory (no base added at each load); entries keep their ends so.
  const end = inBuf + <usize>n;
  const callers = <u64>callerCount;
  const callerIndex = callerMap;   // a local: the global is loaded through the instance each time
  // The entry pointer counts the records (no index kept across the loop).
  const last = staged + <usize>STAGE * ST_BYTES;
  while (e < last) {
    if (p >= limit) {
      if (checked) break;
      stageTail = p;
      return ~<i32>((e - staged) / ST_BYTES);
    }
    const opByte = <u32>load<u8>(p);
    // Staged: alloc, calloc, realloc, free, skip; the first three with or without a caller.
    const op = <u32>load<u8>(stagedOps + <usize>opByte);
    if (!op) break;
    if (checked && p + 1 >= end) break;
    let r = checked ? stageVarint(p + 1, end) : stageVarintIn(p + 1);
    if (!r) break;
    const a = r >> VARINT_LENGTH_BITS;
    let q = p + 1 + <usize>(r & VARINT_LENGTH_MASK);
    let size: u64 = 0;
    let caller = NO_CALLER;
    let rec: usize = 0;
    // Each test its own branch (V8 turned `x || y` into flags made, combined and tested).
    if (op <= OP_REALLOC) {
      if (a > MAX_BLOCK_ID) break;
      if (checked && q >= end) break;
      r = checked ? stageVarint(q, end) : stageVarintIn(q);
      if (!r) break;
      size = r >> VARINT_LENGTH_BITS;
      q += <usize>(r & VARINT_LENGTH_MASK);
      // A realloc to 0 bytes (op == OP_REALLOC and size == 0) in one test: V8 made the two
      // compares into flags combined and tested.
      if (((<u64>(op ^ OP_REALLOC)) | size) == 0) break;
      if (opByte & OP_HAS_CALLER) {
        if (checked && q >= end) break;
        r = checked ? stageVarint(q, end) : stageVarintIn(q);
        if (!r) break;
        const index = r >> VARINT_LENGTH_BITS;
        if (index >= callers) break;
        q += <usize>(r & VARINT_LENGTH_MASK);
        caller = load<i32>(callerIndex + (<usize>index << 2));
      }
      rec = recordAtValid(<u32>a);
    } else if (op == OP_FREE) {
      if (a > MAX_BLOCK_ID) break;
      rec = recordAtValid(<u32>a);
    } else if (a >= <u64>SKIP_REASON_COUNT) break;
    store<u32>(e, op);
    store<u32>(e, <u32>a, 4);
    store<u64>(e, size, 8);
    store<i32>(e, caller, 16);
    store<u32>(e, <u32>q, 20);
    // The record is kept for when the op is applied (a record never moves; one not made yet is
    // looked up again then). The read itself is the point: one byte of the record kept, nothing
    // judged (rec = 0, no page yet or a skip, reads memory's first byte: harmless).
    store<u32>(e, <u32>rec, ST_RECORD);
    store<u8>(aheadSink, load<u8>(rec));
    p = q;
    e += ST_BYTES;
  }
  return <i32>((e - staged) / ST_BYTES);
}

// Applies staged records [0, k) as the general path would (applyOne each). While the ledger's
// bookkeeping is plain (ledger.ts plainBookkeeping: one thread, no stats), runs of common records
// (an allocation or calloc into an id that is not live, a free of a live block, narrow sizes and
// callers, the record read by stage) are done here with the counts in locals: V8 loads a global
// from the instance at every read and again after every store to it (some 20 loads and 8 stores
// a record). A run ends at any other record, which goes to applyOne once the counts are written
// back: the run's loop makes no call, so that its locals stay in registers (V8's WASM code keeps
// no register across a call). Each record of a run is one event and one op, so the event and
// op counts, the births and the frees follow from the ops written and the births counted.
function applyStaged(k: i32): void {
  const end = staged + <usize>k * ST_BYTES;
  let e = staged;
  if (!L.plainBookkeeping()) {
    for (; e < end; e += ST_BYTES) applyOne(e);
    stagedEnd(k);
    return;
  }
  const out = outBuf;
  const freeSizes = direct; // a FREE op carries the block's bytes in direct mode only (emit)
  while (e < end) {
    const k0 = nOps;
    const callocs0 = L.callocs;
    let k2 = k0;
    let live = L.liveBytes;
    let peak = L.peakLiveBytes;
    let high = L.idHighWater;
    let births: u64 = 0;
    for (; e < end; e += ST_BYTES) {
      const op = load<u32>(e);
      const id = load<u32>(e, 4);
      const r = <usize>load<u32>(e, ST_RECORD);
      if (!r) break;
      const w = load<u32>(r);
      const p = out + (<usize>k2 << 4);
      if (op == OP_FREE) {
        const size = L.plainLiveSize(w);
        if (size == L.NOT_PLAIN) break;
        store<u32>(r, L.freedWord(w));
        live -= <u64>size;
        store<u32>(p, <u32>Op.FREE);
        store<u32>(p, id, 4);
        store<u64>(p, freeSizes ? <u64>size : 0, 8);
      } else {
        if (op > OP_CALLOC) break; // realloc, skip
        const size = load<u64>(e, 8);
        if (live + size > L.MAX_REQUEST_BYTES) break; // fitsBelowLimit: refused
        const born = L.plainBornWord(w, size, load<i32>(e, 16));
        if (!born) break;
        store<u32>(r, born);
        if (<u64>id >= high) high = <u64>id + 1;
        live += size;
        if (live > peak) { peak = live; L.peakEvent = L.events + <u64>(k2 - k0) + 1; }
        births++;
        if (op == OP_ALLOC) store<u32>(p, <u32>Op.ALLOC);
        else { store<u32>(p, <u32>Op.CALLOC); L.callocs++; }
        store<u32>(p, id, 4);
        store<u64>(p, size, 8);
      }
      k2++;
    }
    const ops = <u64>(k2 - k0);
    L.events += ops;
    L.liveBlocks = L.liveBlocks + (births << 1) - ops;
    L.liveBytes = live;
    L.peakLiveBytes = peak;
    L.idHighWater = high;
    L.allocs += births - (L.callocs - callocs0);
    L.frees += ops - births;
    nOps = k2;
    if (e >= end) break;
    // The record that ended the run. A birth or a free whose record stage() found not made (its
    // page made since, or made now for a birth that fits) goes on in the run with it; a realloc
    // is applied here; anything else out of line. So applyOne is rare and stays in V8's baseline
    // tier (a function's tier-up budget goes by its size at every call: a few thousand calls of
    // the general path took it up).
    const op = load<u32>(e);
    const id = load<u32>(e, 4);
    if (!load<u32>(e, ST_RECORD) && op != OP_SKIP) {
      let made: usize = 0;
      if (op == OP_FREE) made = recordAt(id);
      else if (op != OP_REALLOC && L.fitsBelowLimit(load<u64>(e, 8))) made = recordMade(id);
      if (made) { store<u32>(e, <u32>made, ST_RECORD); continue; }
    }
    if (op == OP_REALLOC) realloc(id, load<u64>(e, 8), load<i32>(e, 16));
    else applyOne(e);
    e += ST_BYTES;
  }
  stagedEnd(k);
}

// One staged record (entry `e`) applied as the general path would.
function applyOne(e: usize): void {
  const op = load<u32>(e);
  const id = load<u32>(e, 4);
  const size = load<u64>(e, 8);
  const caller = load<i32>(e, 16);
  const known = <usize>load<u32>(e, ST_RECORD);
  if (op == OP_FREE) {
    const r = known ? known : recordAt(id);
    if (isLiveAt(r)) emit(<u32>Op.FREE, 0, id, freedAt(id, r));
    else { skipped(wasFreedAt(r) ? SKIP_DOUBLE_FREE : SKIP_UNMATCHED_FREE); emit(<u32>Op.SKIP, 0, 0, 1); }
  } else if (op == OP_SKIP) {
    skipped(id);
    emit(<u32>Op.SKIP, 0, 0, 1);
  } else if (op == OP_REALLOC) realloc(id, size, caller);
  else allocation(op, id, size, 1, caller, known, true);
}

// After staged records [0, k) were applied: the positions of the last one (a staged record never
// stops the loop: no error, no call back).
// @ts-ignore: decorator
@inline function stagedEnd(k: i32): void {
  if (k > 1) recordStart = <i32>(<usize>load<u32>(staged + <usize>(k - 2) * ST_BYTES, 20) - inBuf);
  else recordStart = pos;
  pos = <i32>(<usize>load<u32>(staged + <usize>(k - 1) * ST_BYTES, 20) - inBuf);
}

// A REALLOC record of `id` (<= MAX_BLOCK_ID), size > 0.
// @ts-ignore: decorator
@inline function realloc(id: u32, size: u64, caller: i32): void {
  // A never-seen id is an untraced realloc.
  if (isLive(id)) {
    if (!fitsResize(id, size)) { refused(); emit(<u32>Op.SKIP, 0, 0, 1); }
    else {
      L.reallocs++;
      emit(<u32>Op.REALLOC, 0, id, size);
      if (direct) applyOps(); // the engine's realloc reads the old size, which resized() rewrites
      resized(id, size, caller);
    }
  } else if (wasFreed(id)) {
    skipped(SKIP_DOUBLE_FREE);
    emit(<u32>Op.SKIP, 0, 0, 1);
  } else untraced(id, size, caller);
}

// An ALLOC, CALLOC or ALIGNED record of `id` (<= MAX_BLOCK_ID); `known` as newBlock's. `staged`:
// a staged record (size below FITS_SUM_SIZE_LIMIT, align 1), checked by fitsBelowLimit.
// @ts-ignore: decorator
@inline function allocation(op: u32, id: u32, size: u64, align: u64, caller: i32, known: usize, staged: bool): void {
  if (!(staged ? fitsBelowLimit(size) : fits(size, align))) { refused(); emit(<u32>Op.SKIP, 0, 0, 1); return; }
  // One newBlock for the three calls (the ledger's birth is inlined there).
  if (op == OP_ALLOC) L.allocs++;
  else if (op == OP_CALLOC) L.callocs++;
  else L.alignedAllocs++;
  newBlock(id, size, caller, false, known);
  if (op == OP_ALLOC) emit(<u32>Op.ALLOC, 0, id, size);
  else if (op == OP_CALLOC) emit(<u32>Op.CALLOC, 0, id, size);
  else emit(<u32>Op.ALIGNED_ALLOC, <u32>ctz(align), id, size);
}

// The record loop: the host reader's `records`, record for record. Nearly every record is staged;
// strings take stringDef, the rest (marks, ticks, threads, the end, records cut by the input's end,
// errors) `general`, both out of line: the loop stays ~220 bytes of code, so V8's optimising
// compiler, which takes it up in every long run, compiles a small function (python.hst, pool: 166
// KB of compiler memory instead of 2,298 KB), and general, rare, stays in V8's baseline tier.
function records(): i32 {
  while (pos < safeEnd || (atEnd && pos < n)) {
    if (nOps > outCap - MAX_OPS_PER_RECORD * STAGE) return R_FULL;
    const k = stage();
    if (k > 0) { applyStaged(k); continue; }
    const opByte = <u32>load<u8>(inBuf + <usize>pos);
    const r = opByte == OP_DEF_CALLER || opByte == OP_DEF_LABEL ? stringDef(opByte) : general();
    if (r != R_NEXT) return r;
  }
  return R_DONE;
}

// A string record at pos (DEF_LABEL, DEF_CALLER: one per caller a trace names, the most common
// record stage() leaves; python.hst has 722), out of general so that general stays rare.
function stringDef(op: u32): i32 {
  recordStart = pos;
  const a = varint(pos + 1);
  if (vStatus != V_OK) return vStatus == V_TRUNCATED ? R_TRUNCATED : R_ERROR;
  return stringAt(op, vEnd, a);
}

// A string of `a` bytes at p, the rest of a DEF_LABEL or DEF_CALLER record.
function stringAt(op: u32, p: i32, a: u64): i32 {
  if (a > MAX_STRING_BYTES) return fail(E_STRING_LONG, a);
  if (<u64>p + a > <u64>n) return atEnd ? R_TRUNCATED : R_WAIT;
  value = a;
  pos = p + <i32>a;
  recordStart = p; // the string's first byte, for the host
  return op == OP_DEF_LABEL ? R_LABEL : R_CALLER;
}

/** general(): the record was taken, go on with the next one (any other value is records' result). */
const R_NEXT: i32 = -1;

// One record at pos that stage() did not take, as the host reader's record loop reads it: R_NEXT,
// or what records() returns.
function general(): i32 {
  const buf = inBuf;
  recordStart = pos;
  const opByte = <u32>load<u8>(buf + <usize>pos);
  let p = pos + 1;
  const op = opByte & ~OP_HAS_CALLER;
  if ((opByte & OP_HAS_CALLER) != 0 && (op < OP_ALLOC || op > OP_REALLOC) && op != OP_UNTRACED_REALLOC) {
    return fail(E_OPCODE, <u64>opByte);
  }
  // First field, inline for the one-byte case.
  let a: u64;
  const a0 = p < n ? <u32>load<u8>(buf + <usize>p) : 0x80;
  if (a0 < 0x80) { a = <u64>a0; p++; }
  else {
    a = varint(p);
    if (vStatus != V_OK) return vStatus == V_TRUNCATED ? R_TRUNCATED : R_ERROR;
    p = vEnd;
  }
  if ((op >= OP_ALLOC && op <= OP_REALLOC) || op == OP_UNTRACED_REALLOC) {
    // id = a; then size, [align], [caller]
    let size: u64;
    const s0 = p < n ? <u32>load<u8>(buf + <usize>p) : 0x80;
    if (s0 < 0x80) { size = <u64>s0; p++; }
    else {
      size = varint(p);
      if (vStatus != V_OK) return vStatus == V_TRUNCATED ? R_TRUNCATED : R_ERROR;
      p = vEnd;
    }
    let align: u64 = 1;
    if (op == OP_ALIGNED) {
      align = varint(p);
      if (vStatus != V_OK) return vStatus == V_TRUNCATED ? R_TRUNCATED : R_ERROR;
      p = vEnd;
      // A power of two (any size: the ledger refuses what no architecture can align to).
      if (!(align >= TWO_POW_53 || isPowerOfTwo(align))) return fail(E_ALIGN, align);
    }
    let caller = NO_CALLER;
    if (opByte & OP_HAS_CALLER) {
      const index = varint(p);
      if (vStatus != V_OK) return vStatus == V_TRUNCATED ? R_TRUNCATED : R_ERROR;
      p = vEnd;
      if (index >= <u64>callerCount) return fail(E_CALLER, index);
      caller = load<i32>(callerMap + (<usize>index << 2));
    }
    if (a > MAX_BLOCK_ID) return fail(E_ID_LARGE, a);
    const id = <u32>a;
    if (op == OP_REALLOC) {
      if (size == 0) return fail(E_REALLOC_ZERO, 0);
      pos = p;
      realloc(id, size, caller);
      return R_NEXT;
    }
    if (op == OP_UNTRACED_REALLOC) {
      if (isLive(id) || size == 0) return fail(E_UNTRACED, a);
      pos = p;
      untraced(id, size, caller);
      return R_NEXT;
    }
    pos = p;
    allocation(op, id, size, align, caller, 0, false);
    return R_NEXT;
  }
  switch (op) {
    case OP_FREE: {
      pos = p;
      if (isLive(a)) emit(<u32>Op.FREE, 0, <u32>a, freed(<u32>a));
      else { skipped(wasFreed(a) ? SKIP_DOUBLE_FREE : SKIP_UNMATCHED_FREE); emit(<u32>Op.SKIP, 0, 0, 1); }
      break;
    }
    case OP_IMPLICIT_FREE: {
      if (!isLive(a)) return fail(E_IMPLICIT, a);
      pos = p;
      emit(<u32>Op.FREE, FREE_IMPLICIT, <u32>a, implicitFreed(<u32>a));
      break;
    }
    case OP_SKIP: {
      if (a >= <u64>SKIP_REASON_COUNT) return fail(E_SKIP_REASON, a);
      pos = p;
      skipped(<u32>a);
      emit(<u32>Op.SKIP, 0, 0, 1);
      break;
    }
    case OP_MARK: {
      if (a >= <u64>labelCount) return fail(E_LABEL, a);
      const label = <u32>load<i32>(labelMap + (<usize>a << 2));
      L.marks++;
      if (label >= MAX_LABELS) return fail(E_TOO_MANY_LABELS, 0);
      pos = p;
      emit(<u32>Op.MARK, label, 0, 0);
      break;
    }
    case OP_TICK: {
      if (a >= TWO_POW_53) return fail(E_TICK, 0);
      pos = p;
      L.ticks++;
      emit(<u32>Op.TICK, 0, 0, a);
      break;
    }
    case OP_THREAD:
    case OP_THREAD_END: {
      if (a >= TWO_POW_53) return fail(E_THREAD, 0);
      pos = p;
      value = a;
      emit(op == OP_THREAD ? <u32>Op.THREAD : <u32>Op.THREAD_END, 0, 0, a);
      return op == OP_THREAD ? R_THREAD : R_THREAD_END;
    }
    case OP_DEF_LABEL:
    case OP_DEF_CALLER: return stringAt(op, p, a); // not reached from records(): stringDef
    case OP_END: {
      pos = p;
      value = a;
      return R_END;
    }
    default:
      return fail(E_OPCODE, <u64>opByte);
  }
  return R_NEXT;
}
