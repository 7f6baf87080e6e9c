// CS:APP malloc-lab traces (`.rep`): a header of integers, then one request per line.
//
//   20000        suggested heap size (unused)
//   3            number of distinct ids
//   5            number of requests
//   1            weight (unused)
//   a 0 512      allocate 512 bytes as block 0
//   r 0 1024     resize block 0
//   a 1 128
//   f 0          free block 0
//   f 1
//
// Some variants carry only the id and request counts. Ids are the trace's own block names; they go
// through the AddressMapper like addresses, so an id reused after its free is a new block.
import { AddressMapper } from '../address-map.js';
import { LineSplitter, MalformedPolicy, type LineHandler } from '../lines.js';
import type { ParserContext, TraceParser } from './parser.js';
import { asCount, decimalText, isBadNumber, numberProblem, type TraceInt } from '../numbers.js';

const WHITESPACE = /[ \t]+/;
const DECIMAL = /^\d+$/;
/** Header layouts by count of numbers: the classic four, or ids and requests only. */
const CLASSIC_HEADER_NUMBERS = 4;
const SHORT_HEADER_NUMBERS = 2;
const CLASSIC_REQUESTS_INDEX = 2;
const SHORT_REQUESTS_INDEX = 1;
/** Block ids become keys id + 1, because key 0 means NULL to the mapper. */
const KEY_OFFSET = 1;

export class RepParser implements TraceParser, LineHandler {
  private readonly mapper: AddressMapper;
  private readonly splitter: LineSplitter;
  /** Header numbers as written (compared as text: exact whatever their size). */
  private readonly header: string[] = [];
  private inBody = false;
  private requests = 0;

  constructor(private readonly ctx: ParserContext) {
    this.mapper = new AddressMapper(ctx.ledger);
    this.splitter = new LineSplitter(this, new MalformedPolicy(ctx.file, 'malloc-lab .rep', ctx.lenient, ctx.ledger.input));
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  finish(): void {
    this.splitter.finish();
    const declared =
      this.header.length === CLASSIC_HEADER_NUMBERS ? this.header[CLASSIC_REQUESTS_INDEX]
      : this.header.length === SHORT_HEADER_NUMBERS ? this.header[SHORT_REQUESTS_INDEX]
      : undefined;
    if (declared !== undefined && declared !== String(this.requests)) {
      this.ctx.ledger.warnings.push(`header declares ${declared} requests, the trace has ${this.requests}`);
    }
  }

  why = '';

  line(buf: Buffer, start: number, end: number): boolean {
    this.why = '';
    const t = buf.toString('latin1', start, end).trim().split(WHITESPACE);
    if (t.length === 1 && t[0] === '') return true;
    if (!this.inBody) {
      if (t.every((x) => /^-?\d+$/.test(x))) {
        if (this.header.length + t.length > CLASSIC_HEADER_NUMBERS) return false;
        this.header.push(...t.map((x) => x.replace(/^(-?)0+(?=\d)/, '$1'))); // canonical text, exact
        return true;
      }
      this.inBody = true;
    }
    if (!DECIMAL.test(t[1] ?? '')) return false;
    const id = decimalText(t[1]!);
    if (isBadNumber(id)) {
      this.why = numberProblem(id, 'the id');
      return false;
    }
    // Exact for any 64-bit id: a bigint key when id + 1 is 2^53 or more.
    const key: TraceInt = typeof id === 'number' && id < Number.MAX_SAFE_INTEGER ? id + KEY_OFFSET : BigInt(id) + BigInt(KEY_OFFSET);
    switch (t[0]) {
      case 'a':
      case 'r': {
        if (t.length !== 3 || !DECIMAL.test(t[2]!)) return false;
        const sizeValue = decimalText(t[2]!);
        if (isBadNumber(sizeValue)) {
          this.why = numberProblem(sizeValue, 'the size');
          return false;
        }
        const size = asCount(sizeValue);
        this.requests++;
        if (t[0] === 'a') this.mapper.alloc(key, size);
        else this.mapper.realloc(key, key, size);
        return true;
      }
      case 'f':
        if (t.length !== 2) return false;
        this.requests++;
        this.mapper.free(key);
        return true;
      default:
        return false;
    }
  }
}
