// A workload is a named source of op batches for heap 0, with the mark labels it uses. The runner
// registers `labels` in the engine in this order, so a workload's mark index i means labels[i].
import type { OpBuffer } from '../engine/ops.js';

export interface Workload {
  name: string;
  labels: string[];
  /** Free-form description of what the workload does, for --help and reports. */
  description: string;
  /** Seed the workload was built with, when it is synthetic. */
  seed?: number;
  /** The default process profile and architecture this workload is meant for. */
  defaultProfile?: string;
  defaultArch?: 'x86' | 'x86-3gb' | 'x64';
  /**
   * Parameters the workload is calibrated with, per policy name (e.g. the seed's heap had no LFH).
   * The runner applies them under the caller's own settings, which win.
   */
  policyParams?: Record<string, Record<string, string | number>>;
  batches(): Iterable<OpBuffer> | AsyncIterable<OpBuffer>;
}
