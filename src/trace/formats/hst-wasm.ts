// `.hst` replay with the record loop in WASM (assembly/trace/hst.ts). The host keeps what the
// JavaScript reader keeps around its record loop (HstParser: the header, the chunking, the
// checksum, the trailer, every message and --lenient note) and hands each run of record bytes to
// the engine module, which decodes the records, keeps the ledger (per-id records, counts, thread
// rows) and writes the op records of heap 0 that the replay's batches carry. The host is called
// back only for strings (labels, callers), thread ids, the END record, a full output buffer and
// errors, whose messages it writes as the JavaScript reader does, with the same byte offsets.
//
// The JavaScript reader stays the reference: test/trace/hst-wasm.test.ts gives both the same files
// (every .hst of the tests, random valid and damaged ones, cut into chunks at random) and compares
// the batches, the counts, the leak summary, the warnings and the errors.
import { InputError } from '../../errors.js';
import { instantiateEngine, type EngineExports } from '../../engine/load.js';
import { MAX_BLOCK_ID } from '../ledger.js';
import { WasmLedger, type LedgerExports, type OpWordsSink } from './wasm-ledger.js';
import { MAX_FIXED_RECORD_BYTES, MAX_STRING_BYTES, HstParser, READER_STATE_RECORDS, TruncatedRecord, shown, type HstHint } from './hst.js';
import type { ParserContext } from './parser.js';

/** The engine module's exports for .hst decoding (assembly/trace/hst.ts). */
export interface HstExports extends LedgerExports {
  hstBegin(lenient: number, outOps: number): void;
  hstInput(bytes: number): number;
  hstRecords(count: number, safeEnd: number, last: number): number;
  hstResume(): number;
  hstOut(): number;
  hstOutOps(): number;
  hstPos(): number;
  hstRecordStart(): number;
  hstValue(): number;
  hstValue2(): number;
  hstError(): number;
  hstNonCanonical(): number;
  hstLabel(index: number): void;
  hstCaller(index: number): void;
  ledgerReserve(idBound: number): void;
  hstDirect(on: number): void;
}

/**
 * Record bytes copied into the engine's input buffer per call (a chunk of the file in pieces): the
 * buffer is WASM memory first touched by that copy, 16 pages instead of a 1 MiB chunk's 256 (a
 * fresh page costs ~17 us of CPU here: docs/performance.md). A decoder call returns every 4,096
 * ops anyway, so the pieces add few returns.
 */
const INPUT_PIECE_BYTES = 64 * 1024;

// hstRecords / hstResume results (assembly/trace/hst.ts R_*).
const R_DONE = 0;
const R_WAIT = 1;
const R_TRUNCATED = 2;
const R_LABEL = 3;
const R_CALLER = 4;
const R_THREAD = 5;
const R_THREAD_END = 6;
const R_END = 7;
const R_FULL = 8;
const R_ERROR = 9;

// Error codes (assembly/trace/hst.ts E_*).
const E_OPCODE = 1;
const E_VARINT_64 = 2;
const E_NON_CANONICAL = 3;
const E_ALIGN = 4;
const E_CALLER = 5;
const E_ID_LARGE = 6;
const E_REALLOC_ZERO = 7;
const E_UNTRACED = 8;
const E_IMPLICIT = 9;
const E_SKIP_REASON = 10;
const E_LABEL = 11;
const E_TICK = 12;
const E_THREAD = 13;
const E_STRING_LONG = 14;
const E_TOO_MANY_LABELS = 15;

/** The engine stores a mark's label index in 16 bits (replay.ts MAX_LABELS). */
const MAX_LABELS = 0x10000;
/** Op records the WASM side writes before the host takes them. */
const OUT_OPS = 4096;
const OP_WORDS = 4;
/** The first integer a JavaScript number cannot hold exactly: the JavaScript reader's "too large". */
const TWO_POW_53 = 2 ** 53;

/** A value from WASM (an exact u64 below 2^53, else rounded) as the JavaScript reader holds it. */
function num(v: number): number {
  return v >= TWO_POW_53 ? Infinity : v;
}

/** The JavaScript reader with its record loop replaced by the WASM one. */
export class WasmHstParser extends HstParser {
  private readonly w: HstExports;
  private readonly wl: WasmLedger<HstExports>;
  /** Direct mode: called after every return from WASM instead of taking op records. */
  private applied: (() => void) | undefined;

  constructor(ctx: ParserContext & { ledger: WasmLedger<HstExports> }, private readonly out: OpWordsSink) {
    super(ctx);
    this.wl = ctx.ledger;
    this.w = ctx.ledger.wasm;
    this.w.hstBegin(ctx.lenient ? 1 : 0, OUT_OPS);
  }

  /** The ledger's id records for the ids the header's hint names, made at once. */
  protected override sizeTables(hint: HstHint): void {
    this.w.ledgerReserve(hint.idBound);
  }

  /**
   * One-instance replay: from now on each decoded op is applied to this instance's heap 0 (the
   * run's engine, made on `this.instance`) as it is decoded; no op records reach the sink.
   * `applied` runs after every return from WASM (the engine's samples are read there).
   */
  direct(applied: () => void): void {
    this.applied = applied;
    this.w.hstDirect(1);
  }

  /** The engine module instance this reader decodes in. */
  get instance(): EngineExports {
    return this.w;
  }

  /** Takes the op records written since the last call (direct mode: reports the return). */
  private drain(): void {
    if (this.applied) { this.applied(); return; }
    const count = this.w.hstOutOps();
    if (count > 0) this.out.appendWords(new Uint32Array(this.w.memory.buffer, this.w.hstOut(), count * OP_WORDS), count);
  }

