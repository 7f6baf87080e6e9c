// Built-in workloads by name.
import { UsageError } from '../errors.js';
import { peakHour } from './peak-hour.js';
import { windowsServicePeak } from './windows-service-peak.js';
import type { Workload } from './workload.js';
import { ownEntry, quoted } from '../names.js';

export interface WorkloadFactoryOptions {
  seed?: number;
}

export interface WorkloadEntry {
  description: string;
  /** The policy the workload reproduces, when it is one system's case (`heapsim demo`, the playground's demo). */
  defaultPolicy?: string;
  make(o: WorkloadFactoryOptions): Workload;
}

export const WORKLOADS: Record<string, WorkloadEntry> = {
  'peak-hour': {
    description: 'a service day: baseline, ramp-up, peak, ramp-down, quiet (marks before, peak, after)',
    make: (o) => peakHour(o),
  },
  'windows-service-peak': {
    description: "the seed's Windows service: an earlier peak grows the heap to ~1.2 GB; before/peak/after of a later peak whose memory stays committed (x86, nt without LFH)",
    defaultPolicy: 'nt',
    make: (o) => windowsServicePeak(o),
  },
};

export function workloadNames(): string[] {
  return Object.keys(WORKLOADS).sort();
}

export function makeWorkload(name: string, options: WorkloadFactoryOptions = {}): Workload {
  const w = ownEntry(WORKLOADS, name);
  if (!w) {
    // A name with a path separator or an extension was meant as a trace file.
    if (/[\\/]|\.[A-Za-z0-9]+$/.test(name)) throw new UsageError(`${name}: no such file (and no built-in workload of that name)`);
    throw new UsageError(`unknown workload ${quoted(name)} (built in: ${workloadNames().join(', ')}; or give a trace file)`);
  }
  const seed: unknown = options.seed;
  if (seed !== undefined && !(typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0)) {
    throw new UsageError(`a workload seed is a non-negative integer, got ${quoted(String(seed))}`);
  }
  // An absent seed stays absent so the workload's default applies (`seed: undefined` would override it).
  return w.make(options.seed === undefined ? {} : { seed: options.seed });
}
