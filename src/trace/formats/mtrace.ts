// glibc mtrace text (what MALLOC_TRACE receives once the program calls mtrace()):
//
//   = Start
//   @ ./prog:[0x401196] + 0x55d0c5a4a2a0 0x20       malloc, calloc, memalign, realloc(NULL, n)
//   @ ./prog:[0x4011b2] - 0x55d0c5a4a2a0            free, realloc(p, 0)
//   @ ./prog:[0x4011c7] < 0x55d0c5a4a2c0            realloc: old block…
//   @ ./prog:[0x4011c7] > 0x55d0c5a4a6f0 0x400      …and the new one (one event)
//   @ ./prog:[0x4011d0] ! 0x55d0c5a4a2c0 0x7fffffff realloc that failed (old block kept)
//   = End
//
// The `@ caller ` prefix is absent when glibc has no caller address. Pointers are printed with %p
// (so NULL is `(nil)`), sizes with %#lx (so zero is `0`). The caller text may contain a symbol
// `(sym+0x1a)` and ends in `[0xADDRESS]`; callers are interned by a hash of their bytes so the hot
// loop never builds a string for a caller it has already seen.
import { AddressMapper } from '../address-map.js';
import { NO_CALLER, SKIP_FAILED_ALLOC, SKIP_UNKNOWN_RESULT } from '../events.js';
import { LineSplitter, MalformedPolicy } from '../lines.js';
import { ABOVE_U64, NOT_A_NUMBER, asCount, hexBytes, isBadNumber, type TraceInt } from '../numbers.js';
import type { ParserContext, TraceParser } from './parser.js';
import type { TextWasm } from './text-wasm.js';

const SPACE = 0x20;
const TAB = 0x09;
const AT = 0x40;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const LESS = 0x3c;
const GREATER = 0x3e;
const BANG = 0x21;
const ZERO = 0x30;
const LOWER_X = 0x78;
const OPEN_PAREN = 0x28;
const NIL_TEXT = '(nil)';
const NO_PENDING = -1;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** `0x…` hex, `(nil)` or a bare `0`: exact (numbers.ts); NOT_A_NUMBER or ABOVE_U64 otherwise. */
function parseMtraceNumber(buf: Buffer, start: number, end: number): TraceInt {
  const len = end - start;
  if (len > 2 && buf[start] === ZERO && buf[start + 1] === LOWER_X) return hexBytes(buf, start + 2, end);
  if (len === 1 && buf[start] === ZERO) return 0;
  if (len === NIL_TEXT.length && buf[start] === OPEN_PAREN && buf.toString('latin1', start, end) === NIL_TEXT) return 0;
  return NOT_A_NUMBER;
}

export class MtraceParser implements TraceParser {
  private readonly mapper: AddressMapper;
  private readonly splitter: LineSplitter;
  /** The WASM line loop and address map (text-wasm.ts), or null: this class reads every line. */
  private readonly fast: TextWasm | null;
  /** Hash of a caller's text → caller string index; the bytes confirm a hit. */
  private readonly callerByHash = new Map<number, number>();
  private readonly callerBytes: Buffer[] = [];
  private pendingOld: TraceInt = NO_PENDING;

  constructor(private readonly ctx: ParserContext) {
    this.mapper = new AddressMapper(ctx.ledger);
    const fast = ctx.text ?? null;
    this.fast = fast;
    if (fast !== null) {
      // The splitter offers complete lines to the WASM loop first, and line() gets what it leaves.
      this.lines = (buf, pos) => {
        const next = fast.take(buf, pos);
        this.taken = fast.linesTaken;
        return next;
      };
    }
    const policy = new MalformedPolicy(ctx.file, 'mtrace', ctx.lenient, ctx.ledger.input);
    this.splitter = new LineSplitter(this, policy);
  }

  push(chunk: Buffer): void {
    if (this.fast === null) return this.splitter.push(chunk);
    this.fast.load(chunk);
    this.splitter.push(chunk);
    this.fast.settle();
  }

  /** With the fast path: complete lines from `pos` taken in WASM (see LineHandler.lines). */
  lines?: (buf: Buffer, pos: number) => number;
  taken = 0;

  finish(): void {
    this.splitter.finish();
    if (this.fast !== null) {
      this.fast.mtraceFinish();
      return this.fast.settle();
    }
    if (this.pendingOld !== NO_PENDING) {
      // A realloc whose `>` line never came: the call happened, its result is unknown.
      this.pendingOld = NO_PENDING;
      this.ctx.ledger.skip(SKIP_UNKNOWN_RESULT);
    }
  }

  private badNumber(v: TraceInt): false {
    if (v === ABOVE_U64) this.why = 'a number does not fit 64 bits';
    return false;
  }

