// The text readers' fast path in WASM (assembly/trace/text/): a line loop for mtrace, the address
// map and the trace ledger (assembly/trace/ledger.ts, the one the .hst decoder keeps). The host
// keeps the line splitting across chunks, every message and --lenient count, and the caller
// strings. Per chunk it copies the bytes once into a reused input buffer inside WASM and lets the
// line loop take the complete lines it can; a line the loop leaves (unusual, malformed, with a
// caller not seen yet) is read by the host's own code, which hands the call to the same map.
// Two forms of output (textWasmOps, textWasm):
// - a replay takes op records straight into its batches, and its ledger is a WasmLedger whose
//   counts, thread rows and live blocks are read from WASM (as for .hst); or, on the one-instance
//   path (direct(): `heapsim run` when it needs no batches), the run's engine is made on this
//   instance and the map's op records are applied to it there in runs, through heap 0's batch
//   loop, before each return to the host, with none copied out (as the .hst decoder's direct mode;
//   test/trace/text-direct.test.ts holds it to the batches);
// - any other consumer (stats, convert, advise) gets the map's id events, applied here in order to
//   a host Ledger that forwards them.
// test/trace/text-wasm.test.ts holds both to the JavaScript reader (the reference) on every mtrace
// fixture and on random line streams with bad lines.
import { InputError } from '../../errors.js';
import { instantiateEngine, type EngineExports } from '../../engine/load.js';
import { MAX_BLOCK_ID, type Ledger } from '../ledger.js';
import type { HstHint } from './hint.js';
import type { TraceInt } from '../numbers.js';
import { WasmLedger, type LedgerExports, type OpWordsSink } from './wasm-ledger.js';

/** The engine module's exports for text traces (assembly/trace/text/). */
export interface TextExports extends EngineExports {
  mtraceBegin(outRecords: number, form: number): number;
  mtraceInput(bytes: number): number;
  mtraceScratch(bytes: number): number;
  mtraceLines(from: number, n: number): number;
  mtraceLineCount(): number;
  mtraceCallerAdd(len: number, index: number): void;
  mtraceApply(op: number, pointerLow: number, pointerHigh: number, sizeBytes: number, caller: number): number;
  mtraceFinish(): void;
  mapEvents(): number;
  mapOut(): number;
  mapTaken(): void;
  mapAddressesSeen(): number;
  mapIdOverflow(): number;
  mapReserve(contentBytes: number): void;
  mapDirect(on: number): void;
}

// Event kinds (assembly/trace/text/address-map.ts EV_*).
const EV_ALLOC = 1;
const EV_CALLOC = 2;
const EV_REALLOC = 3;
const EV_UNTRACED_REALLOC = 4;
const EV_FREE = 5;
const EV_IMPLICIT_FREE = 6;
const EV_SKIP = 7;
const EV_REFUSE = 8;
// Output forms (assembly/trace/text/address-map.ts OUT_*).
const OUT_EVENTS = 0;
const OUT_OPS = 1;
/** Records (events or ops) the WASM side writes before the host takes them. */
const OUT_RECORDS = 4096;
/** One op record: 4 u32 words (assembly/abi.ts). */
const OP_WORDS = 4;
/** One event: 24 bytes, i.e. 6 i32 slots or 3 f64 slots (assembly/trace/text/address-map.ts). */
const EVENT_I32_SLOTS = 6;
const EVENT_F64_SLOTS = 3;
const EVENT_SIZE_F64_SLOT = 2;
const TWO_POW_32 = 4294967296;
const LOW_32_BITS = 0xffffffffn;
const HALF_SHIFT = 32n;

/**
 * One engine instance's text fast path for one trace: op records to `ops` (the ledger is then a
 * WasmLedger on the same instance), or, with `ops` null, id events applied to `ledger`.
 */
