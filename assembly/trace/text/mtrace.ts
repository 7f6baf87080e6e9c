// === glibc mtrace lines, inside WASM ===
//
// The host's reader (src/trace/formats/mtrace.ts MtraceParser) keeps the line splitting across
// chunks, every message, the --lenient counts and the caller strings; with this fast path
// (src/trace/formats/text-wasm.ts) it copies each chunk into the input buffer here and calls
// mtraceLines, which takes the complete lines it can from a position on: it splits them, reads
// them with the host reader's rules (tokens from the right, the same numbers, the same `<` / `>`
// pairing) and sends each call to the address map (text/address-map.ts), which keeps the trace
// ledger and writes op records for the replay (or id events for the host's ledger). A line it does not take, because it is unusual (an `=` line, a number the
// host reads as out of range or as not a number, a malformed line, a caller not seen yet, an
// overlong line) or incomplete, stops the loop: the host reads that one line itself, with the code
// that is the reference, and hands its call to the same map (mtraceApply). So every rule and every
// message stays the host's, and this loop only ever does what the host would have done.
//
// Callers are interned by the host (it keeps the strings); here a table maps a caller's bytes to the
// host's index, hashed by the caller's tail (its `[0xADDRESS]` part and the bytes just before it)
// and confirmed by comparing all its bytes (two libraries can print the same relative address).

import { NO_CALLER } from "../ledger";
import { SKIP_FAILED_ALLOC, SKIP_UNKNOWN_RESULT } from "../events";
import {
  EV_ALLOC, mapAlloc, mapBegin, mapEnter, mapFree, mapLeave, mapRealloc, mapSkip, outNearlyFull,
} from "./address-map";

const NEWLINE: u8 = 0x0a;
const CARRIAGE_RETURN: u8 = 0x0d;
const SPACE: u8 = 0x20;
const TAB: u8 = 0x09;
const AT: u8 = 0x40;
const EQUALS: u8 = 0x3d;
const PLUS: u8 = 0x2b;
const MINUS: u8 = 0x2d;
const LESS: u8 = 0x3c;
const GREATER: u8 = 0x3e;
const BANG: u8 = 0x21;
const ZERO: u8 = 0x30;
const LOWER_X: u8 = 0x78;
const OPEN_PAREN: u8 = 0x28;
const NIL_TEXT_BYTES: i32 = 5;                         // "(nil)", glibc's %p of NULL
const NIL_TEXT_LE: u64 = 0x296c696e28;                // "(nil)" as little-endian bytes
const MAX_HEX_DIGITS: i32 = 16;                       // significant hex digits of a u64 (src/trace/numbers.ts)
const MAX_LINE_BYTES: i32 = 1 << 20;                  // src/trace/lines.ts MAX_LINE_BYTES
const ONES: u64 = 0x0101010101010101;                 // SWAR: one in every byte
const HIGHS: u64 = 0x8080808080808080;                // SWAR: top bit of every byte
const NEWLINES: u64 = ONES * <u64>NEWLINE;
const WORD_BYTES: i32 = 8;

/** A number that the host reads as something else (out of range, not a number): the host reads the line. */
const NOT_FAST: u64 = u64.MAX_VALUE;

// Caller table: open addressing over slots of (hash, byte offset in the arena, length, host index).
const CALLER_SLOT_BYTES: usize = 16;
const CS_HASH: usize = 0;
const CS_AT: usize = 4;
const CS_LEN: usize = 8;
const CS_INDEX: usize = 12;
const INITIAL_CALLER_SLOTS_LOG2: u32 = 10;
const CALLER_TAIL_BYTES: i32 = 16;                     // the `[0x…]` address and a little before it
const HASH_MULTIPLIER: u64 = 0x9e3779b97f4a7c15;
const UNKNOWN_CALLER: i32 = -2;
const INITIAL_ARENA_BYTES: usize = 1 << 16;

let input: usize = 0;
let inputCap: usize = 0;
let lines: i32 = 0;
let hasPending: bool = false;
let pendingOld: u64 = 0;

let callerSlots: usize = 0;
let callerLog2: u32 = 0;
let callerCount: u32 = 0;
let arena: usize = 0;
let arenaCap: usize = 0;
let arenaUsed: usize = 0;
let scratch: usize = 0;
let scratchCap: usize = 0;

