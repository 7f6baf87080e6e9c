// Replay: a trace file as a stream of engine op batches (heap 0), plus the counts a run reports.
//
//   const replay = await openReplay('t.mtrace', { lenient: false });
//   for await (const ops of replay.batches()) engine.apply(ops);   // labels: replay.labels
//   replay.stats  // events, unmatchedFrees, doubleFrees, malformedLines, leak candidates…
//
// Buffer contract: each yielded OpBuffer is valid until the next call to next(); after that it is
// cleared and reused (a small pool, so a 1 MiB input chunk that expands to several buffers does
// not allocate new ones). A consumer that keeps a batch must copy `ops.words`.
//
// Event numbering matches the trace: every skipped call (unmatched or double free, failed
// allocation, …) becomes skip(1), so the engine's event k is the trace's event k and checkpoint k
// of `--every N` falls after trace event k·N.
import { UsageError, InputError } from '../errors.js';
import { DEFAULT_BATCH_OPS, OpBuffer } from '../engine/ops.js';
import { powerOfTwoAlignment, type EventSink, type FormatName } from './events.js';
import { DEFAULT_TOP, type Ledger, type InputCounts, type LeakSummary } from './ledger.js';
import { openTrace, type OpenOptions, type TraceInput, type TraceStream } from './read.js';
import { WASM_HST_BUILD, WasmHstParser, wasmHstReader } from './formats/hst-wasm.js';
import type { DirectSource } from '../workload/workload.js';
import type { HstHint } from './formats/hst.js';
import { OP_WORDS } from '../engine/abi.js';

/** Heap every trace event goes to. */
export const TRACE_HEAP = 0;
/** The engine stores a mark's label index in 16 bits. */
const MAX_LABELS = 0x10000;

export interface ReplayOptions extends OpenOptions {
  /** Ops per batch (default DEFAULT_BATCH_OPS). */
  batchOps?: number;
  /** Called after each input chunk with events read so far and bytes of the file consumed. */
  onProgress?: (events: number, bytesRead: number, fileBytes: number) => void;
  /** How many sizes and callers the leak summary lists. */
  top?: number;
  /**
   * Who decodes `.hst` records: 'wasm' (default: the record loop and the ledger in the engine
   * module, src/trace/formats/hst-wasm.ts) or 'js' (the reference reader). Other formats: 'js'.
   */
  hstDecoder?: 'wasm' | 'js';
  /**
   * Offer the one-instance path (TraceReplay.direct) when a WASM reader reads the trace (the
   * `.hst` decoder, the mtrace line loop) (default true); false: batches() only (tests hold the
   * two paths to the same results).
   */
  direct?: boolean;
}

export interface ReplayStats {
  format: FormatName;
  gzip: boolean;
  /** Allocator calls read so far (the engine's event count after the same batches). */
  events: number;
  allocs: number;
  callocs: number;
  alignedAllocs: number;
  reallocs: number;
  frees: number;
  /** Frees (and failed reallocs) of pointers the trace never allocated (it began mid-run): skipped. */
  unmatchedFrees: number;
  /** Reallocs of pointers the trace never allocated, replayed as allocations of the new size. */
  untracedReallocs: number;
  /** Live blocks freed because an allocation returned their address again (not events). */
  implicitFrees: number;
  doubleFrees: number;
  /** Calls skipped for other reasons: failed allocations, free(NULL), unknown results. */
  otherSkips: number;
  marks: number;
  input: InputCounts;
  warnings: string[];
  /** Filled once the trace has been read to the end. */
  leaks?: LeakSummary;
}

/** Turns validated events into op records, handing full buffers to `ready`. */
export class OpWriter implements EventSink {
  current: OpBuffer;
  readonly ready: OpBuffer[] = [];
  readonly spare: OpBuffer[] = [];

  constructor(private readonly batchOps: number) {
    this.current = new OpBuffer(batchOps);
  }

  private room(): OpBuffer {
    if (this.current.full) {
      this.ready.push(this.current);
      this.current = this.spare.pop() ?? new OpBuffer(this.batchOps);
    }
    return this.current;
  }

  alloc(id: number, sizeBytes: number): void {
    this.room().alloc(TRACE_HEAP, id, sizeBytes);
  }
  calloc(id: number, sizeBytes: number): void {
    this.room().calloc(TRACE_HEAP, id, sizeBytes);
  }
  alignedAlloc(id: number, sizeBytes: number, alignBytes: number): void {
    this.room().alignedAlloc(TRACE_HEAP, id, sizeBytes, powerOfTwoAlignment(alignBytes));
  }
  realloc(id: number, sizeBytes: number): void {
    this.room().realloc(TRACE_HEAP, id, sizeBytes);
  }
  untracedRealloc(id: number, sizeBytes: number): void {
    // The program got a block of the new size; the old one was never in the simulated heap.
    this.room().alloc(TRACE_HEAP, id, sizeBytes);
  }
  free(id: number): void {
    this.room().free(TRACE_HEAP, id);
  }
  implicitFree(id: number): void {
    this.room().implicitFree(TRACE_HEAP, id);
  }
  skip(): void {
    this.room().skip(1);
  }
  mark(label: number): void {
    if (label >= MAX_LABELS) throw new InputError(`more than ${MAX_LABELS} distinct mark labels`);
    this.room().mark(label);
  }
  tick(delta: number): void {
    this.room().tick(delta);
  }
  thread(tid: number): void {
    this.room().thread(tid);
  }
  threadEnd(tid: number): void {
    this.room().threadEnd(tid);
  }