export class TextWasm {
  private readonly outBase: number;
  private viewBuffer: ArrayBufferLike | null = null;
  private ints = new Int32Array(0);
  private f64s = new Float64Array(0);
  private bytes = new Uint8Array(0);
  /** The chunk whose bytes are in the input buffer now. */
  private current: Uint8Array | null = null;
  /** Lines taken by the last take() call. */
  linesTaken = 0;

  private readonly wasmLedger: WasmLedger | null;
  /** Direct mode: called after every return from WASM that may have applied ops. */
  private applied: (() => void) | undefined;

  /** `contentBytesHint`: the trace's size if known (TraceStream.contentBytesHint), for the address table. */
  constructor(
    private readonly w: TextExports, private readonly file: string, private readonly ledger: Ledger, private readonly ops: OpWordsSink | null,
    contentBytesHint?: number,
  ) {
    this.wasmLedger = ops === null ? null : ledger as WasmLedger;
    this.outBase = w.mtraceBegin(OUT_RECORDS, ops === null ? OUT_EVENTS : OUT_OPS);
    if (contentBytesHint !== undefined) w.mapReserve(contentBytesHint);
  }

  private views(): void {
    const buffer = this.w.memory.buffer;
    if (buffer === this.viewBuffer) return;
    this.viewBuffer = buffer;
    this.ints = new Int32Array(buffer);
    this.f64s = new Float64Array(buffer);
    this.bytes = new Uint8Array(buffer);
  }

  /**
   * One-instance replay (op form only): from now on the ops are applied to this instance's heap 0
   * (the run's engine, made on `instance`) in runs before each return from WASM; none reaches the op sink.
   * `applied` runs after every return from WASM that may have applied ops (samples are read there).
   */
  direct(applied: () => void): void {
    if (this.ops === null) throw new Error('the one-instance replay needs the op form');
    this.applied = applied;
    this.w.mapDirect(1);
  }

  /** The engine module instance this reader runs in. */
  get instance(): EngineExports {
    return this.w;
  }

  /** Copies a chunk into the (reused) input buffer. */
  load(chunk: Uint8Array): void {
    const at = this.w.mtraceInput(chunk.length);
    this.views();
    this.bytes.set(chunk, at);
    this.current = chunk;
  }

  /** Lets the line loop take complete lines of `chunk` from `pos`; returns where it stopped. */
  take(chunk: Uint8Array, pos: number): number {
    this.linesTaken = 0;
    if (chunk !== this.current) return pos;
    const next = this.w.mtraceLines(pos, chunk.length);
    this.linesTaken = this.w.mtraceLineCount();
    this.drain();
    return next;
  }

  /** The counts of a WasmLedger brought up to date (after a chunk, at the end). */
  settle(): void {
    this.wasmLedger?.sync();
  }

  /** Hands on the records written since the last call, in order. */
  drain(): void {
    if (this.w.mapIdOverflow() !== 0) {
      throw new InputError(`more than ${MAX_BLOCK_ID + 1} blocks live at once (the largest block id heapsim keeps is ${MAX_BLOCK_ID})`, this.file);
    }
    if (this.applied !== undefined) { this.applied(); return; }
    const count = this.w.mapEvents();
    if (count === 0) return;
    if (this.ops !== null) {
      this.ops.appendWords(new Uint32Array(this.w.memory.buffer, this.outBase, count * OP_WORDS), count);
      this.w.mapTaken();
      return;
    }
    this.views();
    const ints = this.ints;
    const f64s = this.f64s;
    const ledger = this.ledger;
    let i = this.outBase >>> 2;
    let d = (this.outBase >>> 3) + EVENT_SIZE_F64_SLOT;
    for (let e = 0; e < count; e++, i += EVENT_I32_SLOTS, d += EVENT_F64_SLOTS) {
      const id = ints[i + 1]!;
      switch (ints[i]) {
        case EV_ALLOC: ledger.alloc(id, f64s[d]!, ints[i + 2]!); break;
        case EV_CALLOC: ledger.calloc(id, f64s[d]!, ints[i + 2]!); break;
        case EV_REALLOC: ledger.realloc(id, f64s[d]!, ints[i + 2]!); break;
        case EV_UNTRACED_REALLOC: ledger.untracedRealloc(id, f64s[d]!, ints[i + 2]!); break;
        case EV_FREE: ledger.free(id); break;
        case EV_IMPLICIT_FREE: ledger.implicitFree(id); break;
        case EV_SKIP: ledger.skip(id); break;
        case EV_REFUSE: ledger.refuse(); break;
        default: throw new Error(`WASM text reader: unknown event kind ${ints[i]}`);
      }
    }
    this.w.mapTaken();
  }