function allocCallerSlots(log2: u32): void {
  const bytes = (<usize>1 << log2) * CALLER_SLOT_BYTES;
  callerSlots = heap.alloc(bytes);
  memory.fill(callerSlots, 0, bytes);
  callerLog2 = log2;
}

/**
 * Starts a trace; returns the output buffer's address (room for `outRecords` records in the form
 * `form`: text/address-map.ts OUT_EVENTS or OUT_OPS).
 */
export function mtraceBegin(outRecords: i32, form: i32): usize {
  hasPending = false;
  pendingOld = 0;
  lines = 0;
  if (callerSlots != 0) heap.free(callerSlots);
  allocCallerSlots(INITIAL_CALLER_SLOTS_LOG2);
  callerCount = 0;
  if (arena == 0) {
    arenaCap = INITIAL_ARENA_BYTES;
    arena = heap.alloc(arenaCap);
  }
  arenaUsed = 0;
  return mapBegin(outRecords, form);
}

/** Room for `bytes` of input (kept between calls: it is reused for every chunk). */
export function mtraceInput(bytes: usize): usize {
  if (bytes > inputCap) {
    if (input != 0) heap.free(input);
    inputCap = bytes + WORD_BYTES; // a word of slack: the newline search reads whole words
    input = heap.alloc(inputCap);
  }
  return input;
}

/** Room for `bytes` the host passes in (a caller's text). */
export function mtraceScratch(bytes: usize): usize {
  if (bytes > scratchCap) {
    if (scratch != 0) heap.free(scratch);
    scratchCap = bytes;
    scratch = heap.alloc(scratchCap);
  }
  return scratch;
}

/** Lines taken by the last mtraceLines call. */
export function mtraceLineCount(): i32 { return lines; }

// What a line's byte is, one load (V8 made `c == SPACE || c == TAB` two compares, each made a flag,
// combined and tested: some ten instructions for each of a line's dozen blank tests).
const CHAR_BLANK: u8 = 1;          // space or tab
const CHAR_SIZED_OP: u8 = 2;       // an operator followed by a pointer and a size: + > !
const BYTE_VALUES: i32 = 256;
const charClass = memory.data(BYTE_VALUES);
store<u8>(charClass + <usize>SPACE, CHAR_BLANK);
store<u8>(charClass + <usize>TAB, CHAR_BLANK);
store<u8>(charClass + <usize>PLUS, CHAR_SIZED_OP);
store<u8>(charClass + <usize>GREATER, CHAR_SIZED_OP);
store<u8>(charClass + <usize>BANG, CHAR_SIZED_OP);

// `c`: a byte.
// @ts-ignore: decorator
@inline function isBlank(c: u32): bool { return (load<u8>(charClass + <usize>c) & CHAR_BLANK) != 0; }

const SPACES: u64 = ONES * <u64>SPACE;
const TABS: u64 = ONES * <u64>TAB;
const LOW_SEVEN_BITS: u64 = ONES * 0x7f;

/** SWAR: the top bit of every byte of `x` that is 0, and no other bit (exact, no borrow between bytes). */
// @ts-ignore: decorator
@inline function zeroBytes(x: u64): u64 {
  return ~(((x & LOW_SEVEN_BITS) + LOW_SEVEN_BITS) | x | LOW_SEVEN_BITS);
}

/**
 * Where the token that ends at `end` starts: just after the last blank in [start, end), or
 * `start`. A word at a time from the right (a token is a few to twenty bytes), then byte by byte
 * for the last bytes before `start`.
 */
// @ts-ignore: decorator
@inline function tokenStart(start: usize, end: usize): usize {
  let p = end;
  while (p >= start + <usize>WORD_BYTES) {
    const w = load<u64>(p - <usize>WORD_BYTES);
    const blanks = zeroBytes(w ^ SPACES) | zeroBytes(w ^ TABS);
    if (blanks != 0) return p - <usize>WORD_BYTES + <usize>((63 - clz(blanks)) >> 3) + 1;
    p -= WORD_BYTES;
  }
  while (p > start && !isBlank(load<u8>(p - 1))) p--;
  return p;
}

// @ts-ignore: decorator
@inline function hexDigit(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const lower = c | 0x20;
  if (lower - 0x61 < 6) return <i32>(lower - 0x61 + 10);
  return -1;
}

