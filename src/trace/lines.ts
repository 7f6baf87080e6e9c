// Splits a byte stream into lines without `readline` and without copying the bulk of each chunk:
// only a line that straddles two chunks is copied. Parsers see raw bytes (start/end offsets into a
// Buffer, end excludes the newline and a trailing CR) and decode what they need themselves.
import { InputError } from '../errors.js';
import type { InputCounts } from './ledger.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** Longest line shown in an error message. */
const MAX_QUOTED_LINE_CHARS = 200;
const HEX_RADIX = 16;

export interface LineHandler {
  /** Handles one line; returns false when it did not parse. `last` is true for a final line without newline. */
  line(buf: Buffer, start: number, end: number, lineNo: number, last: boolean): boolean;
}

/** Quotes a line for an error message. */
function quoteLine(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, Math.min(end, start + MAX_QUOTED_LINE_CHARS));
  return JSON.stringify(end - start > MAX_QUOTED_LINE_CHARS ? text + '…' : text);
}

/** Counts a bad line under --lenient, or throws an InputError naming file, line and content. */
export class MalformedPolicy {
  constructor(
    readonly file: string,
    readonly formatLabel: string,
    readonly lenient: boolean,
    private readonly counts: InputCounts,
  ) {}

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
  private carry: Buffer | null = null;
  lineNo = 0;

  constructor(private readonly handler: LineHandler, private readonly policy: MalformedPolicy) {}

  private emit(buf: Buffer, start: number, end: number, last: boolean): void {
    this.lineNo++;
    if (end > start && buf[end - 1] === CARRIAGE_RETURN) end--;
    if (!this.handler.line(buf, start, end, this.lineNo, last)) this.policy.bad(buf, start, end, this.lineNo, last);
  }

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.emit(joined, 0, joined.length, false);
      pos = nl + 1;
    }
    const n = chunk.length;
    while (pos < n) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl < 0) {
        this.carry = Buffer.from(chunk.subarray(pos)); // copy: the chunk may be reused by the stream
        return;
      }
      this.emit(chunk, pos, nl, false);
      pos = nl + 1;
    }
  }

  /** Handles a final line that has no newline. */
  finish(): void {
    if (this.carry !== null && this.carry.length > 0) {
      const last = this.carry;
      this.carry = null;
      this.emit(last, 0, last.length, true);
    }
  }
}

// ---- byte-level number parsing shared by the text readers ----

/** Value of each byte as a hex digit, -1 for bytes that are not one. */
const HEX_DIGIT_VALUE = new Int8Array(256).fill(-1);
for (let d = 0; d < HEX_RADIX; d++) {
  const text = d.toString(HEX_RADIX);
  HEX_DIGIT_VALUE[text.charCodeAt(0)] = d;
  HEX_DIGIT_VALUE[text.toUpperCase().charCodeAt(0)] = d;
}

/** Parses hex digits (no prefix) in buf[start, end); -1 when empty or not hex. Exact below 2^53. */
export function parseHexDigits(buf: Buffer, start: number, end: number): number {
  if (start >= end) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = HEX_DIGIT_VALUE[buf[i]!]!;
    if (d < 0) return -1;
    v = v * HEX_RADIX + d;
  }
  return v;
}