  protected override records(buf: Buffer, pos: number, n: number, safeEnd: number, atEnd: boolean): number {
    // The chunk in pieces of INPUT_PIECE_BYTES: each but the last decoded up to its own safe end (a
    // fixed-field record that starts there lies inside it), the rest left for the next piece. A
    // string record that runs past its piece (rare) has the rest of the chunk decoded at once.
    // The host's copy of the ledger's counts is brought up to date once, after the chunk.
    try {
      while (this.state === READER_STATE_RECORDS && n - pos > INPUT_PIECE_BYTES) {
        const end = pos + INPUT_PIECE_BYTES;
        const r = this.piece(buf, pos, end, end - MAX_FIXED_RECORD_BYTES, false);
        if (r < 0) { pos = -r - 1; break; }
        pos = r;
      }
      return this.piece(buf, pos, n, safeEnd, atEnd);
    } finally {
      this.wl.sync();
      this.tolerated.nonCanonicalVarints = this.w.hstNonCanonical();
    }
  }

  /** records() for the bytes [pos, n) of `buf`, copied into the engine's input buffer in one piece. */
  private piece(buf: Buffer, pos: number, n: number, safeEnd: number, atEnd: boolean): number {
    if (this.state !== READER_STATE_RECORDS || pos >= n) return pos;
    const w = this.w;
    const ledger = this.wl;
    const len = n - pos;
    const input = w.hstInput(len);
    new Uint8Array(w.memory.buffer, input, len).set(buf.subarray(pos, n));
    const base = pos;
    let r = w.hstRecords(len, Math.max(0, safeEnd - pos), atEnd ? 1 : 0);
    for (;;) {
      this.drain();
      switch (r) {
        case R_DONE:
          return base + w.hstPos();
        case R_FULL:
          break;
        case R_WAIT:
          return -(base + w.hstRecordStart()) - 1;
        case R_TRUNCATED:
          throw new TruncatedRecord(base + w.hstRecordStart());
        case R_LABEL:
        case R_CALLER: {
          const from = base + w.hstRecordStart();
          const text = buf.toString('utf8', from, from + w.hstValue());
          if (r === R_LABEL) w.hstLabel(ledger.internLabel(text));
          else w.hstCaller(ledger.internCaller(text));
          break;
        }
        case R_THREAD:
          ledger.thread(w.hstValue());
          break;
        case R_THREAD_END:
          ledger.threadEnd(w.hstValue());
          break;
        case R_END:
          ledger.sync();
          this.end(num(w.hstValue()), base + w.hstRecordStart());
          return base + w.hstPos();
        case R_ERROR:
          this.error(base + w.hstRecordStart());
          break;
        default:
          throw new Error(`WASM .hst decoder: unknown result ${r}`);
      }
      r = w.hstResume();
    }
  }

  /** The JavaScript reader's message for the WASM decoder's error at buffer offset `recordStart`. */
  private error(recordStart: number): never {
    const w = this.w;
    const at = this.consumed + recordStart;
    const v = num(w.hstValue());
    switch (w.hstError()) {
      case E_OPCODE: return this.fail(`unknown .hst opcode 0x${v.toString(16)}`, at);
      case E_VARINT_64: return this.fail('varint does not fit 64 bits', at);
      case E_NON_CANONICAL:
        this.problem('non-canonical varint (a longer encoding than needed)', at, (t) => { t.nonCanonicalVarints++; });
        throw new Error('WASM .hst decoder: a non-canonical varint stopped a --lenient read');
      case E_ALIGN: return this.fail(`alignment ${shown(v)} is not a power of two`, at);
      case E_CALLER: return this.fail(`caller ${shown(v)} used before it is defined`, at);
      case E_ID_LARGE: return this.fail(`block id ${shown(v)} is larger than ${MAX_BLOCK_ID}`, at);
      case E_REALLOC_ZERO: return this.fail('realloc to 0 bytes (the format writes a free)', at);
      case E_UNTRACED: return this.fail(`untraced realloc of block id ${v}, which is live or of size 0`, at);
      case E_IMPLICIT: return this.fail(`implicit free of block id ${v}, which is not live`, at);
      case E_SKIP_REASON: return this.fail(`unknown skip reason ${shown(v)}`, at);
      case E_LABEL: return this.fail(`label ${shown(v)} used before it is defined`, at);
      case E_TICK: return this.fail('tick delta above 2^53-1', at);
      case E_THREAD: return this.fail('thread id above 2^53-1', at);
      case E_STRING_LONG: return this.fail(`string of ${shown(v)} bytes (at most ${MAX_STRING_BYTES})`, at);
      case E_TOO_MANY_LABELS: throw new InputError(`more than ${MAX_LABELS} distinct mark labels`);
      default: throw new Error(`WASM .hst decoder: unknown error code ${w.hstError()}`);
    }
  }
}

/** The engine module flavour the decoder runs in (a run's engine made on its instance has it too). */
export const WASM_HST_BUILD = 'release';

/** A WASM ledger and reader for one .hst trace, writing op records to `out`. */
export async function wasmHstReader(file: string, lenient: boolean, out: OpWordsSink): Promise<{ ledger: WasmLedger<HstExports>; parser: WasmHstParser }> {
  const wasm = await instantiateEngine(WASM_HST_BUILD) as unknown as HstExports;
  const ledger = new WasmLedger<HstExports>(wasm);
  const parser = new WasmHstParser({ file, lenient, ledger }, out);
  return { ledger, parser };
}

