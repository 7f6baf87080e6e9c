// === .hst records decoded inside the engine ===
//
// The host streams a .hst file (docs/trace-format.md) into a fixed input buffer of this module and
// calls hstFeed once per chunk; the records are decoded here, checked, kept in the trace ledger
// (trace/ledger.ts) and, when the engine runs the trace, turned into op records that the batch
// interpreter executes on heap 0 without leaving WASM. The host only reads the header, decodes the
// strings (mark labels, callers: hstFeed stops at each definition), handles stops it asked for
// (--trim-at) and turns error codes into messages. The rules, the order of the checks and every
// byte offset are those of the host's reader (src/trace/formats/hst.ts), which stays as the
// reference: test/trace/hst-wasm.test.ts runs both on the same bytes, valid and damaged.
//
// Input buffer: [0, end) holds bytes from file offset `consumed` on; a record cut by the end of a
// chunk is moved to the front (hstCarry() bytes) and the host appends the next chunk after it.

import { resize } from "../mem";
import { Op } from "../abi";
import { opsPtr, execOps } from "../engine";
import {
  born, resized, freed, skipped, refused, isLive, wasFreed, fits, fitsResize, ledgerReset, MAX_BLOCK_ID, NO_CALLER,
} from "./ledger";
import * as L from "./ledger";
import { SKIP_DOUBLE_FREE, SKIP_UNMATCHED_FREE, SKIP_UNMATCHED_REALLOC, SKIP_REASON_COUNT } from "./events";

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
const OP_END: u32 = 0x0f;
const OP_HAS_CALLER: u32 = 0x80;

const HST_VERSION_2: i32 = 2;
const MAX_VARINT_BYTES: i32 = 10;
const LAST_VARINT_BYTE_MAX: u32 = 1;
const MAX_FIXED_RECORD_BYTES: i32 = 1 + 4 * MAX_VARINT_BYTES;
const MAX_STRING_BYTES: u64 = 1 << 20;               // src/trace/lines.ts MAX_LINE_BYTES
const TWO_POW_53: u64 = 1 << 53;                      // first integer a JavaScript number cannot hold exactly
const MAX_LABELS: u32 = 0x10000;                      // a MARK op keeps its label index in 16 bits
const TRAILER_BYTES: i32 = 4;
/** Bytes the host reads per chunk; the buffer also holds the longest record cut by a chunk's end. */
export const HST_CHUNK_BYTES: i32 = 256 * 1024;
const INPUT_BYTES: i32 = HST_CHUNK_BYTES + <i32>MAX_STRING_BYTES + 2 * MAX_FIXED_RECORD_BYTES;
/** Ops decoded before the interpreter runs them (a multiple of its look-ahead). */
const OPS_PER_RUN: i32 = 1024;

// What hstFeed and hstResume return.
export const FEED_NEED_INPUT: i32 = 0;   // every whole record used; hstCarry() bytes wait at the front
export const FEED_LABEL: i32 = 1;        // a label definition: hstString*(); answer with hstLabel()
export const FEED_CALLER: i32 = 2;       // a caller definition: hstString*()
export const FEED_STOP_EVENT: i32 = 3;   // stopped after event hstStopAt() (ops run so far)
export const FEED_STOP_MARK: i32 = 4;    // stopped after a mark (hstStopMarks(1))
export const FEED_ERROR: i32 = 5;        // hstError*()

