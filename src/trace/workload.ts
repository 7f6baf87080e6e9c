// A trace file as a Workload, so `heapsim run <trace-file>` goes through the same pipeline as the
// built-in workloads. The label table is the replay's own array, which grows while the trace is
// read; the runner registers new labels before each batch.
import type { InputSummary, Workload } from '../workload/workload.js';
import { openReplay, type ReplayOptions, type ReplayStats, type TraceReplay } from './replay.js';
import type { TraceStream } from './read.js';

/** Traces come from 64-bit programs: their sizes and address-space use assume x64. */
export const TRACE_ARCH = 'x64';

export interface TraceWorkload extends Workload {
  replay: TraceReplay;
}

export async function traceWorkload(source: string | TraceStream, options: ReplayOptions = {}): Promise<TraceWorkload> {
  const replay = await openReplay(source, options);
  const path = replay.path;
  return {
    name: path,
    labels: replay.labels,
    description: `recorded trace ${path} (${replay.format})`,
    defaultArch: TRACE_ARCH,
    replay,
    ...(replay.hint ? { sizeHint: { idBound: replay.hint.idBound, peakLiveBlocks: replay.hint.peakLiveBlocks } } : {}),
    ...(replay.direct ? { direct: replay.direct } : {}),
    streaming: true,
    batches: () => replay.batches(),
    inputSummary: () => inputSummaryOf(replay.stats),
  };
}

/** A replay's counts as the run document's `input`. */
export function inputSummaryOf(stats: ReplayStats): InputSummary {
  const leaks = stats.leaks;
  return {
    format: stats.format,
    events: stats.events,
    untracedReallocs: stats.untracedReallocs,
    implicitFrees: stats.implicitFrees,
    unmatchedFrees: stats.unmatchedFrees,
    doubleFrees: stats.doubleFrees,
    ...(leaks ? {
      neverFreed: {
        blocks: leaks.blocks, bytes: leaks.bytes,
        topCallers: leaks.topCallers.map((g) => ({ key: g.key, blocks: g.blocks, bytes: g.bytes })),
        topSizes: leaks.topSizes.map((g) => ({ key: g.key, blocks: g.blocks, bytes: g.bytes })),
      },
    } : {}),
  };
}
