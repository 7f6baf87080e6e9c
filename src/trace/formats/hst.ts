// heapsim's binary trace format, `.hst`. Byte-level description in docs/trace-format.md.
//
// ╒═══ header, version 3 (40 bytes) ═════════════════════════════════════════════╕
// │ 0..7 magic 89 48 53 54 0D 0A 1A 0A │ 8..9 version u16 LE │ 10..11 flags u16 │
// │ 12 source format u8 │ 13..15 reserved, zero │ 16..23 event count u64 LE       │
// │ 24..31 hint: id bound u64 LE │ 32..39 hint: peak live blocks u64 LE           │
// ╘═════════════════════════════════════════════════════════════════════════════╛
// then records: one opcode byte, then unsigned LEB128 varints (canonical: shortest form, at most
// 10 bytes, below 2^64). Strings (mark labels, callers) are defined by a record before their first
// use, so a writer never needs to seek. The last record is END with the event count; after it
// comes the trailer, the CRC-32 (u32 LE) of every record byte from the header's end through END.
// The hint (version 3) says how large the replay's tables will get: one more than the largest block
// id, and the most blocks live at once (0 = not known). Readers size their tables with it and never
// trust it: a hint that is wrong costs time or memory, never a different result.
// Version 2 files (the same header up to byte 24, no hint) and version 1 files (16-byte header, no
// count, no trailer) are still read; version 1 with a note.
import { isPowerOfTwo } from '../../engine/ops.js';
import { InputError } from '../../errors.js';
import { crc32 } from '../crc32.js';
import {
  NO_CALLER, SKIP_DOUBLE_FREE, SKIP_REASON_COUNT, SKIP_UNMATCHED_FREE,
  type EventSink, type FormatName,
} from '../events.js';
import { MAX_BLOCK_ID, type Ledger } from '../ledger.js';
import { MAX_LINE_BYTES } from '../lines.js';
import type { HstHint } from './hint.js';
import type { ParserContext, TraceParser } from './parser.js';

