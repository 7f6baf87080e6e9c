// `peak-hour`: a service's day in five phases (baseline, ramp-up, peak, ramp-down, quiet) with marks
// `before` (end of baseline), `peak` (end of the peak plateau) and `after` (end of the quiet phase).
//
// How it is built: the live block count follows a target curve (flat, linear up, flat, linear
// down, flat). Each event allocates while the live count is under the target and frees a random
// mortal block otherwise, so every phase churns. A small share of allocations are "immortal"
// (caches that outlive the peak); they are what pins memory after the peak. Sizes come from a
// named mix (SERVICE_MIX); a share of events are reallocs of a random live block.
import { OpBuffer, DEFAULT_BATCH_OPS } from '../engine/ops.js';
import { Prng } from './prng.js';
import { SERVICE_MIX, checkMix, drawSize, type SizeMix } from './distributions.js';
import type { Workload } from './workload.js';

export interface PeakHourOptions {
  seed?: number;
  /** Live blocks during baseline and quiet. */
  baseLiveBlocks?: number;
  /** Live blocks at the peak plateau. */
  peakLiveBlocks?: number;
  /** Events per phase: baseline, ramp-up, peak, ramp-down, quiet. */
  phaseEvents?: [number, number, number, number, number];
  /** Share of allocations that never die, per phase. */
  immortalShare?: [number, number, number, number, number];
  /** Share of events that are reallocs of a live block. */
  reallocShare?: number;
  sizeMix?: SizeMix;
  batchOps?: number;
}

export const PEAK_HOUR_DEFAULTS: Required<PeakHourOptions> = {
  seed: 1,
  baseLiveBlocks: 20_000,
  peakLiveBlocks: 120_000,
  phaseEvents: [150_000, 100_000, 150_000, 100_000, 150_000],
  immortalShare: [0.002, 0.01, 0.01, 0.01, 0.002],
  reallocShare: 0.02,
  sizeMix: SERVICE_MIX,
  batchOps: DEFAULT_BATCH_OPS,
};

export const PEAK_HOUR_LABELS = ['before', 'peak', 'after'];

export function peakHour(options: PeakHourOptions = {}): Workload {
  const o = { ...PEAK_HOUR_DEFAULTS, ...options };
  checkMix(o.sizeMix);
  if (o.peakLiveBlocks < o.baseLiveBlocks) throw new RangeError('peakLiveBlocks must be >= baseLiveBlocks');
  return {
    name: 'peak-hour',
    labels: PEAK_HOUR_LABELS,
    description: 'baseline, ramp-up, peak, ramp-down, quiet; marks before/peak/after',
    seed: o.seed,
    defaultArch: 'x86',
    defaultProfile: 'windows-service-x86',
    batches: () => generate(o),
  };
}

function* generate(o: Required<PeakHourOptions>): Generator<OpBuffer> {
  const rng = new Prng(o.seed);
  const mortal: number[] = [];      // live ids that may be freed
  let immortalCount = 0;
  const freeIds: number[] = [];     // ids to reuse (dense ids)
  let nextId = 0;
  let ops = new OpBuffer(o.batchOps);
  const markAfter = [o.phaseEvents[0], o.phaseEvents[0] + o.phaseEvents[1] + o.phaseEvents[2],
    o.phaseEvents.reduce((a, b) => a + b, 0)];
  const marks = [0, 1, 2];
  let event = 0;
  for (let phase = 0; phase < 5; phase++) {
    const n = o.phaseEvents[phase]!;
    for (let i = 0; i < n; i++) {
      if (ops.length + 2 > ops.capacity) { yield ops; ops = new OpBuffer(o.batchOps); }
      const t = i / n;
      const target = phase === 0 || phase === 4 ? o.baseLiveBlocks
        : phase === 2 ? o.peakLiveBlocks
        : phase === 1 ? o.baseLiveBlocks + (o.peakLiveBlocks - o.baseLiveBlocks) * t
        : o.peakLiveBlocks - (o.peakLiveBlocks - o.baseLiveBlocks) * t;
      const live = mortal.length + immortalCount;
      if (mortal.length > 0 && rng.next() < o.reallocShare) {
        ops.realloc(0, mortal[rng.int(mortal.length)]!, drawSize(rng, o.sizeMix));
      } else if (live < target || mortal.length === 0) {
        const id = freeIds.length ? freeIds.pop()! : nextId++;
        ops.alloc(0, id, drawSize(rng, o.sizeMix));
        if (rng.next() < o.immortalShare[phase]!) immortalCount++;
        else mortal.push(id);
      } else {
        const k = rng.int(mortal.length);
        const id = mortal[k]!;
        mortal[k] = mortal[mortal.length - 1]!;
        mortal.pop();
        ops.free(0, id);
        freeIds.push(id);
      }
      event++;
      const m = markAfter.indexOf(event);
      if (m >= 0) ops.mark(marks[m]!);
    }
  }
  if (ops.length) yield ops;
}
