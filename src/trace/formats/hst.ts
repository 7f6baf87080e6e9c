// heapsim's binary trace format, `.hst`. Byte-level description in docs/trace-format.md.
//
// ╒═══ header (16 bytes) ═══════════════════════════════════════════════════════╕
// │ 0..7 magic 89 48 53 54 0D 0A 1A 0A │ 8..9 version u16 LE │ 10..11 flags u16 │
// │ 12 source format u8 │ 13..15 zero                                           │
// ╘═════════════════════════════════════════════════════════════════════════════╛
// then records: one opcode byte, then unsigned LEB128 varints. Strings (mark labels, callers) are
// defined by a record before their first use, so a writer never needs to seek. The last record is
// END with the event count, so a cut-off file is detected.
import { InputError } from '../../errors.js';
import {
  NO_CALLER, SKIP_DOUBLE_FREE, SKIP_REASON_COUNT, SKIP_UNMATCHED_FREE,
  type EventSink, type FormatName,
} from '../events.js';
import { MAX_BLOCK_ID, type Ledger } from '../ledger.js';
import type { ParserContext, TraceParser } from './parser.js';

export const HST_MAGIC = Buffer.from([0x89, 0x48, 0x53, 0x54, 0x0d, 0x0a, 0x1a, 0x0a]);
const HST_VERSION = 1;
export const HST_HEADER_BYTES = 16;
const VERSION_OFFSET = 8;
const FLAGS_OFFSET = 10;
const SOURCE_OFFSET = 12;
/** No flags are defined in version 1; readers reject unknown ones. */
const KNOWN_FLAGS = 0;

export const OP_ALLOC = 0x01;
export const OP_CALLOC = 0x02;
export const OP_ALIGNED = 0x03;
export const OP_REALLOC = 0x04;
export const OP_FREE = 0x05;
export const OP_SKIP = 0x06;
export const OP_MARK = 0x07;
export const OP_TICK = 0x08;
export const OP_THREAD = 0x09;
export const OP_DEF_LABEL = 0x0a;
export const OP_DEF_CALLER = 0x0b;
/** An untraced realloc: id, size, [caller] (one event; see events.ts). */
export const OP_UNTRACED_REALLOC = 0x0c;
/** An implicit free: id (not an event). */
export const OP_IMPLICIT_FREE = 0x0d;
export const OP_END = 0x0f;
/** Set on ALLOC/CALLOC/ALIGNED/REALLOC when a caller string index follows the other fields. */
export const OP_HAS_CALLER = 0x80;

/** Source format codes stored in the header byte 12. */
const SOURCE_FORMAT_CODES: readonly (FormatName | 'unknown')[] = ['unknown', 'text', 'mtrace', 'ltrace', 'logalloc', 'rep', 'hst'];

/** Longest fixed-field record: opcode + id(5) + size(8) + align(8) + caller(5) bytes of LEB128. */
const MAX_FIXED_RECORD_BYTES = 27;
const VARINT_CONTINUE = 0x80;
const VARINT_PAYLOAD = 0x7f;
const TWO_POW_7 = 128;
const WRITE_BUFFER_BYTES = 1 << 20;

// ---------------------------------------------------------------- writer

/** Encodes events into .hst bytes; `take()` hands over the filled part. */
export class HstWriter implements EventSink {
  private buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private pos = 0;
  private readonly full: Buffer[] = [];
  private labelsWritten = 0;
  private callersWritten = 0;
  private events = 0;

  private begun = false;

  /** `sourceFormat` is asked for when the header is written, just before the first record. */
  constructor(private readonly ledger: Ledger, private readonly sourceFormat: () => FormatName | 'unknown' = () => 'unknown') {}

  private header(): void {
    this.begun = true;
    HST_MAGIC.copy(this.buf, 0);
    this.buf.writeUInt16LE(HST_VERSION, VERSION_OFFSET);
    this.buf.writeUInt16LE(KNOWN_FLAGS, FLAGS_OFFSET);
    this.buf[SOURCE_OFFSET] = Math.max(0, SOURCE_FORMAT_CODES.indexOf(this.sourceFormat()));
    this.buf.fill(0, SOURCE_OFFSET + 1, HST_HEADER_BYTES);
    this.pos = HST_HEADER_BYTES;
  }