export const HST_MAGIC = Buffer.from([0x89, 0x48, 0x53, 0x54, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The version this heapsim writes: version 2 and the size hint. */
export const HST_VERSION = 3;
/** Event count in the header, CRC-32 trailer; no hint. */
export const HST_VERSION_2 = 2;
/** The first version: no event count in the header, no checksum. */
export const HST_VERSION_1 = 1;
export const HST_HEADER_BYTES = 40;
export const HST_V2_HEADER_BYTES = 24;
export const HST_V1_HEADER_BYTES = 16;
const VERSION_OFFSET = 8;
const FLAGS_OFFSET = 10;
const SOURCE_OFFSET = 12;
const RESERVED_OFFSET = 13;
export const HST_EVENT_COUNT_OFFSET = 16;
const EVENT_COUNT_BYTES = 8;
/** Version 3: one more than the largest block id of any record (0 = not known). */
export const HST_HINT_ID_BOUND_OFFSET = 24;
/** Version 3: the most blocks live at once (0 = not known). */
export const HST_HINT_PEAK_LIVE_OFFSET = 32;
/** The header bytes a writer fills in once the file is complete: the event count and the hint. */
const FINAL_HEADER_BYTES = HST_HEADER_BYTES - HST_EVENT_COUNT_OFFSET;
/** CRC-32 of the records, after END (version 2). */
export const HST_TRAILER_BYTES = 4;
/** No flags are defined; readers reject unknown ones. */
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
/** Thread end: thread id (not an event; see events.ts threadEnd). 0x0c and 0x0d are kept for the untraced-realloc and implicit-free records. */
export const OP_THREAD_END = 0x0e;
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

/** A varint holds at most 64 bits: 10 bytes of 7 bits, the tenth carrying only bit 63. */
const MAX_VARINT_BYTES = 10;
const LAST_VARINT_BYTE_MAX = 1;
/** Longest fixed-field record: opcode + id, size, align and caller varints. */
export const MAX_FIXED_RECORD_BYTES = 1 + 4 * MAX_VARINT_BYTES;
/** Bytes of a new chunk joined to the carry: every fixed-field record starting in the carry ends in them. */
const JOIN_BYTES = 2 * MAX_FIXED_RECORD_BYTES;
const VARINT_CONTINUE = 0x80;
const VARINT_PAYLOAD = 0x7f;
const TWO_POW_7 = 128;
const TWO_POW_14 = 128 * 128;
const TWO_POW_32 = 2 ** 32;
const WRITE_BUFFER_BYTES = 1 << 20;
/** Longest label or caller string, the same bound as a text line. */
export const MAX_STRING_BYTES = MAX_LINE_BYTES;
/** A decoded varint of 2^53 or more: exact integers stop there, and no field may be that large. */
export const VARINT_TOO_LARGE = Infinity;

function writeU64(b: Buffer, v: number, at: number): void {
  b.writeUInt32LE(v % TWO_POW_32, at);
  b.writeUInt32LE(Math.floor(v / TWO_POW_32), at + 4);
}

function readU64(b: Buffer, at: number): number {
  return b.readUInt32LE(at + 4) * TWO_POW_32 + b.readUInt32LE(at);
}

/** The event count of a finished file, as the 8 header bytes at HST_EVENT_COUNT_OFFSET. */
export function hstEventCountBytes(events: number): Buffer {
  const b = Buffer.alloc(EVENT_COUNT_BYTES);
  writeU64(b, events, 0);
  return b;
}

export type { HstHint } from './hint.js';

/**
 * The header bytes of a finished file from HST_EVENT_COUNT_OFFSET on: the event count and the
 * hint (write them there once `end()` has been called; convert does, before the file gets its name).
 */
export function hstFinalHeaderBytes(writer: HstWriter): Buffer {
  const b = Buffer.alloc(FINAL_HEADER_BYTES);
  writeU64(b, writer.events, 0);
  writeU64(b, writer.idBound, HST_HINT_ID_BOUND_OFFSET - HST_EVENT_COUNT_OFFSET);
  writeU64(b, writer.peakLiveBlocks, HST_HINT_PEAK_LIVE_OFFSET - HST_EVENT_COUNT_OFFSET);
  return b;
}

/**
 * The hint of a `.hst` file from its first bytes: undefined unless they hold a whole version 3
 * header (the reader checks the header itself; this only looks).
 */
export function hstHint(head: Buffer): HstHint | undefined {
  if (head.length < HST_HEADER_BYTES || !head.subarray(0, HST_MAGIC.length).equals(HST_MAGIC)) return undefined;
  if (head.readUInt16LE(VERSION_OFFSET) !== HST_VERSION) return undefined;
  return {
    idBound: readU64(head, HST_HINT_ID_BOUND_OFFSET),
    peakLiveBlocks: readU64(head, HST_HINT_PEAK_LIVE_OFFSET),
    events: readU64(head, HST_EVENT_COUNT_OFFSET),
  };
}

// ---------------------------------------------------------------- writer

/**
 * Encodes events into .hst bytes; `take()` hands over the filled part. The header goes out with
 * an event count and a hint of 0: once `end()` has been called, write `hstFinalHeaderBytes(writer)`
 * at HST_EVENT_COUNT_OFFSET of the file (convert does, before the file gets its name).
 */
export class HstWriter implements EventSink {
  private buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private pos = 0;
  private readonly full: Buffer[] = [];
  private labelsWritten = 0;
  private callersWritten = 0;
  /** Events written so far. */
  events = 0;
  /** One more than the largest block id written (the hint). */
  idBound = 0;
  /** Blocks live now and at most (the hint): the ledger hands over only frees of live blocks. */
  private liveBlocks = 0;
  peakLiveBlocks = 0;
  private begun = false;
  private ended = false;
  /** CRC-32 of the record bytes handed out so far. */
  private crc = 0;
  /** Header bytes at the start of the next buffer handed out (not part of the checksum). */
  private headerPending = 0;

  /** `sourceFormat` is asked for when the header is written, just before the first record. */
  constructor(private readonly ledger: Ledger, private readonly sourceFormat: () => FormatName | 'unknown' = () => 'unknown') {}

  private header(): void {
    this.begun = true;
    HST_MAGIC.copy(this.buf, 0);
    this.buf.writeUInt16LE(HST_VERSION, VERSION_OFFSET);
    this.buf.writeUInt16LE(KNOWN_FLAGS, FLAGS_OFFSET);
    this.buf[SOURCE_OFFSET] = Math.max(0, SOURCE_FORMAT_CODES.indexOf(this.sourceFormat()));
    this.buf.fill(0, RESERVED_OFFSET, HST_HEADER_BYTES);
    this.pos = HST_HEADER_BYTES;
    this.headerPending = HST_HEADER_BYTES;
  }

  private room(bytes: number): void {
    if (!this.begun) this.header();
    if (this.pos + bytes <= this.buf.length) return;
    this.seal(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(WRITE_BUFFER_BYTES, bytes));
    this.pos = 0;
  }

  /** Moves a filled buffer to the hand-out list, adding its record bytes to the checksum. */
  private seal(b: Buffer): void {
    this.crc = crc32(b.subarray(this.headerPending), this.crc);
    this.headerPending = 0;
    this.full.push(b);
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
    if (id >= this.idBound) this.idBound = id + 1;
    if (op !== OP_REALLOC && ++this.liveBlocks > this.peakLiveBlocks) this.peakLiveBlocks = this.liveBlocks;
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
    this.liveBlocks--;
    this.simple(OP_FREE, id);
  }
  implicitFree(id: number): void {
    this.liveBlocks--;
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
  threadEnd(tid: number): void {
    this.simple(OP_THREAD_END, tid);
  }

  /** Appends the END record and the checksum trailer; call once, after the last event. */
  end(): void {
    if (this.ended) throw new Error('HstWriter.end() called twice');
    this.ended = true;
    this.simple(OP_END, this.events);
    this.seal(this.buf.subarray(0, this.pos));
    const trailer = Buffer.alloc(HST_TRAILER_BYTES);
    trailer.writeUInt32LE(this.crc, 0);
    this.full.push(trailer);
    this.buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
    this.pos = 0;
  }

  /** The encoded bytes produced since the last call (shares memory with the writer until then). */
  take(): Buffer[] {
    if (!this.begun) this.header();
    if (this.pos > 0) {
      this.seal(this.buf.subarray(0, this.pos));
      this.buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
      this.pos = 0;
    }
    return this.full.splice(0);
  }
}

// ---------------------------------------------------------------- reader

const READER_STATE_HEADER = 0;
export const READER_STATE_RECORDS = 1;
const READER_STATE_TRAILER = 2;
const READER_STATE_DONE = 3;

/** Thrown when a record runs past the end of the input; parse() turns it into an error or, under --lenient, the end. */
export class TruncatedRecord {
  constructor(readonly recordStart: number) {}
}

/** A decoded value for a message. */
export function shown(v: number): string {
  return v === VARINT_TOO_LARGE ? '2^53 or more' : String(v);
}

/** What --lenient lets through, counted; each becomes one note. */
export interface Tolerated {
  nonCanonicalVarints: number;
  headerProblems: string[];
  checksum: string | undefined;
  eventCount: string | undefined;
}

export class HstParser implements TraceParser {
  private carry: Buffer | null = null;
  protected state = READER_STATE_HEADER;
  /** Bytes consumed before the current buffer, for error offsets. */
  protected consumed = 0;
  protected readonly ledger: Ledger;
  private readonly labelMap: number[] = [];
  private readonly callerMap: number[] = [];
  sourceFormat: FormatName | 'unknown' = 'unknown';
  /** File version (1 to 3), once the header is read. */
  version = 0;
  /** The size hint of a version 3 header, once read. */
  hint: HstHint | undefined;
  /** Event count the header declares (version 2). */
  private declaredEvents = 0;
  private crc = 0;
  private nextPos = 0;
  protected readonly tolerated: Tolerated = { nonCanonicalVarints: 0, headerProblems: [], checksum: undefined, eventCount: undefined };

  constructor(protected readonly ctx: ParserContext) {
    this.ledger = ctx.ledger;
  }

  protected fail(message: string, offset: number, hint = ''): never {
    throw new InputError(`${message} at byte offset ${offset}${hint}`, this.ctx.file);
  }

  /** Sizes the reader's tables from a header's hint (the JavaScript ledger's maps need no sizing). */
  protected sizeTables(_hint: HstHint): void {}

  /** A problem --lenient may count instead of stopping at. */
  protected problem(message: string, offset: number, count: (t: Tolerated) => void): void {
    if (!this.ctx.lenient) this.fail(message, offset, ' (use --lenient to count such damage and read on)');
    count(this.tolerated);
  }

  push(chunk: Buffer): void {
    if (this.carry === null) {
      this.take(chunk, 0);
      return;
    }
    const carry = this.carry;
    this.carry = null;
    if (this.state !== READER_STATE_HEADER && chunk.length > JOIN_BYTES) {
      // Decode the records that start in the carry (the record cut by the last chunk's end) from
      // the carry and the first bytes of this chunk, then go on in the chunk itself: no copy of it.
      const head = Buffer.allocUnsafe(carry.length + JOIN_BYTES);
      carry.copy(head, 0);
      chunk.copy(head, carry.length, 0, JOIN_BYTES);
      const used = this.parse(head, false, 0);
      this.consumed += used;
      if (used >= carry.length) {
        this.take(chunk, used - carry.length);
        return;
      }
      // A string (or the trailer) that starts in the carry and ends further on: join it all.
      this.take(Buffer.concat([carry.subarray(used), chunk]), 0);
      return;
    }
    this.take(Buffer.concat([carry, chunk]), 0);
  }

  /** Decodes buf from `start` (this.consumed is the file offset of buf[start]); keeps the rest as carry. */
  private take(buf: Buffer, start: number): void {
    this.consumed -= start;
    const used = this.parse(buf, false, start);
    if (used < buf.length) this.carry = Buffer.from(buf.subarray(used));
    this.consumed += used;
  }

  finish(): void {
    const rest = this.carry ?? Buffer.alloc(0);
    this.carry = null;
    const used = this.parse(rest, true);
    this.consumed += used;
    if (this.state === READER_STATE_HEADER) this.fail('truncated .hst header', this.consumed);
    if (this.state === READER_STATE_RECORDS) {
      const what = `truncated .hst file: no END record (${this.ledger.events} events read` +
        (this.version >= HST_VERSION_2 ? ` of ${this.declaredEvents} declared)` : ')');
      if (!this.ctx.lenient) this.fail(what, this.consumed, ' (use --lenient to replay what is there)');
      this.ledger.warnings.push(`${what}; replayed what is there (--lenient)`);
    }
    this.report();
  }

  /** Notes for the user: an old version, and every problem --lenient let through. */
  private report(): void {
    const w = this.ledger.warnings;
    if (this.version === HST_VERSION_1) w.push('.hst version 1: no checksum, so damage cannot be detected; convert the file again to add one');
    const t = this.tolerated;
    for (const p of t.headerProblems) w.push(`${p} (--lenient)`);
    if (t.nonCanonicalVarints > 0) w.push(`${t.nonCanonicalVarints} non-canonical varints read (--lenient)`);
    if (t.eventCount !== undefined) w.push(`${t.eventCount} (--lenient)`);
    if (t.checksum !== undefined) w.push(`${t.checksum} (--lenient): the file is damaged`);
  }

  private header(buf: Buffer): number {
    if (!buf.subarray(0, HST_MAGIC.length).equals(HST_MAGIC)) this.fail('not a .hst file (bad magic)', 0);
    const version = buf.readUInt16LE(VERSION_OFFSET);
    if (version < HST_VERSION_1 || version > HST_VERSION) {
      this.fail(`unsupported .hst version ${version} (this heapsim reads ${HST_VERSION_1} to ${HST_VERSION})`, VERSION_OFFSET);
    }
    const headerBytes = version === HST_VERSION ? HST_HEADER_BYTES : version === HST_VERSION_2 ? HST_V2_HEADER_BYTES : HST_V1_HEADER_BYTES;
    if (buf.length < headerBytes) return 0;
    this.version = version;
    const flags = buf.readUInt16LE(FLAGS_OFFSET);
    if ((flags & ~KNOWN_FLAGS) !== 0) this.fail(`unknown .hst flags 0x${flags.toString(16)}`, FLAGS_OFFSET);
    const source = buf[SOURCE_OFFSET]!;
    const known = SOURCE_FORMAT_CODES[source];
    if (known === undefined) {
      this.problem(`unknown source format byte ${source}`, SOURCE_OFFSET, (t) => t.headerProblems.push(`unknown source format byte ${source} read as unknown`));
    }
    this.sourceFormat = known ?? 'unknown';
    for (let i = RESERVED_OFFSET; i < RESERVED_OFFSET + 3; i++) {
      if (buf[i] !== 0) {
        this.problem(`reserved header byte ${i} is 0x${buf[i]!.toString(16)}, not 0`, i, (t) => t.headerProblems.push(`reserved header byte ${i} set`));
        break;
      }
    }
    if (version >= HST_VERSION_2) {
      this.declaredEvents = readU64(buf, HST_EVENT_COUNT_OFFSET);
      if (this.declaredEvents > Number.MAX_SAFE_INTEGER) this.fail('header event count above 2^53-1', HST_EVENT_COUNT_OFFSET);
    }
    // The hint is read as it is (any value): nothing depends on it but table sizes.
    this.hint = hstHint(buf);
    if (this.hint !== undefined) this.sizeTables(this.hint);
    return headerBytes;
  }

  /**
   * Decodes one varint at `pos` (the caller guarantees `limit` is past it or the end of input);
   * the position after it goes to `nextPos`. Values of 2^53 and more come back as
   * VARINT_TOO_LARGE; values of 2^64 and more, and varints running past `limit`, are errors.
   */
  private varint(buf: Buffer, pos: number, limit: number, recordStart: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= limit) throw new TruncatedRecord(recordStart);
      const b = buf[pos++]!;
      if (i === MAX_VARINT_BYTES - 1 && b > LAST_VARINT_BYTE_MAX) this.fail('varint does not fit 64 bits', this.consumed + recordStart);
      value += (b & VARINT_PAYLOAD) * scale;
      if (b < VARINT_CONTINUE) {
        if (b === 0 && i > 0) {
          this.problem('non-canonical varint (a longer encoding than needed)', this.consumed + recordStart, (t) => { t.nonCanonicalVarints++; });
        }
        this.nextPos = pos;
        return value > Number.MAX_SAFE_INTEGER ? VARINT_TOO_LARGE : value;
      }
      scale *= TWO_POW_7;
    }
  }

  /**
   * Decodes whole records from buf; returns the bytes used. Unless `atEnd`, stops before a record
   * that might not be complete and leaves it for the next chunk.
   */
  private parse(buf: Buffer, atEnd: boolean, start = 0): number {
    let pos = start;
    const n = buf.length;
    if (this.state === READER_STATE_HEADER) {
      if (n < HST_V1_HEADER_BYTES) {
        if (atEnd) this.fail('truncated .hst header', this.consumed + n);
        return 0;
      }
      pos = this.header(buf);
      if (pos === 0) {
        if (atEnd) this.fail('truncated .hst header', this.consumed + n);
        return 0;
      }
      this.state = READER_STATE_RECORDS;
    }
    const recordsFrom = pos;
    // Every fixed-field record fits before `safeEnd`; one that starts later waits for more input.
    const safeEnd = atEnd ? n : n - MAX_FIXED_RECORD_BYTES;
    try {
      pos = this.records(buf, pos, n, safeEnd, atEnd);
    } catch (err) {
      if (!(err instanceof TruncatedRecord)) throw err;
      // Only the last record of the input can run past its end (others wait for the next chunk).
      if (!this.ctx.lenient) this.fail('truncated .hst record', this.consumed + err.recordStart);
      this.checksum(buf, recordsFrom, err.recordStart);
      return n; // finish() reports the missing END
    }
    if (pos < 0) { // a string waits for the next chunk
      this.checksum(buf, recordsFrom, -pos - 1);
      return -pos - 1;
    }
    this.checksum(buf, recordsFrom, pos);
    if (this.state === READER_STATE_TRAILER) {
      if (n - pos < HST_TRAILER_BYTES) {
        if (!atEnd) return pos;
        this.problem('truncated .hst file: the checksum trailer is missing or cut off', this.consumed + pos, (t) => { t.checksum = 'the checksum trailer is missing or cut off'; });
        this.state = READER_STATE_DONE;
        return n;
      }
      const stored = buf.readUInt32LE(pos);
      if (stored !== this.crc) {
        this.problem(`checksum mismatch: the records give CRC-32 0x${this.crc.toString(16)}, the trailer says 0x${stored.toString(16)}`,
          this.consumed + pos, (t) => { t.checksum = 'checksum mismatch'; });
      }
      pos += HST_TRAILER_BYTES;
      this.state = READER_STATE_DONE;
    }
    if (this.state === READER_STATE_DONE && pos < n) this.fail(`data after the ${this.version >= HST_VERSION_2 ? 'trailer' : 'END record'}`, this.consumed + pos);
    return pos;
  }

  /**
   * The record loop of parse(): decodes records from `pos` and returns the position after the last
   * one, or -(start + 1) of a string record that must wait for more input.
   */
  protected records(buf: Buffer, pos: number, n: number, safeEnd: number, atEnd: boolean): number {
    const ledger = this.ledger;
    while (this.state === READER_STATE_RECORDS && (pos < safeEnd || (atEnd && pos < n))) {
      const recordStart = pos;
      const opByte = buf[pos++]!;
      const op = opByte & ~OP_HAS_CALLER;
      if ((opByte & OP_HAS_CALLER) !== 0 && (op < OP_ALLOC || op > OP_REALLOC) && op !== OP_UNTRACED_REALLOC) {
        this.fail(`unknown .hst opcode 0x${opByte.toString(16)}`, this.consumed + recordStart);
      }
      // First field, inline for the common one- and two-byte cases (a canonical second byte is not 0).
      let a = buf[pos]!;
      let b = buf[pos + 1]!;
      let c = 0;
      if (pos < n && a < VARINT_CONTINUE) pos++;
      else if (pos + 1 < n && b < VARINT_CONTINUE && b !== 0) {
        a = (a & VARINT_PAYLOAD) + b * TWO_POW_7;
        pos += 2;
      } else if (pos + 2 < n && b >= VARINT_CONTINUE && (c = buf[pos + 2]!) < VARINT_CONTINUE && c !== 0) {
        // Three bytes: block ids above 16383 (a > 127 here, or the first case would have taken it).
        a = (a & VARINT_PAYLOAD) + (b & VARINT_PAYLOAD) * TWO_POW_7 + c * TWO_POW_14;
        pos += 3;
      } else {
        a = this.varint(buf, pos, n, recordStart);
        pos = this.nextPos;
      }
      if ((op >= OP_ALLOC && op <= OP_REALLOC) || op === OP_UNTRACED_REALLOC) {
        // id = a; then size, [align], [caller]
        let size = buf[pos]!;
        b = buf[pos + 1]!;
        if (pos < n && size < VARINT_CONTINUE) pos++;
        else if (pos + 1 < n && b < VARINT_CONTINUE && b !== 0) {
          size = (size & VARINT_PAYLOAD) + b * TWO_POW_7;
          pos += 2;
        } else if (pos + 2 < n && b >= VARINT_CONTINUE && (c = buf[pos + 2]!) < VARINT_CONTINUE && c !== 0) {
          size = (size & VARINT_PAYLOAD) + (b & VARINT_PAYLOAD) * TWO_POW_7 + c * TWO_POW_14;
          pos += 3;
        } else {
          size = this.varint(buf, pos, n, recordStart);
          pos = this.nextPos;
        }
        let align = 0;
        if (op === OP_ALIGNED) {
          align = this.varint(buf, pos, n, recordStart);
          pos = this.nextPos;
          // A power of two (any size: the ledger refuses what no architecture can align to).
          if (!(align === VARINT_TOO_LARGE || isPowerOfTwo(align))) {
            this.fail(`alignment ${shown(align)} is not a power of two`, this.consumed + recordStart);
          }
        }
        let caller = NO_CALLER;
        if (opByte & OP_HAS_CALLER) {
          const index = this.varint(buf, pos, n, recordStart);
          pos = this.nextPos;
          caller = this.callerMap[index] ?? this.fail(`caller ${shown(index)} used before it is defined`, this.consumed + recordStart);
        }
        if (a > MAX_BLOCK_ID) this.fail(`block id ${shown(a)} is larger than ${MAX_BLOCK_ID}`, this.consumed + recordStart);
        if (op === OP_REALLOC) {
          if (size === 0) this.fail('realloc to 0 bytes (the format writes a free)', this.consumed + recordStart);
          // The same rules as the text form: a never-seen id is an untraced realloc.
          if (ledger.isLive(a)) ledger.realloc(a, size, caller);
          else if (ledger.wasFreed(a)) ledger.skip(SKIP_DOUBLE_FREE);
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
          if (a >= SKIP_REASON_COUNT) this.fail(`unknown skip reason ${shown(a)}`, this.consumed + recordStart);
          ledger.skip(a);
          break;
        case OP_MARK:
          ledger.mark(this.labelMap[a] ?? this.fail(`label ${shown(a)} used before it is defined`, this.consumed + recordStart));
          break;
        case OP_TICK:
          if (a === VARINT_TOO_LARGE) this.fail('tick delta above 2^53-1', this.consumed + recordStart);
          ledger.tick(a);
          break;
        case OP_THREAD:
          if (a === VARINT_TOO_LARGE) this.fail('thread id above 2^53-1', this.consumed + recordStart);
          ledger.thread(a);
          break;
        case OP_THREAD_END:
          if (a === VARINT_TOO_LARGE) this.fail('thread id above 2^53-1', this.consumed + recordStart);
          ledger.threadEnd(a);
          break;
        case OP_DEF_LABEL:
        case OP_DEF_CALLER: {
          if (a > MAX_STRING_BYTES) this.fail(`string of ${shown(a)} bytes (at most ${MAX_STRING_BYTES})`, this.consumed + recordStart);
          if (pos + a > n) {
            if (atEnd) throw new TruncatedRecord(recordStart);
            return -recordStart - 1; // wait for the rest of the string
          }
          const text = buf.toString('utf8', pos, pos + a);
          pos += a;
          if (op === OP_DEF_LABEL) this.labelMap.push(ledger.internLabel(text));
          else this.callerMap.push(ledger.internCaller(text));
          break;
        }
        case OP_END:
          this.end(a, recordStart);
          break;
        default:
          this.fail(`unknown .hst opcode 0x${opByte.toString(16)}`, this.consumed + recordStart);
      }
    }
    return pos;
  }

  /** Adds record bytes buf[from, to) to the running checksum (version 2). */
  private checksum(buf: Buffer, from: number, to: number): void {
    if (this.version >= HST_VERSION_2 && to > from) this.crc = crc32(buf.subarray(from, to), this.crc);
  }

  protected end(count: number, recordStart: number): void {
    if (count !== this.ledger.events) {
      this.fail(`END record says ${count} events but the file holds ${this.ledger.events}`, this.consumed + recordStart);
    }
    if (this.version >= HST_VERSION_2 && this.declaredEvents !== count) {
      this.problem(`the header declares ${this.declaredEvents} events, the file holds ${count}`, HST_EVENT_COUNT_OFFSET,
        (t) => { t.eventCount = `the header declares ${this.declaredEvents} events, the file holds ${count}`; });
    }
    this.state = this.version >= HST_VERSION_2 ? READER_STATE_TRAILER : READER_STATE_DONE;
  }
}