  /** The host interned caller text buf[start, end) as `index`: the line loop will know it. */
  addCaller(buf: Uint8Array, start: number, end: number, index: number): void {
    const len = end - start;
    const at = this.w.mtraceScratch(len);
    this.views();
    this.bytes.set(buf.subarray(start, end), at);
    this.w.mtraceCallerAdd(len, index);
  }

  /** A call the host read from an mtrace line (op byte); false when the `<` / `>` pairing fails. */
  mtraceApply(op: number, pointer: TraceInt, sizeBytes: number, caller: number): boolean {
    let low: number;
    let high: number;
    if (typeof pointer === 'number') {
      low = pointer >>> 0;
      high = Math.floor(pointer / TWO_POW_32);
    } else {
      low = Number(pointer & LOW_32_BITS);
      high = Number(pointer >> HALF_SHIFT);
    }
    const ok = this.w.mtraceApply(op, low, high, sizeBytes, caller) !== 0;
    this.drain();
    return ok;
  }

  /** End of input (a `<` left open is a call with an unknown result). */
  mtraceFinish(): void {
    this.w.mtraceFinish();
    this.drain();
  }

  /** Distinct addresses remembered (live or freed). */
  get addressesSeen(): number {
    return this.w.mapAddressesSeen();
  }
}

/**
 * Bytes of the shortest mtrace line that makes a block live: `+ 0x55d0c5a4a2a0 0x1` and its newline
 * (%p of an x86-64 heap pointer; assembly/trace/text/address-map.ts MIN_ADDRESS_LINE_BYTES).
 */
export const MIN_ALLOCATION_LINE_BYTES = 21;

/**
 * The replay's size hint for an mtrace trace of `contentBytes` bytes (the file's size, or a gzip
 * member's uncompressed size; undefined: none). A text trace has no header, so the most blocks live
 * at once is bounded from above by the lines that could each allocate one: contentBytes /
 * MIN_ALLOCATION_LINE_BYTES (the engine caps it, kit/hint.ts HINT_MAX_LIVE_BLOCKS). It sizes each
 * policy's block-record pools once instead of doubling them (each doubling a copy of every record
 * into fresh pages); a reservation above what the trace uses is address space, never touched. No
 * id bound: the ids of a text trace are the address map's, kept in the ledger's records.
 */
export function mtraceSizeHint(contentBytes: number | undefined): HstHint | undefined {
  if (contentBytes === undefined || !(contentBytes >= MIN_ALLOCATION_LINE_BYTES)) return undefined;
  return { idBound: 0, peakLiveBlocks: Math.floor(contentBytes / MIN_ALLOCATION_LINE_BYTES), events: 0 };
}

/** A fresh engine instance for one text trace's fast path, sending id events to `ledger`. */
export async function textWasm(file: string, ledger: Ledger, contentBytesHint?: number): Promise<TextWasm> {
  return new TextWasm(await instantiateEngine('release') as unknown as TextExports, file, ledger, null, contentBytesHint);
}

/** A fresh engine instance for one text trace's fast path, writing op records to `ops`, and its ledger. */
export async function textWasmOps(file: string, ops: OpWordsSink, contentBytesHint?: number): Promise<{ ledger: WasmLedger; text: TextWasm }> {
  const w = await instantiateEngine('release') as unknown as TextExports & LedgerExports;
  const ledger = new WasmLedger(w);
  return { ledger, text: new TextWasm(w, file, ledger, ops, contentBytesHint) };
}