  /**
   * Caller string index of the caller text buf[start, end), e.g. "./prog:(main+0x1a)[0x401196]".
   * Found by an FNV-1a hash of the bytes, confirmed by comparing them, so a caller seen before
   * costs no string. (The bracketed address alone is not unique: glibc prints it relative to
   * each library, so two libraries can share one.)
   */
  private caller(buf: Buffer, start: number, end: number): number {
    if (end <= start) return NO_CALLER;
    if (this.fast !== null) {
      // The WASM loop leaves lines with callers it has not seen (and a few others) to this code:
      // intern the text and tell the loop its index.
      const index = this.ctx.ledger.internCaller(buf.toString('utf8', start, end));
      this.fast.addCaller(buf, start, end, index);
      return index;
    }
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
    const index = this.callerByHash.get(h);
    if (index !== undefined) {
      const known = this.callerBytes[index]!;
      let same = known.length === end - start;
      for (let i = 0; same && i < known.length; i++) same = known[i] === buf[start + i];
      if (same) return index;
      return this.ctx.ledger.internCaller(buf.toString('utf8', start, end)); // hash collision: no cache
    }
    const text = buf.toString('utf8', start, end);
    const created = this.ctx.ledger.internCaller(text);
    this.callerByHash.set(h, created);
    this.callerBytes[created] = Buffer.from(buf.subarray(start, end));
    return created;
  }

  why = '';

  line(buf: Buffer, start: number, end: number, _lineNo: number, _last: boolean): boolean {
    this.why = '';
    while (end > start && isBlank(buf[end - 1]!)) end--;
    while (start < end && isBlank(buf[start]!)) start++;
    if (start === end) return true; // blank line
    if (buf[start] === EQUALS) {
      const word = buf.toString('latin1', start + 1, end).trim();
      return word === 'Start' || word === 'End';
    }
    // Tokens from the right: t1 is always a number; the operator is t2 or t3.
    let b1 = end;
    while (b1 > start && !isBlank(buf[b1 - 1]!)) b1--;
    let e2 = b1;
    while (e2 > start && isBlank(buf[e2 - 1]!)) e2--;
    let b2 = e2;
    while (b2 > start && !isBlank(buf[b2 - 1]!)) b2--;
    let op: number;
    let ptr: TraceInt;
    let size: TraceInt = 0;
    let opStart: number;
    if (e2 - b2 === 1 && (buf[b2] === MINUS || buf[b2] === LESS)) {
      op = buf[b2]!;
      ptr = parseMtraceNumber(buf, b1, end);
      opStart = b2;
    } else {
      let e3 = b2;
      while (e3 > start && isBlank(buf[e3 - 1]!)) e3--;
      const b3 = e3 - 1;
      if (b3 < start || (b3 > start && !isBlank(buf[b3 - 1]!))) return false;
      op = buf[b3]!;
      if (op !== PLUS && op !== GREATER && op !== BANG) return false;
      ptr = parseMtraceNumber(buf, b2, e2);
      size = parseMtraceNumber(buf, b1, end);
      if (isBadNumber(size)) return this.badNumber(size);
      opStart = b3;
    }
    if (isBadNumber(ptr)) return this.badNumber(ptr);
    const sizeBytes = asCount(size);
    // Prefix: nothing, or "@ caller".
    let caller = NO_CALLER;
    let prefixEnd = opStart;
    while (prefixEnd > start && isBlank(buf[prefixEnd - 1]!)) prefixEnd--;
    if (prefixEnd > start) {
      if (buf[start] !== AT) return false;
      let callerStart = start + 1;
      while (callerStart < prefixEnd && isBlank(buf[callerStart]!)) callerStart++;
      if (op !== LESS) caller = this.caller(buf, callerStart, prefixEnd);
    }
    if (this.fast !== null) return this.fast.mtraceApply(op, ptr, sizeBytes, caller);
    if (this.pendingOld !== NO_PENDING && op !== GREATER) return false; // `<` must be followed by `>`
    switch (op) {
      case PLUS:
        this.mapper.alloc(ptr, sizeBytes, caller);
        return true;
      case MINUS:
        this.mapper.free(ptr);
        return true;
      case LESS:
        this.pendingOld = ptr;
        return true;
      case GREATER: {
        if (this.pendingOld === NO_PENDING) return false;
        const old = this.pendingOld;
        this.pendingOld = NO_PENDING;
        this.mapper.realloc(old, ptr, sizeBytes, caller);
        return true;
      }
      default: // BANG
        this.mapper.skip(SKIP_FAILED_ALLOC);
        return true;
    }
  }
}