const ZERO_CHARS: u64 = ONES * <u64>ZERO;              // "00000000"
const LOW_NIBBLES: u64 = ONES * 0x0f;
const HEX_LETTER_VALUE: u64 = 9;                      // 'a' & 0xf = 1, and 'a' is 10
const WORD_HEX_DIGITS: i32 = 8;

/**
 * The value of the `k` (1..8) hex digits at `p`, or NOT_FAST when one is not a hex digit; SWAR:
 * one word for all of them. (It may read up to 7 bytes past the digits: the input buffer has a
 * word of slack.)
 */
// @ts-ignore: decorator
@inline function hexWord(p: usize, k: i32): u64 {
  let x = load<u64>(p);
  // The digits to the top bytes, "0"s below them (the most significant digit is the lowest byte).
  if (k < WORD_HEX_DIGITS) x = (x << (<u64>(WORD_HEX_DIGITS - k) << 3)) | (ZERO_CHARS >> (<u64>k << 3));
  if ((x & HIGHS) != 0) return NOT_FAST;
  // Per byte, in its top bit: '0' <= c <= '9', or 'a' <= (c | 0x20) <= 'f'.
  const digit = (x + ONES * (0x80 - 0x30)) & ~(x + ONES * (0x80 - 0x3a));
  const lower = x | (ONES * 0x20);
  const letter = (lower + ONES * (0x80 - 0x61)) & ~(lower + ONES * (0x80 - 0x67));
  if (((digit | letter) & HIGHS) != HIGHS) return NOT_FAST;
  // Per byte its value (letters have bit 6 set), then the nibbles joined, most significant first.
  let v = (x & LOW_NIBBLES) + ((x >> 6) & ONES) * HEX_LETTER_VALUE;
  v = ((v & 0x00ff00ff00ff00ff) << 4) | ((v >> 8) & 0x00ff00ff00ff00ff);
  v = ((v & 0x0000ffff0000ffff) << 8) | ((v >> 16) & 0x0000ffff0000ffff);
  return ((v & 0xffffffff) << 16) | (v >> 32);
}

/** `0x…` hex, `(nil)` or a bare `0`, as the host reads them when they are a u64; NOT_FAST otherwise. */
// @ts-ignore: decorator
@inline function number(start: usize, end: usize): u64 {
  const len = <i32>(end - start);
  if (len > 2 && load<u8>(start) == ZERO && load<u8>(start + 1) == LOWER_X) {
    const digits = len - 2;
    // Up to 16 digits always fit a u64 (leading zeros or not): a word or two.
    if (digits <= WORD_HEX_DIGITS) return hexWord(start + 2, digits);
    if (digits <= MAX_HEX_DIGITS) {
      const high = hexWord(start + 2, digits - WORD_HEX_DIGITS);
      const low = hexWord(end - <usize>WORD_HEX_DIGITS, WORD_HEX_DIGITS);
      return high == NOT_FAST || low == NOT_FAST ? NOT_FAST : (high << 32) | low;
    }
    let v: u64 = 0;
    let significant = 0;
    for (let p = start + 2; p < end; p++) {
      const d = hexDigit(load<u8>(p));
      if (d < 0) return NOT_FAST;
      if (significant > 0 || d != 0) significant++;
      v = (v << 4) | <u64>d;
    }
    return significant > MAX_HEX_DIGITS ? NOT_FAST : v;
  }
  if (len == 1 && load<u8>(start) == ZERO) return 0;
  if (len == NIL_TEXT_BYTES && load<u8>(start) == OPEN_PAREN && (load<u64>(start) & 0xffffffffff) == NIL_TEXT_LE) return 0;
  return NOT_FAST;
}

// @ts-ignore: decorator
@inline function callerHash(start: usize, len: i32): u32 {
  // The tail of the caller text: its address, which tells callers apart (the bytes confirm).
  let h: u64 = <u64>len;
  if (len >= CALLER_TAIL_BYTES) {
    h ^= load<u64>(start + <usize>len - 16) * HASH_MULTIPLIER;
    h = (h ^ load<u64>(start + <usize>len - 8)) * HASH_MULTIPLIER;
  } else {
    for (let i = 0; i < len; i++) h = (h ^ <u64>load<u8>(start + <usize>i)) * HASH_MULTIPLIER;
  }
  return <u32>(h >> 32) | 1; // never 0: 0 marks an empty slot
}