  /** Appends `count` op records (OP_WORDS each), as many calls of the methods above would. */
  appendWords(words: Uint32Array, count: number): void {
    let from = 0;
    while (from < count) {
      const cur = this.room();
      const k = Math.min(count - from, cur.capacity - cur.length);
      cur.words.set(words.subarray(from * OP_WORDS, (from + k) * OP_WORDS), cur.length * OP_WORDS);
      cur.length += k;
      from += k;
    }
  }

  /** Moves a partly filled current buffer to `ready` (end of input). */
  flush(): void {
    if (this.current.length > 0) {
      this.ready.push(this.current);
      this.current = this.spare.pop() ?? new OpBuffer(this.batchOps);
    }
  }
}

/** The counts of a ledger, as a plain object. */
export function replayStatsOf(input: Pick<TraceInput, 'format' | 'gzip'>, ledger: Ledger, withLeaks = false, top = DEFAULT_TOP): ReplayStats {
  const unmatchedFrees = ledger.unmatchedFrees;
  const doubleFrees = ledger.doubleFrees;
  let skipped = 0;
  for (const n of ledger.skips) skipped += n;
  return {
    format: input.format,
    gzip: input.gzip,
    events: ledger.events,
    allocs: ledger.allocs,
    callocs: ledger.callocs,
    alignedAllocs: ledger.alignedAllocs,
    reallocs: ledger.reallocs,
    frees: ledger.frees,
    unmatchedFrees,
    untracedReallocs: ledger.untracedReallocs,
    implicitFrees: ledger.implicitFrees,
    doubleFrees,
    otherSkips: skipped - unmatchedFrees - doubleFrees,
    marks: ledger.marks,
    input: { ...ledger.input },
    warnings: [...ledger.warnings],
    ...(withLeaks ? { leaks: ledger.leakSummary(top) } : {}),
  };
}

export interface TraceReplay {
  path: string;
  format: FormatName;
  /** Mark label table: a MARK op's index means labels[index]. Grows while the trace is read. */
  readonly labels: string[];
  /** Updated at every batch; complete (with leak candidates) when batches() has finished. */
  stats: ReplayStats;
  /** The op batches; iterate once. */
  batches(): AsyncGenerator<OpBuffer>;
  /** A `.hst` version 3 header's size hint (never trusted: table sizes only). */
  hint?: HstHint;
  /**
   * The one-instance path (a `.hst` read by the WASM decoder, an mtrace read by the WASM line
   * loop): the run's engine is made on the reader's instance and each event is applied as it is
   * read. Read either this or batches().
   */
  direct?: DirectSource;
}

/** Opens a trace (a path or a stream of its content) for replay: detects its format, reads nothing else yet. */
export async function openReplay(source: string | TraceStream, options: ReplayOptions = {}): Promise<TraceReplay> {
  const batchOps = options.batchOps ?? DEFAULT_BATCH_OPS;
  if (!Number.isInteger(batchOps) || batchOps < 1) throw new UsageError('batch size must be a positive integer');
  const writer = new OpWriter(batchOps);
  const input = await openTrace(source, writer, options,
    options.hstDecoder === 'js' ? undefined : (file, lenient) => wasmHstReader(file, lenient, writer), writer);
  const ledger = input.ledger;
  let started = false;
  const start = (): void => {
    if (started) throw new Error('a TraceReplay is read once (batches() or direct.run())');
    started = true;
  };
  const parser = input.parser;
  // The one-instance path: the WASM .hst decoder, or the WASM mtrace line loop (its op form).
  const reader = parser instanceof WasmHstParser ? parser : input.directReader;
  const direct: DirectSource | undefined = options.direct !== false && reader !== undefined ? {
    instance: reader.instance,
    build: WASM_HST_BUILD,
    async run(hooks): Promise<void> {
      start();
      reader.direct(hooks.applied);
      for await (const chunk of input.chunks) {
        hooks.call(() => parser.push(chunk));
        replay.stats = replayStatsOf(input, ledger);
        options.onProgress?.(ledger.events, input.bytesRead(), input.fileBytes);
      }
      hooks.call(() => parser.finish());
      replay.stats = replayStatsOf(input, ledger, true, options.top);
      options.onProgress?.(ledger.events, input.fileBytes, input.fileBytes);
    },
  } : undefined;
  const replay: TraceReplay = {
    path: input.path,
    format: input.format,
    labels: ledger.labels,
    ...(input.hint ? { hint: input.hint } : {}),
    ...(direct ? { direct } : {}),
    stats: replayStatsOf(input, ledger),
    async *batches(): AsyncGenerator<OpBuffer> {
      start();
      const drain = function* (): Generator<OpBuffer> {
        while (writer.ready.length > 0) {
          const ops = writer.ready.shift()!;
          replay.stats = replayStatsOf(input, ledger);
          yield ops;
          ops.clear();
          writer.spare.push(ops);
        }
      };
      for await (const chunk of input.chunks) {
        input.parser.push(chunk);
        yield* drain();
        options.onProgress?.(ledger.events, input.bytesRead(), input.fileBytes);
      }
      input.parser.finish();
      writer.flush();
      yield* drain();
      replay.stats = replayStatsOf(input, ledger, true, options.top);
      options.onProgress?.(ledger.events, input.fileBytes, input.fileBytes);
    },
  };
  return replay;
}

/** Shorthand: the op batches of a trace (see openReplay for the stats and labels). */
export async function* traceToOps(source: string | TraceStream, options: ReplayOptions = {}): AsyncGenerator<OpBuffer> {
  const replay = await openReplay(source, options);
  yield* replay.batches();
}
