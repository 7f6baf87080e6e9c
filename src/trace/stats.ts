// `heapsim stats`: what a trace contains, computed in one streaming pass.
//
// A `.hst` trace (the WASM record loop, formats/hst-wasm.ts) and an mtrace (the WASM line loop,
// formats/text-wasm.ts) are read into the trace ledger inside WASM, as `heapsim run` reads them,
// and what stats needs beyond the ledger (the size and lifetime histograms, the distinct sizes) is
// counted there too (assembly/trace/stats.ts, on for stats only). Every other format, and any
// trace with `ledger: 'js'`, goes through the JavaScript ledger and StatsCollector below: the
// reference that test/trace/stats-wasm.test.ts holds the WASM path to.
import { SKIP_REASON_NAMES, type EventSink, type FormatName } from './events.js';
import { DEFAULT_TOP, type InputCounts, type Ledger, type ThreadCounts } from './ledger.js';
import { openTrace, type OpenOptions, type TraceStream } from './read.js';
import { WasmLedger, type LedgerExports, type OpWordsSink } from './formats/wasm-ledger.js';

/** Power-of-two buckets: bucket 0 holds 0, bucket b ≥ 1 holds [2^(b-1), 2^b). 2^64 covers any size. */
const HISTOGRAM_BUCKETS = 66;

function bucketOf(value: number): number {
  if (value < 1) return 0;
  return Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.log2(value)) + 1);
}

export interface HistogramBucket {
  /** Inclusive bounds. */
  min: number;
  max: number;
  count: number;
}

function histogram(counts: Float64Array): HistogramBucket[] {
  const out: HistogramBucket[] = [];
  counts.forEach((count, b) => {
    if (count === 0) return;
    const min = b === 0 ? 0 : 2 ** (b - 1);
    const max = b === 0 ? 0 : 2 ** b - 1;
    out.push({ min, max, count });
  });
  return out;
}

export interface TraceStats {
  file: string;
  format: FormatName;
  gzip: boolean;
  events: {
    total: number;
    alloc: number;
    calloc: number;
    alignedAlloc: number;
    realloc: number;
    free: number;
    /** By reason name (unmatched-free, double-free, …); every reason listed. */
    skipped: Record<string, number>;
  };
  unmatchedFrees: number;
  /** Reallocs of pointers the trace never allocated, replayed as allocations of the new size. */
  untracedReallocs: number;
  /** Live blocks freed because an allocation returned their address again (not events). */
  implicitFrees: number;
  doubleFrees: number;
  marks: number;
  ticks: number;
  /** Distinct thread ids (0 when the format records none). */
  threads: number;
  /** What each thread did, in order of first appearance (one row, thread 0, for a format without threads). */
  perThread: ThreadCounts[];
  /** Thread exits the trace records. */
  threadEnds: number;
  peakLiveBytes: number;
  /** Event after which the peak was first reached. */
  peakEvent: number;
  /** Allocations live at the end: the trace's first-order leak candidates. */
  neverFreed: {
    blocks: number;
    bytes: number;
    topSizes: { sizeBytes: number; blocks: number; bytes: number }[];
    topCallers: { caller: string; blocks: number; bytes: number }[];
  };
  /** Requested sizes of alloc, calloc, aligned alloc and realloc calls, power-of-two buckets, bytes. */
  sizeHistogram: HistogramBucket[];
  /** Events between allocation and free of each freed block (blocks still live are not in it). */
  lifetimeHistogram: HistogramBucket[];
  distinctSizes: number;
  input: InputCounts;
  warnings: string[];
}

/** Accumulates the histograms; the ledger keeps everything else. */
class StatsCollector implements EventSink {
  readonly sizes = new Float64Array(HISTOGRAM_BUCKETS);
  readonly lifetimes = new Float64Array(HISTOGRAM_BUCKETS);
  readonly distinct = new Set<number>();
  ledger: Ledger | undefined;

  private size(sizeBytes: number): void {
    this.sizes[bucketOf(sizeBytes)]!++;
    this.distinct.add(sizeBytes);
  }
  alloc(_id: number, sizeBytes: number): void {
    this.size(sizeBytes);
  }
  calloc(_id: number, sizeBytes: number): void {
    this.size(sizeBytes);
  }
  alignedAlloc(_id: number, sizeBytes: number): void {
    this.size(sizeBytes);
  }
  realloc(_id: number, sizeBytes: number): void {
    this.size(sizeBytes);
  }
  untracedRealloc(_id: number, sizeBytes: number): void {
    this.size(sizeBytes);
  }
  free(id: number): void {
    const ledger = this.ledger!;
    this.lifetimes[bucketOf(ledger.events - ledger.birthOf(id))]!++;
  }
  implicitFree(id: number): void {
    const ledger = this.ledger!;
    this.lifetimes[bucketOf(ledger.events - ledger.birthOf(id))]!++;
  }
  skip(): void {}
  mark(): void {}
  tick(): void {}
  thread(): void {}
  threadEnd(): void {}
}