// Whole words, the last one overlapping the one before it (no byte loop for the tail).
// @ts-ignore: decorator
@inline function sameBytes(a: usize, b: usize, len: i32): bool {
  if (len < WORD_BYTES) {
    for (let i = 0; i < len; i++) if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
    return true;
  }
  const last = <usize>(len - WORD_BYTES);
  for (let i: usize = 0; i < last; i += WORD_BYTES) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
  }
  return load<u64>(a + last) == load<u64>(b + last);
}

/** The host's index of the caller text at [start, start + len), or UNKNOWN_CALLER. */
// @ts-ignore: decorator
@inline function lookupCaller(start: usize, len: i32): i32 {
  if (len <= 0) return NO_CALLER;
  const h = callerHash(start, len);
  const mask: u32 = (1 << callerLog2) - 1;
  let i = h & mask;
  let s = callerSlots + <usize>i * CALLER_SLOT_BYTES;
  let sh = load<u32>(s, CS_HASH);
  while (sh != 0) {
    if (sh == h && load<i32>(s, CS_LEN) == len && sameBytes(arena + <usize>load<u32>(s, CS_AT), start, len)) return load<i32>(s, CS_INDEX);
    i = (i + 1) & mask;
    s = callerSlots + <usize>i * CALLER_SLOT_BYTES;
    sh = load<u32>(s, CS_HASH);
  }
  return UNKNOWN_CALLER;
}

function insertCaller(h: u32, at: u32, len: i32, index: i32): void {
  const mask: u32 = (1 << callerLog2) - 1;
  let i = h & mask;
  for (;;) {
    const s = callerSlots + <usize>i * CALLER_SLOT_BYTES;
    if (load<u32>(s, CS_HASH) == 0) {
      store<u32>(s, h, CS_HASH);
      store<u32>(s, at, CS_AT);
      store<i32>(s, len, CS_LEN);
      store<i32>(s, index, CS_INDEX);
      return;
    }
    i = (i + 1) & mask;
  }
}

/** The host interned the caller text in the scratch buffer (`len` bytes) as `index`. */
export function mtraceCallerAdd(len: i32, index: i32): void {
  if (len <= 0 || lookupCaller(scratch, len) != UNKNOWN_CALLER) return;
  if (arenaUsed + <usize>len > arenaCap) {
    let cap = arenaCap << 1;
    while (arenaUsed + <usize>len > cap) cap <<= 1;
    arena = heap.realloc(arena, cap);
    arenaCap = cap;
  }
  memory.copy(arena + arenaUsed, scratch, <usize>len);
  const at = <u32>arenaUsed;
  arenaUsed += <usize>len;
  // Keep the table at most half full.
  if ((callerCount + 1) << 1 > (<u32>1 << callerLog2)) {
    const old = callerSlots;
    const oldCount: u32 = 1 << callerLog2;
    allocCallerSlots(callerLog2 + 1);
    for (let j: u32 = 0; j < oldCount; j++) {
      const o = old + <usize>j * CALLER_SLOT_BYTES;
      const oh = load<u32>(o, CS_HASH);
      if (oh != 0) insertCaller(oh, load<u32>(o, CS_AT), load<i32>(o, CS_LEN), load<i32>(o, CS_INDEX));
    }
    heap.free(old);
  }
  insertCaller(callerHash(scratch, len), at, len, index);
  callerCount++;
}

/**
 * One call the host read from a line (op byte, pointer, size, caller index) with the pairing rule
 * of `<` and `>`; false when the host reader calls the line malformed (a `<` not followed by `>`,
 * a `>` without `<`).
 */
function apply(op: u32, pointer: u64, sizeBytes: f64, caller: i32): bool {
  if (hasPending && op != GREATER) return false; // `<` must be followed by `>`
  if (op == PLUS) {
    mapAlloc(EV_ALLOC, pointer, sizeBytes, caller);
  } else if (op == MINUS) {
    mapFree(pointer);
  } else if (op == LESS) {
    hasPending = true;
    pendingOld = pointer;
  } else if (op == GREATER) {
    if (!hasPending) return false;
    hasPending = false;
    mapRealloc(pendingOld, pointer, sizeBytes, caller);
  } else { // BANG
    mapSkip(SKIP_FAILED_ALLOC);
  }
  return true;
}

/** The host reader's call (pointer as two halves; size Infinity when 2^53 or more). */
export function mtraceApply(op: u32, pointerLow: u32, pointerHigh: u32, sizeBytes: f64, caller: i32): bool {
  mapEnter();
  const ok = apply(op, (<u64>pointerHigh << 32) | <u64>pointerLow, sizeBytes, caller);
  mapLeave();
  return ok;
}