// Error codes (messages on the host, src/trace/formats/hst-wasm.ts).
export const E_OPCODE: i32 = 1;          // value = opcode byte
export const E_VARINT_64: i32 = 2;
export const E_NON_CANONICAL: i32 = 3;   // a problem --lenient counts
export const E_TRUNCATED_RECORD: i32 = 4;
export const E_ALIGN: i32 = 5;           // value = alignment
export const E_CALLER: i32 = 6;          // value = caller index
export const E_REALLOC_ZERO: i32 = 7;
export const E_ID_LARGE: i32 = 8;        // value = id
export const E_ID_LIVE: i32 = 9;         // value = id
export const E_SKIP_REASON: i32 = 10;    // value = reason
export const E_LABEL: i32 = 11;          // value = label index
export const E_TICK: i32 = 12;
export const E_THREAD: i32 = 13;
export const E_STRING_LONG: i32 = 14;    // value = length
export const E_END_COUNT: i32 = 15;      // value = END's count, value2 = events read
export const E_EVENT_COUNT: i32 = 16;    // a problem: value = END's count (the header's is the host's)
export const E_TRAILER_CUT: i32 = 17;    // a problem
export const E_CHECKSUM: i32 = 18;       // a problem: value = computed CRC, value2 = the trailer's
export const E_DATA_AFTER: i32 = 19;
export const E_TOO_MANY_LABELS: i32 = 20;

const STATE_RECORDS: i32 = 0;
const STATE_TRAILER: i32 = 1;
const STATE_DONE: i32 = 2;

let inBuf: usize = 0;
let end: i32 = 0;
let pos: i32 = 0;
let atEnd: bool = false;
let consumed: u64 = 0;
let state: i32 = STATE_RECORDS;
let version: i32 = 0;
let declaredEvents: u64 = 0;
let lenient: bool = false;
let execute: bool = false;
let crc: u32 = 0;
let crcFrom: i32 = 0;
let crcActive: bool = false;
let labelMap: usize = 0;
let labelCount: u32 = 0;
let labelCap: u32 = 0;
let callerCount: u64 = 0;
let stopAt: u64 = 0;
let stopMarks: bool = false;
let nonCanonical: u64 = 0;
let eventCountProblem: bool = false;
let checksumProblem: i32 = 0;
let errCode: i32 = 0;
let errOffset: u64 = 0;
let errValue: u64 = 0;
let errValue2: u64 = 0;
let strPtr: usize = 0;
let strLen: i32 = 0;
let ops: usize = 0;
let nOps: i32 = 0;

// ---------------------------------------------------------------- CRC-32 (zlib's), slicing by 8

const CRC_POLY: u32 = 0xEDB88320;
const crcTable = memory.data(8 * 256 * 4);
let crcReady = false;