/** The engine module's exports for stats counted in WASM (assembly/trace/stats.ts). */
interface StatsExports extends LedgerExports {
  statsCollect(): void;
  statsBuckets(): number;
  statsHistograms(out: number): void;
  statsDistinctSizes(): number;
}

/** The op records the WASM readers write for a replay: stats has no use for them. */
const DROP_OPS: OpWordsSink = { appendWords(): void {} };

/** The histograms and distinct sizes counted in WASM while the trace was read. */
function wasmCounts(w: StatsExports): { sizes: Float64Array; lifetimes: Float64Array; distinct: number } {
  const buckets = w.statsBuckets();
  if (buckets !== HISTOGRAM_BUCKETS) throw new Error(`WASM stats: ${buckets} histogram buckets, the host has ${HISTOGRAM_BUCKETS}`);
  const at = w.hstScratch(2 * buckets * Float64Array.BYTES_PER_ELEMENT);
  w.statsHistograms(at);
  const both = new Float64Array(w.memory.buffer, at, 2 * buckets).slice();
  return { sizes: both.subarray(0, buckets), lifetimes: both.subarray(buckets), distinct: w.statsDistinctSizes() };
}

export interface StatsOptions extends OpenOptions {
  top?: number;
  /**
   * Where the ledger and the histograms are kept for a `.hst` or an mtrace: in WASM (the default)
   * or in JavaScript (the reference; every other format always is).
   */
  ledger?: 'wasm' | 'js';
  /** Called after each input chunk. */
  onProgress?: (events: number, bytesRead: number, fileBytes: number) => void;
}

/** The statistics of a trace: a path, or a stream of its content (TraceStream). */
export async function traceStats(source: string | TraceStream, options: StatsOptions = {}): Promise<TraceStats> {
  const collector = new StatsCollector();
  // The collector gets events only from a JavaScript ledger; the WASM readers keep their own.
  const input = options.ledger === 'js'
    ? await openTrace(source, collector, options)
    : await openTrace(source, collector, options, async (file, lenient) => (await import('./formats/hst-wasm.js')).wasmHstReader(file, lenient, DROP_OPS), DROP_OPS);
  const ledger = input.ledger;
  const wasm = ledger instanceof WasmLedger ? ledger.wasm as StatsExports : undefined;
  // After the reader began the trace (its begin resets the WASM ledger and turns collecting off).
  wasm?.statsCollect();
  collector.ledger = ledger;
  for await (const chunk of input.chunks) {
    input.parser.push(chunk);
    options.onProgress?.(ledger.events, input.bytesRead(), input.fileBytes);
  }
  input.parser.finish();
  const counts = wasm === undefined
    ? { sizes: collector.sizes, lifetimes: collector.lifetimes, distinct: collector.distinct.size }
    : wasmCounts(wasm);
  const leaks = ledger.leakSummary(options.top ?? DEFAULT_TOP);
  const skipped: Record<string, number> = {};
  SKIP_REASON_NAMES.forEach((name, i) => { skipped[name] = ledger.skips[i]!; });
  return {
    file: input.path,
    format: input.format,
    gzip: input.gzip,
    events: {
      total: ledger.events,
      alloc: ledger.allocs,
      calloc: ledger.callocs,
      alignedAlloc: ledger.alignedAllocs,
      realloc: ledger.reallocs,
      free: ledger.frees,
      skipped,
    },
    unmatchedFrees: ledger.unmatchedFrees,
    untracedReallocs: ledger.untracedReallocs,
    implicitFrees: ledger.implicitFrees,
    doubleFrees: ledger.doubleFrees,
    marks: ledger.marks,
    ticks: ledger.ticks,
    threads: ledger.threadsSeen.size,
    perThread: ledger.threadCounts(),
    threadEnds: ledger.threadEnds,
    peakLiveBytes: ledger.peakLiveBytes,
    peakEvent: ledger.peakEvent,
    neverFreed: {
      blocks: leaks.blocks,
      bytes: leaks.bytes,
      topSizes: leaks.topSizes.map((g) => ({ sizeBytes: g.key as number, blocks: g.blocks, bytes: g.bytes })),
      topCallers: leaks.topCallers.map((g) => ({ caller: g.key as string, blocks: g.blocks, bytes: g.bytes })),
    },
    sizeHistogram: histogram(counts.sizes),
    lifetimeHistogram: histogram(counts.lifetimes),
    distinctSizes: counts.distinct,
    input: { ...ledger.input },
    warnings: [...ledger.warnings],
  };
}