/** End of input: a `<` whose `>` never came is a call with an unknown result. */
export function mtraceFinish(): void {
  mapEnter();
  if (hasPending) {
    hasPending = false;
    mapSkip(SKIP_UNKNOWN_RESULT);
  }
  mapLeave();
}

/** Reads the line [start, end) (newline and CR removed) as the host would; false: leave it to the host. */
function line(start: usize, end: usize): bool {
  while (end > start && isBlank(load<u8>(end - 1))) end--;
  while (start < end && isBlank(load<u8>(start))) start++;
  if (start == end) return true; // blank line
  if (load<u8>(start) == EQUALS) return false;
  // Tokens from the right: t1 is always a number; the operator is t2 or t3.
  const b1 = tokenStart(start, end);
  let e2 = b1;
  while (e2 > start && isBlank(load<u8>(e2 - 1))) e2--;
  const b2 = tokenStart(start, e2);
  let op: u32;
  let pointer: u64;
  let size: u64 = 0;
  let opStart: usize;
  if (e2 - b2 == 1 && (load<u8>(b2) == MINUS || load<u8>(b2) == LESS)) {
    op = load<u8>(b2);
    pointer = number(b1, end);
    opStart = b2;
  } else {
    let e3 = b2;
    while (e3 > start && isBlank(load<u8>(e3 - 1))) e3--;
    if (e3 <= start) return false;
    const b3 = e3 - 1;
    if (b3 > start && !isBlank(load<u8>(b3 - 1))) return false;
    op = load<u8>(b3);
    if (!(load<u8>(charClass + <usize>op) & CHAR_SIZED_OP)) return false;
    pointer = number(b2, e2);
    size = number(b1, end);
    if (size == NOT_FAST) return false;
    opStart = b3;
  }
  if (pointer == NOT_FAST) return false;
  // Prefix: nothing, or "@ caller".
  let caller = NO_CALLER;
  let prefixEnd = opStart;
  while (prefixEnd > start && isBlank(load<u8>(prefixEnd - 1))) prefixEnd--;
  if (prefixEnd > start) {
    if (load<u8>(start) != AT) return false;
    let callerStart = start + 1;
    while (callerStart < prefixEnd && isBlank(load<u8>(callerStart))) callerStart++;
    if (op != LESS) {
      caller = lookupCaller(callerStart, <i32>(prefixEnd - callerStart));
      if (caller == UNKNOWN_CALLER) return false; // the host interns it
    }
  }
  if (hasPending ? op != GREATER : op == GREATER) return false; // the host says why
  // Sizes of 2^53 and more are Infinity on the host: refused there and here alike.
  return apply(op, pointer, size >= (<u64>1 << 53) ? Infinity : <f64>size, caller);
}

/** Offset of the first newline in [p, end), or end. */
// @ts-ignore: decorator
@inline function newlineFrom(p: usize, end: usize): usize {
  while (p + <usize>WORD_BYTES <= end) {
    const x = load<u64>(p) ^ NEWLINES;
    const found = (x - ONES) & ~x & HIGHS;
    if (found != 0) return p + <usize>(ctz(found) >> 3);
    p += WORD_BYTES;
  }
  while (p < end && load<u8>(p) != NEWLINE) p++;
  return p;
}

/**
 * Takes the complete lines of input[from, n) that it can; returns the offset of the first line not
 * taken (n when all were). mtraceLineCount() tells how many lines were taken. Stops early, at a
 * line boundary, when the event buffer could overflow.
 */
export function mtraceLines(from: i32, n: i32): i32 {
  mapEnter();
  const end = input + <usize>n;
  let p = input + <usize>from;
  let taken = 0;
  while (p < end) {
    if (outNearlyFull()) break;
    const nl = newlineFrom(p, end);
    if (nl == end) break; // incomplete: the host carries it into the next chunk
    let lineEnd = nl;
    if (lineEnd > p && load<u8>(lineEnd - 1) == CARRIAGE_RETURN) lineEnd--;
    if (<i32>(lineEnd - p) > MAX_LINE_BYTES) break;
    if (!line(p, lineEnd)) break;
    taken++;
    p = nl + 1;
  }
  lines = taken;
  mapLeave();
  return <i32>(p - input);
}