function crcInit(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? CRC_POLY ^ (c >> 1) : c >> 1;
    store<u32>(crcTable + (<usize>n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(crcTable + (<usize>n << 2));
    for (let t: u32 = 1; t < 8; t++) {
      c = load<u32>(crcTable + (<usize>(c & 0xFF) << 2)) ^ (c >> 8);
      store<u32>(crcTable + ((<usize>t << 10) + (<usize>n << 2)), c);
    }
  }
  crcReady = true;
}

// @ts-ignore: decorator
@inline function tab(t: u32, i: u32): u32 { return load<u32>(crcTable + ((<usize>t << 10) + (<usize>(i & 0xFF) << 2))); }

function crcUpdate(c: u32, p: usize, n: usize): u32 {
  c = ~c;
  while (n >= 8) {
    const lo = load<u32>(p) ^ c;
    const hi = load<u32>(p, 4);
    c = tab(7, lo) ^ tab(6, lo >> 8) ^ tab(5, lo >> 16) ^ tab(4, lo >> 24) ^
        tab(3, hi) ^ tab(2, hi >> 8) ^ tab(1, hi >> 16) ^ tab(0, hi >> 24);
    p += 8;
    n -= 8;
  }
  while (n) {
    c = tab(0, c ^ load<u8>(p)) ^ (c >> 8);
    p++;
    n--;
  }
  return ~c;
}

/** CRC-32 of `n` bytes at `p` continuing from `previous` (exported for the tests). */
export function crc32Of(previous: u32, p: usize, n: usize): u32 {
  if (!crcReady) crcInit();
  return crcUpdate(previous, p, n);
}

// ---------------------------------------------------------------- host interface

/** Starts a trace: the header was read by the host (`headerBytes` of it); `run` = execute its ops on heap 0. */
export function hstBegin(fileVersion: i32, declared: f64, headerBytes: i32, isLenient: i32, run: i32): void {
  if (!inBuf) inBuf = heap.alloc(<usize>INPUT_BYTES);
  if (!crcReady) crcInit();
  ledgerReset();
  end = 0; pos = 0; atEnd = false; consumed = <u64>headerBytes; state = STATE_RECORDS;
  version = fileVersion; declaredEvents = <u64>declared; lenient = isLenient != 0; execute = run != 0;
  crc = 0; crcFrom = 0; crcActive = fileVersion >= HST_VERSION_2;
  labelCount = 0; callerCount = 0; stopAt = 0; stopMarks = false;
  nonCanonical = 0; eventCountProblem = false; checksumProblem = 0;
  errCode = 0; errOffset = 0; errValue = 0; errValue2 = 0; nOps = 0;
}

export function hstInput(): usize { if (!inBuf) inBuf = heap.alloc(<usize>INPUT_BYTES); return inBuf; }
export function hstInputBytes(): i32 { return INPUT_BYTES; }
export function hstChunkBytes(): i32 { return HST_CHUNK_BYTES; }
/** Bytes at the front of the input buffer still to be decoded; new input goes after them. */
export function hstCarry(): i32 { return end; }

/** Decodes input bytes [0, n) (the carry and what the host appended); `last` = no input follows. */
export function hstFeed(n: i32, last: i32): i32 {
  end = n;
  atEnd = last != 0;
  return decode();
}

/** Goes on after a stop (a string definition answered, a stop handled). */
export function hstResume(): i32 { return decode(); }

/** The mark label just defined is the engine's label `engineIndex`. */
export function hstLabel(engineIndex: i32): void {
  if (labelCount == labelCap) {
    labelCap = labelCap ? labelCap * 2 : 64;
    labelMap = resize(labelMap, <usize>labelCap << 2);
  }
  store<i32>(labelMap + (<usize>labelCount << 2), engineIndex);
  labelCount++;
}

/** Stop once `events` events have been replayed (0: never). */
export function hstStopAt(events: f64): void { stopAt = <u64>events; }
/** Stop after every mark (1) or never (0). */
export function hstStopMarks(on: i32): void { stopMarks = on != 0; }

export function hstState(): i32 { return state; }
export function hstStringPtr(): usize { return strPtr; }
export function hstStringLen(): i32 { return strLen; }
export function hstErrorCode(): i32 { return errCode; }
export function hstErrorOffset(): f64 { return <f64>errOffset; }
export function hstErrorValue(): f64 { return <f64>errValue; }
export function hstErrorValue2(): f64 { return <f64>errValue2; }
export function hstNonCanonical(): f64 { return <f64>nonCanonical; }
export function hstEventCountProblem(): i32 { return eventCountProblem ? 1 : 0; }
export function hstChecksumProblem(): i32 { return checksumProblem; }
/** File offset of the next byte to decode (progress, messages). */
export function hstOffset(): f64 { return <f64>(consumed + <u64>pos); }

/** The ledger's counts, as f64 slots at `out` (order: LEDGER_SLOTS in src/trace/formats/hst-wasm.ts). */
export function hstCounts(out: usize): void {
  store<f64>(out, <f64>L.events);
  store<f64>(out, <f64>L.allocs, 8);
  store<f64>(out, <f64>L.callocs, 16);
  store<f64>(out, <f64>L.alignedAllocs, 24);
  store<f64>(out, <f64>L.reallocs, 32);
  store<f64>(out, <f64>L.frees, 40);
  store<f64>(out, <f64>L.marks, 48);
  store<f64>(out, <f64>L.ticks, 56);
  store<f64>(out, <f64>L.liveBlocks, 64);
  store<f64>(out, <f64>L.liveBytes, 72);
  store<f64>(out, <f64>L.peakLiveBytes, 80);
  store<f64>(out, <f64>L.peakEvent, 88);
  store<f64>(out, <f64>L.idHighWater, 96);
  store<f64>(out, <f64>L.oversizeRequests, 104);
  for (let r: u32 = 0; r < SKIP_REASON_COUNT; r++) store<f64>(out + 112 + (<usize>r << 3), <f64>load<u64>(L.skips + (<usize>r << 3)));
}

// ---------------------------------------------------------------- decoding

// @ts-ignore: decorator
@inline function emit(opcode: u32, arg: u32, id: u32, size: u64): void {
  if (!execute) return;
  const p = ops + (<usize>nOps << 4);
  store<u32>(p, opcode | (arg << 16));   // heap 0
  store<u32>(p, id, 4);
  store<u64>(p, size, 8);
  if (++nOps == OPS_PER_RUN) flush();
}

function flush(): void {
  if (nOps) { execOps(nOps); nOps = 0; }
}

function fail(code: i32, offset: u64, value: u64 = 0, value2: u64 = 0): i32 {
  errCode = code; errOffset = offset; errValue = value; errValue2 = value2;
  return FEED_ERROR;
}

// Set by varint(): the position after the varint, or a failure.
let vEnd: i32 = 0;
const V_OK: i32 = 0;
const V_TRUNCATED: i32 = 1;
const V_FAILED: i32 = 2;   // errCode set
let vStatus: i32 = V_OK;

// One varint at `p` (the record began at `recordStart`): its value; vEnd, vStatus.
function varint(p: i32, recordStart: i32): u64 {
  let value: u64 = 0;
  for (let i = 0; ; i++) {
    if (p >= end) { vStatus = V_TRUNCATED; return 0; }
    const b = <u32>load<u8>(inBuf + <usize>p);
    p++;
    if (i == MAX_VARINT_BYTES - 1 && b > LAST_VARINT_BYTE_MAX) {
      fail(E_VARINT_64, consumed + <u64>recordStart);
      vStatus = V_FAILED;
      return 0;
    }
    value |= <u64>(b & 0x7F) << <u64>(7 * i);
    if (b < 0x80) {
      if (b == 0 && i > 0) {
        if (!lenient) { fail(E_NON_CANONICAL, consumed + <u64>recordStart); vStatus = V_FAILED; return 0; }
        nonCanonical++;
      }
      vEnd = p;
      vStatus = V_OK;
      return value;
    }
  }
  return 0; // not reached: the tenth byte ends the loop
}

// A record cut by the end of the input (only the last one can be): an error, or under --lenient
// the end of what is read (the host reports the missing END).
function truncated(recordStart: i32): i32 {
  if (!lenient) return fail(E_TRUNCATED_RECORD, consumed + <u64>recordStart);
  checksumTo(recordStart);
  pos = end;
  compact();
  return FEED_NEED_INPUT;
}

function checksumTo(p: i32): void {
  if (crcActive && p > crcFrom) crc = crcUpdate(crc, inBuf + <usize>crcFrom, <usize>(p - crcFrom));
  crcFrom = p;
}

// Moves the undecoded bytes [pos, end) to the front.
function compact(): void {
  const rest = end - pos;
  if (rest > 0 && pos > 0) memory.copy(inBuf, inBuf + <usize>pos, <usize>rest);
  consumed += <u64>pos;
  end = rest;
  pos = 0;
  crcFrom = 0;
}

// @ts-ignore: decorator
@inline function isPowerOfTwo(v: u64): bool { return v != 0 && (v & (v - 1)) == 0; }

function decode(): i32 {
  ops = opsPtr(OPS_PER_RUN);
  const r = records();
  flush();
  return r;
}

function records(): i32 {
  const n = end;
  const safeEnd = atEnd ? n : n - MAX_FIXED_RECORD_BYTES;
  const buf = inBuf;
  while (state == STATE_RECORDS && (pos < safeEnd || (atEnd && pos < n))) {
    const recordStart = pos;
    const opByte = <u32>load<u8>(buf + <usize>pos);
    let p = pos + 1;
    const op = opByte & ~OP_HAS_CALLER;
    if ((opByte & OP_HAS_CALLER) != 0 && (op < OP_ALLOC || op > OP_REALLOC)) {
      return fail(E_OPCODE, consumed + <u64>recordStart, <u64>opByte);
    }
    // First field, inline for the common one-byte case.
    let a: u64;
    let b0 = p < n ? <u32>load<u8>(buf + <usize>p) : 0x80;
    if (b0 < 0x80) { a = <u64>b0; p++; }
    else {
      a = varint(p, recordStart);
      if (vStatus == V_TRUNCATED) return truncated(recordStart);
      if (vStatus == V_FAILED) return FEED_ERROR;
      p = vEnd;
    }
    if (op >= OP_ALLOC && op <= OP_REALLOC) {
      // id = a; then size, [align], [caller]
      let size: u64;
      const s0 = p < n ? <u32>load<u8>(buf + <usize>p) : 0x80;
      if (s0 < 0x80) { size = <u64>s0; p++; }
      else {
        size = varint(p, recordStart);
        if (vStatus == V_TRUNCATED) return truncated(recordStart);
        if (vStatus == V_FAILED) return FEED_ERROR;
        p = vEnd;
      }
      let align: u64 = 0;
      if (op == OP_ALIGNED) {
        align = varint(p, recordStart);
        if (vStatus == V_TRUNCATED) return truncated(recordStart);
        if (vStatus == V_FAILED) return FEED_ERROR;
        p = vEnd;
        // A power of two (any size: the ledger refuses what no architecture can align to).
        if (!(align >= TWO_POW_53 || isPowerOfTwo(align))) return fail(E_ALIGN, consumed + <u64>recordStart, align);
      }
      let caller = NO_CALLER;
      if (opByte & OP_HAS_CALLER) {
        const index = varint(p, recordStart);
        if (vStatus == V_TRUNCATED) return truncated(recordStart);
        if (vStatus == V_FAILED) return FEED_ERROR;
        p = vEnd;
        if (index >= callerCount) return fail(E_CALLER, consumed + <u64>recordStart, index);
        caller = <i32>index;
      }
      pos = p;
      if (op == OP_REALLOC) {
        if (size == 0) return fail(E_REALLOC_ZERO, consumed + <u64>recordStart);
        if (isLive(a)) {
          const id = <u32>a;
          if (!fitsResize(id, size)) { refused(); emit(Op.SKIP, 0, 0, 1); }
          else { L.reallocs++; resized(id, size, caller); emit(Op.REALLOC, 0, id, size); }
        } else {
          skipped(wasFreed(a) ? SKIP_DOUBLE_FREE : SKIP_UNMATCHED_REALLOC);
          emit(Op.SKIP, 0, 0, 1);
        }
      } else {
        if (a > MAX_BLOCK_ID) return fail(E_ID_LARGE, consumed + <u64>recordStart, a);
        if (isLive(a)) return fail(E_ID_LIVE, consumed + <u64>recordStart, a);
        const id = <u32>a;
        if (!fits(size, op == OP_ALIGNED ? align : 1)) { refused(); emit(Op.SKIP, 0, 0, 1); }
        else if (op == OP_ALLOC) { L.allocs++; born(id, size, caller); emit(Op.ALLOC, 0, id, size); }
        else if (op == OP_CALLOC) { L.callocs++; born(id, size, caller); emit(Op.CALLOC, 0, id, size); }
        else { L.alignedAllocs++; born(id, size, caller); emit(Op.ALIGNED_ALLOC, <u32>ctz(align), id, size); }
      }
      if (stopAt && L.events == stopAt) return FEED_STOP_EVENT;
      continue;
    }
    switch (op) {
      case OP_FREE: {
        pos = p;
        if (isLive(a)) { L.frees++; freed(<u32>a); emit(Op.FREE, 0, <u32>a, 0); }
        else { skipped(wasFreed(a) ? SKIP_DOUBLE_FREE : SKIP_UNMATCHED_FREE); emit(Op.SKIP, 0, 0, 1); }
        if (stopAt && L.events == stopAt) return FEED_STOP_EVENT;
        break;
      }
      case OP_SKIP: {
        if (a >= <u64>SKIP_REASON_COUNT) return fail(E_SKIP_REASON, consumed + <u64>recordStart, a);
        pos = p;
        skipped(<u32>a);
        emit(Op.SKIP, 0, 0, 1);
        if (stopAt && L.events == stopAt) return FEED_STOP_EVENT;
        break;
      }
      case OP_MARK: {
        if (a >= <u64>labelCount) return fail(E_LABEL, consumed + <u64>recordStart, a);
        const label = <u32>load<i32>(labelMap + (<usize>a << 2));
        pos = p;
        L.marks++;
        if (label >= MAX_LABELS) return fail(E_TOO_MANY_LABELS, consumed + <u64>recordStart);
        emit(Op.MARK, label, 0, 0);
        if (stopMarks) return FEED_STOP_MARK;
        break;
      }
      case OP_TICK: {
        if (a >= TWO_POW_53) return fail(E_TICK, consumed + <u64>recordStart);
        pos = p;
        L.ticks++;
        emit(Op.TICK, 0, 0, a);
        break;
      }
      case OP_THREAD: {
        if (a >= TWO_POW_53) return fail(E_THREAD, consumed + <u64>recordStart);
        pos = p;
        break;
      }
      case OP_DEF_LABEL:
      case OP_DEF_CALLER: {
        if (a > MAX_STRING_BYTES) return fail(E_STRING_LONG, consumed + <u64>recordStart, a);
        if (<u64>p + a > <u64>n) {
          if (atEnd) return truncated(recordStart);
          // Wait for the rest of the string.
          pos = recordStart;
          checksumTo(pos);
          compact();
          return FEED_NEED_INPUT;
        }
        strPtr = buf + <usize>p;
        strLen = <i32>a;
        pos = p + <i32>a;
        if (op == OP_DEF_LABEL) return FEED_LABEL;
        callerCount++;
        return FEED_CALLER;
      }
      case OP_END: {
        pos = p;
        if (a != L.events) return fail(E_END_COUNT, consumed + <u64>recordStart, a, L.events);
        checksumTo(pos);
        crcActive = false;
        if (version >= HST_VERSION_2 && declaredEvents != a) {
          if (!lenient) return fail(E_EVENT_COUNT, 16, a); // offset of the header's count
          eventCountProblem = true;
        }
        state = version >= HST_VERSION_2 ? STATE_TRAILER : STATE_DONE;
        break;
      }
      default:
        return fail(E_OPCODE, consumed + <u64>recordStart, <u64>opByte);
    }
  }
  checksumTo(pos);
  if (state == STATE_TRAILER) {
    if (n - pos < TRAILER_BYTES) {
      if (!atEnd) { compact(); return FEED_NEED_INPUT; }
      if (!lenient) return fail(E_TRAILER_CUT, consumed + <u64>pos);
      checksumProblem = 2;
      state = STATE_DONE;
      pos = n;
    } else {
      const stored = load<u32>(buf + <usize>pos);
      if (stored != crc) {
        if (!lenient) return fail(E_CHECKSUM, consumed + <u64>pos, <u64>crc, <u64>stored);
        checksumProblem = 1;
      }
      pos += TRAILER_BYTES;
      state = STATE_DONE;
    }
  }
  if (state == STATE_DONE && pos < n) return fail(E_DATA_AFTER, consumed + <u64>pos);
  compact();
  return FEED_NEED_INPUT;
}

