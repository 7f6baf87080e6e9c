// A trace file as a Workload, so `heapsim run <trace-file>` goes through the same pipeline as the
// built-in workloads. The label table is the replay's own array, which grows while the trace is
// read; the runner registers new labels before each batch.
import type { Workload } from '../workload/workload.js';
import { openReplay, type ReplayOptions, type TraceReplay } from './replay.js';

/** Traces come from 64-bit programs: their sizes and address-space use assume x64. */
const TRACE_ARCH = 'x64';

export interface TraceWorkload extends Workload {
  replay: TraceReplay;
}

export async function traceWorkload(path: string, options: ReplayOptions = {}): Promise<TraceWorkload> {
  const replay = await openReplay(path, options);
  return {
    name: path,
    labels: replay.labels,
    description: `recorded trace ${path} (${replay.format})`,
    defaultArch: TRACE_ARCH,
    replay,
    batches: () => replay.batches(),
  };
}