  private room(bytes: number): void {
    if (!this.begun) this.header();
    if (this.pos + bytes <= this.buf.length) return;
    this.full.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(WRITE_BUFFER_BYTES, bytes));
    this.pos = 0;
  }

  private varint(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (v >= TWO_POW_7) {
      buf[pos++] = (v % TWO_POW_7) | VARINT_CONTINUE;
      v = Math.floor(v / TWO_POW_7);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  private defineStrings(op: number, table: readonly string[], written: number, upTo: number): number {
    while (written <= upTo) {
      const bytes = Buffer.from(table[written]!, 'utf8');
      this.room(MAX_FIXED_RECORD_BYTES + bytes.length);
      this.buf[this.pos++] = op;
      this.varint(bytes.length);
      bytes.copy(this.buf, this.pos);
      this.pos += bytes.length;
      written++;
    }
    return written;
  }

  private block(op: number, id: number, sizeBytes: number, alignBytes: number, caller: number): void {
    this.events++;
    if (caller !== NO_CALLER && caller >= this.callersWritten) {
      this.callersWritten = this.defineStrings(OP_DEF_CALLER, this.ledger.callers, this.callersWritten, caller);
    }
    this.room(MAX_FIXED_RECORD_BYTES);
    this.buf[this.pos++] = caller === NO_CALLER ? op : op | OP_HAS_CALLER;
    this.varint(id);
    this.varint(sizeBytes);
    if (op === OP_ALIGNED) this.varint(alignBytes);
    if (caller !== NO_CALLER) this.varint(caller);
  }

  private simple(op: number, value: number): void {
    this.room(MAX_FIXED_RECORD_BYTES);
    this.buf[this.pos++] = op;
    this.varint(value);
  }

  alloc(id: number, sizeBytes: number, caller: number): void {
    this.block(OP_ALLOC, id, sizeBytes, 0, caller);
  }
  calloc(id: number, sizeBytes: number, caller: number): void {
    this.block(OP_CALLOC, id, sizeBytes, 0, caller);
  }
  alignedAlloc(id: number, sizeBytes: number, alignBytes: number, caller: number): void {
    this.block(OP_ALIGNED, id, sizeBytes, alignBytes, caller);
  }
  realloc(id: number, sizeBytes: number, caller: number): void {
    this.block(OP_REALLOC, id, sizeBytes, 0, caller);
  }
  untracedRealloc(id: number, sizeBytes: number, caller: number): void {
    this.block(OP_UNTRACED_REALLOC, id, sizeBytes, 0, caller);
  }
  free(id: number): void {
    this.events++;
    this.simple(OP_FREE, id);
  }
  implicitFree(id: number): void {
    this.simple(OP_IMPLICIT_FREE, id);
  }
  skip(reason: number): void {
    this.events++;
    this.simple(OP_SKIP, reason);
  }
  mark(label: number): void {
    if (label >= this.labelsWritten) {
      this.labelsWritten = this.defineStrings(OP_DEF_LABEL, this.ledger.labels, this.labelsWritten, label);
    }
    this.simple(OP_MARK, label);
  }
  tick(delta: number): void {
    this.simple(OP_TICK, delta);
  }
  thread(tid: number): void {
    this.simple(OP_THREAD, tid);
  }

  /** Appends the END record; call once, after the last event. */
  end(): void {
    this.simple(OP_END, this.events);
  }

  /** The encoded bytes produced since the last call (shares memory with the writer until then). */
  take(): Buffer[] {
    if (!this.begun) this.header();
    const out = this.full.splice(0);
    if (this.pos > 0) {
      out.push(this.buf.subarray(0, this.pos));
      this.buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
      this.pos = 0;
    }
    return out;
  }
}

// ---------------------------------------------------------------- reader

const READER_STATE_HEADER = 0;
const READER_STATE_RECORDS = 1;
const READER_STATE_ENDED = 2;

export class HstParser implements TraceParser {
  private carry: Buffer | null = null;
  private state = READER_STATE_HEADER;
  /** Bytes consumed before the current chunk, for error offsets. */
  private consumed = 0;
  private readonly ledger: Ledger;
  private readonly labelMap: number[] = [];
  private readonly callerMap: number[] = [];
  sourceFormat: FormatName | 'unknown' = 'unknown';
  private nextPos = 0;

  constructor(private readonly ctx: ParserContext) {
    this.ledger = ctx.ledger;
  }

  private fail(message: string, offset: number): never {
    throw new InputError(`${message} at byte offset ${offset}`, this.ctx.file);
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const used = this.parse(buf, false);
    if (used < buf.length) this.carry = Buffer.from(buf.subarray(used));
    this.consumed += used;
  }

  finish(): void {
    const rest = this.carry ?? Buffer.alloc(0);
    this.carry = null;
    const used = this.parse(rest, true);
    this.consumed += used;
    if (this.state !== READER_STATE_ENDED) {
      this.fail(this.state === READER_STATE_HEADER ? 'truncated .hst header' : 'truncated .hst file: no END record', this.consumed);
    }
  }

  private header(buf: Buffer): void {
    if (!buf.subarray(0, HST_MAGIC.length).equals(HST_MAGIC)) this.fail('not a .hst file (bad magic)', 0);
    const version = buf.readUInt16LE(VERSION_OFFSET);
    if (version !== HST_VERSION) this.fail(`unsupported .hst version ${version} (this heapsim reads ${HST_VERSION})`, VERSION_OFFSET);
    const flags = buf.readUInt16LE(FLAGS_OFFSET);
    if ((flags & ~KNOWN_FLAGS) !== 0) this.fail(`unknown .hst flags 0x${flags.toString(16)}`, FLAGS_OFFSET);
    this.sourceFormat = SOURCE_FORMAT_CODES[buf[SOURCE_OFFSET]!] ?? 'unknown';
  }

  /**
   * Decodes whole records from buf; returns the bytes used. Unless `atEnd`, stops before a record
   * that might not be complete and leaves it for the next chunk.
   */
  private parse(buf: Buffer, atEnd: boolean): number {
    let pos = 0;
    const n = buf.length;
    if (this.state === READER_STATE_HEADER) {
      if (n < HST_HEADER_BYTES) {
        if (atEnd) this.fail('truncated .hst header', this.consumed + n);
        return 0;
      }
      this.header(buf);
      pos = HST_HEADER_BYTES;
      this.state = READER_STATE_RECORDS;
    }
    const ledger = this.ledger;
    // Fast loop: every fixed-field record fits before `safeEnd`, so varints need no bounds checks.
    const safeEnd = atEnd ? n : n - MAX_FIXED_RECORD_BYTES;
    while (this.state === READER_STATE_RECORDS && (pos < safeEnd || (atEnd && pos < n))) {
      const recordStart = pos;
      const opByte = buf[pos++]!;
      const op = opByte & ~OP_HAS_CALLER;
      // Inline LEB128 decode of the first field (every record has one).
      let b = buf[pos++]!;
      let a = b & VARINT_PAYLOAD;
      if (b >= VARINT_CONTINUE) {
        let scale = TWO_POW_7;
        do {
          if (pos >= n) this.fail('truncated .hst record', this.consumed + recordStart);
          b = buf[pos++]!;
          a += (b & VARINT_PAYLOAD) * scale;
          scale *= TWO_POW_7;
        } while (b >= VARINT_CONTINUE);
      }
      if (pos > n) this.fail('truncated .hst record', this.consumed + recordStart);
      if ((op <= OP_REALLOC && op >= OP_ALLOC) || op === OP_UNTRACED_REALLOC) {
        // id = a; then size, [align], [caller]
        b = buf[pos++]!;
        let size = b & VARINT_PAYLOAD;
        if (b >= VARINT_CONTINUE) {
          let scale = TWO_POW_7;
          do {
            if (pos >= n) this.fail('truncated .hst record', this.consumed + recordStart);
            b = buf[pos++]!;
            size += (b & VARINT_PAYLOAD) * scale;
            scale *= TWO_POW_7;
          } while (b >= VARINT_CONTINUE);
        }
        let align = 0;
        if (op === OP_ALIGNED) {
          align = this.readVarint(buf, pos, recordStart);
          pos = this.nextPos;
        }
        let caller = NO_CALLER;
        if (opByte & OP_HAS_CALLER) {
          const index = this.readVarint(buf, pos, recordStart);
          pos = this.nextPos;
          caller = this.callerMap[index] ?? this.fail(`caller ${index} used before it is defined`, this.consumed + recordStart);
        }
        if (pos > n) this.fail('truncated .hst record', this.consumed + recordStart);
        if (a > MAX_BLOCK_ID) this.fail(`block id ${a} is larger than ${MAX_BLOCK_ID}`, this.consumed + recordStart);
        if (op === OP_REALLOC) {
          // The same rules as the text form: a never-seen id is an untraced realloc.
          if (ledger.isLive(a)) ledger.realloc(a, size, caller);
          else if (ledger.wasFreed(a)) ledger.skip(SKIP_DOUBLE_FREE);
          else if (size === 0) ledger.skip(SKIP_UNMATCHED_FREE);
          else ledger.untracedRealloc(a, size, caller);
          continue;
        }
        if (op === OP_UNTRACED_REALLOC) {
          if (ledger.isLive(a) || size === 0) this.fail(`untraced realloc of block id ${a}, which is live or of size 0`, this.consumed + recordStart);
          ledger.untracedRealloc(a, size, caller);
          continue;
        }
        // An allocation into a live id frees the older block first (an implicit free, events.ts).
        if (op === OP_ALLOC) ledger.alloc(a, size, caller);
        else if (op === OP_CALLOC) ledger.calloc(a, size, caller);
        else ledger.alignedAlloc(a, size, align, caller);
        continue;
      }
      switch (op) {
        case OP_FREE:
          if (ledger.isLive(a)) ledger.free(a);
          else ledger.skip(ledger.wasFreed(a) ? SKIP_DOUBLE_FREE : SKIP_UNMATCHED_FREE);
          break;
        case OP_IMPLICIT_FREE:
          if (!ledger.isLive(a)) this.fail(`implicit free of block id ${a}, which is not live`, this.consumed + recordStart);
          ledger.implicitFree(a);
          break;
        case OP_SKIP:
          if (a >= SKIP_REASON_COUNT) this.fail(`unknown skip reason ${a}`, this.consumed + recordStart);
          ledger.skip(a);
          break;
        case OP_MARK:
          ledger.mark(this.labelMap[a] ?? this.fail(`label ${a} used before it is defined`, this.consumed + recordStart));
          break;
        case OP_TICK:
          ledger.tick(a);
          break;
        case OP_THREAD:
          ledger.thread(a);
          break;
        case OP_DEF_LABEL:
        case OP_DEF_CALLER: {
          if (pos + a > n) {
            if (atEnd) this.fail('truncated .hst string', this.consumed + recordStart);
            return recordStart; // wait for the rest of the string
          }
          const text = buf.toString('utf8', pos, pos + a);
          pos += a;
          if (op === OP_DEF_LABEL) this.labelMap.push(ledger.internLabel(text));
          else this.callerMap.push(ledger.internCaller(text));
          break;
        }
        case OP_END:
          if (a !== ledger.events) {
            this.fail(`END record says ${a} events but the file holds ${ledger.events}`, this.consumed + recordStart);
          }
          this.state = READER_STATE_ENDED;
          if (pos < n) this.fail('data after END record', this.consumed + pos);
          break;
        default:
          this.fail(`unknown .hst opcode 0x${opByte.toString(16)}`, this.consumed + recordStart);
      }
    }
    if (this.state === READER_STATE_ENDED && pos < n) this.fail('data after END record', this.consumed + pos);
    return pos;
  }

  /** Decodes one varint at `pos`; the position after it is left in `nextPos` (no allocation). */
  private readVarint(buf: Buffer, pos: number, recordStart: number): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= buf.length) this.fail('truncated .hst record', this.consumed + recordStart);
      const b = buf[pos++]!;
      value += (b & VARINT_PAYLOAD) * scale;
      if (b < VARINT_CONTINUE) {
        this.nextPos = pos;
        return value;
      }
      scale *= TWO_POW_7;
    }
  }
}
