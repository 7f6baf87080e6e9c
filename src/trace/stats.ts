// `heapsim stats`: what a trace contains, computed in one streaming pass.
import { SKIP_REASON_NAMES, type EventSink, type FormatName } from './events.js';
import { DEFAULT_TOP, type InputCounts, type Ledger, type ThreadCounts } from './ledger.js';
import { openTrace, type OpenOptions } from './read.js';

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

export interface StatsOptions extends OpenOptions {
  top?: number;
  /** Called after each input chunk. */
  onProgress?: (events: number, bytesRead: number, fileBytes: number) => void;
}

export async function traceStats(path: string, options: StatsOptions = {}): Promise<TraceStats> {
  const collector = new StatsCollector();
  const input = await openTrace(path, collector, options);
  const ledger = input.ledger;
  collector.ledger = ledger;
  for await (const chunk of input.chunks) {
    input.parser.push(chunk);
    options.onProgress?.(ledger.events, input.bytesRead(), input.fileBytes);
  }
  input.parser.finish();
  const leaks = ledger.leakSummary(options.top ?? DEFAULT_TOP);
  const skipped: Record<string, number> = {};
  SKIP_REASON_NAMES.forEach((name, i) => { skipped[name] = ledger.skips[i]!; });
  return {
    file: path,
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
    sizeHistogram: histogram(collector.sizes),
    lifetimeHistogram: histogram(collector.lifetimes),
    distinctSizes: collector.distinct.size,
    input: { ...ledger.input },
    warnings: [...ledger.warnings],
  };
}
