// Splits a byte stream into lines without `readline` and without copying the bulk of each chunk:
// only a line that straddles two chunks is copied. Parsers see raw bytes (start/end offsets into a
// Buffer, end excludes the newline and a trailing CR) and decode what they need themselves.
import { InputError } from '../errors.js';
import type { InputCounts } from './ledger.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** Longest line shown in an error message. */
const MAX_QUOTED_LINE_CHARS = 200;
/**
 * Longest line any text format may have (a token can be no longer). Generous for real traces
 * (mtrace callers with long C++ symbols), and what bounds the memory and work of one line.
 */
export const MAX_LINE_BYTES = 1 << 20;
/** First size of the buffer that carries a line across chunks. */
const INITIAL_CARRY_BYTES = 4096;

export interface LineHandler {
  /** Handles one line; returns false when it did not parse. `last` is true for a final line without newline. */
  line(buf: Buffer, start: number, end: number, lineNo: number, last: boolean): boolean;
  /** Why the line just handled did not parse ('' when there is nothing to add); read after line() returns false. */
  why?: string;
  /**
   * Optional fast path: handles complete lines of `buf` from `pos` on, as line() would (it may stop
   * at any line, which line() then gets); returns where it stopped and sets `taken` to the lines it
   * handled.
   */
  lines?(buf: Buffer, pos: number): number;
  taken?: number;
}

/** Quotes a line for an error message: at most MAX_QUOTED_LINE_CHARS characters of escaped text. */
export function quoteLine(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, Math.min(end, start + MAX_QUOTED_LINE_CHARS * 4));
  let out = '';
  let cut = end - start > MAX_QUOTED_LINE_CHARS * 4;
  for (const ch of text) {
    const escaped = JSON.stringify(ch).slice(1, -1);
    if (out.length + escaped.length > MAX_QUOTED_LINE_CHARS) {
      cut = true;
      break;
    }
    out += escaped;
  }
  return `"${out}${cut ? '…' : ''}"`;
}

/** Counts a bad line under --lenient, or throws an InputError naming file, line and content. */
export class MalformedPolicy {
  constructor(
    readonly file: string,
    readonly formatLabel: string,
    readonly lenient: boolean,
    private readonly counts: InputCounts,
  ) {}

  /** A line longer than MAX_LINE_BYTES: an error, or under --lenient a counted malformed line. */
  overlong(buf: Buffer, start: number, end: number, lineNo: number): void {
    if (this.lenient) {
      this.counts.malformedLines++;
      return;
    }
    throw new InputError(
      `${this.formatLabel} line longer than ${MAX_LINE_BYTES} bytes: ${quoteLine(buf, start, end)} (use --lenient to count and skip such lines)`,
      this.file, lineNo);
  }

  bad(buf: Buffer, start: number, end: number, lineNo: number, last: boolean, why = ''): void {
    if (last) {
      // A final line without newline that does not parse: the writer was cut off mid-line.
      this.counts.truncatedLastLine = 1;
      return;
    }
    if (this.lenient) {
      this.counts.malformedLines++;
      return;
    }
    const detail = why === '' ? '' : ` (${why})`;
    throw new InputError(
      `malformed ${this.formatLabel} line${detail}: ${quoteLine(buf, start, end)} (use --lenient to count and skip such lines)`,
      this.file, lineNo);
  }
}

export class LineSplitter {
  /** Start of a line that straddles chunks: carry[0, carryBytes), grown by doubling (at most MAX_LINE_BYTES + 1). */
  private carry: Buffer | null = null;
  private carryBytes = 0;
  /** The current line is longer than MAX_LINE_BYTES: its rest is dropped up to the next newline. */
  private skipping = false;
  lineNo = 0;

  constructor(private readonly handler: LineHandler, private readonly policy: MalformedPolicy) {}

  private emit(buf: Buffer, start: number, end: number, last: boolean): void {
    this.lineNo++;
    if (end > start && buf[end - 1] === CARRIAGE_RETURN) end--;
    if (end - start > MAX_LINE_BYTES) {
      this.policy.overlong(buf, start, end, this.lineNo);
      return;
    }
    if (!this.handler.line(buf, start, end, this.lineNo, last)) this.policy.bad(buf, start, end, this.lineNo, last, this.handler.why ?? '');
  }

  /** The start of the current line went past MAX_LINE_BYTES: report it now, drop the rest. */
  private beginSkipping(head: Buffer): void {
    this.carry = null;
    this.carryBytes = 0;
    this.skipping = true;
    this.lineNo++;
    this.policy.overlong(head, 0, head.length, this.lineNo);
  }

  /** Appends bytes to the carried line start (amortised: the buffer doubles). */
  private append(part: Uint8Array): void {
    const need = this.carryBytes + part.length;
    if (this.carry === null || need > this.carry.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, (this.carry?.length ?? 0) * 2, INITIAL_CARRY_BYTES));
      if (this.carry !== null) this.carry.copy(bigger, 0, 0, this.carryBytes);
      this.carry = bigger;
    }
    this.carry.set(part, this.carryBytes);
    this.carryBytes = need;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.skipping) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) return;
      this.skipping = false;
      pos = nl + 1;
    } else if (this.carryBytes > 0) {
      const nl = chunk.indexOf(NEWLINE);
      const partEnd = nl < 0 ? chunk.length : nl;
      if (this.carryBytes + partEnd > MAX_LINE_BYTES + 1) { // + 1: a CR before the newline is not counted
        this.beginSkipping(this.carry!.subarray(0, Math.min(this.carryBytes, MAX_QUOTED_LINE_CHARS + 1)));
        if (nl < 0) return;
        this.skipping = false;
        pos = nl + 1;
      } else if (nl < 0) {
        this.append(chunk);
        return;
      } else {
        this.append(chunk.subarray(0, nl));
        const joined = this.carry!;
        const length = this.carryBytes;
        this.carry = null;
        this.carryBytes = 0;
        this.emit(joined, 0, length, false);
        pos = nl + 1;
      }
    }
    const n = chunk.length;
    const fast = this.handler.lines !== undefined;
    while (pos < n) {
      if (fast) {
        const next = this.handler.lines!(chunk, pos);
        this.lineNo += this.handler.taken!;
        if (next !== pos) {
          pos = next;
          continue;
        }
      }
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl < 0) {
        if (n - pos > MAX_LINE_BYTES + 1) this.beginSkipping(chunk.subarray(pos, pos + MAX_QUOTED_LINE_CHARS + 1));
        else this.append(chunk.subarray(pos)); // copied: the chunk may be reused by the stream
        return;
      }
      this.emit(chunk, pos, nl, false);
      pos = nl + 1;
    }
  }

  /** Handles a final line that has no newline. */
  finish(): void {
    if (this.carryBytes > 0) {
      const last = this.carry!;
      const length = this.carryBytes;
      this.carry = null;
      this.carryBytes = 0;
      this.emit(last, 0, length, true);
    }
  }
}
