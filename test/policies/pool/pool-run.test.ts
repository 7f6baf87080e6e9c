// The pool through the shared run pipeline (what `heapsim run --policy pool [--set parent=...]`
// does): checkpoints of every layer, and the diagnosis cause read from checkpoints and samples alike.
import { describe, expect, it } from 'vitest';
import { runWorkload } from '../../../src/run/run.js';
import { peakHour } from '../../../src/workload/peak-hour.js';
import type { SizeMix } from '../../../src/workload/distributions.js';
import type { Checkpoint } from '../../../src/report/types.js';
import type { Sample } from '../../../src/engine/engine.js';
import { poolCauses, poolRetainedCause } from '../../../src/policies/pool/retained.js';
import { diagnose, seriesFromCheckpoints } from '../../../src/report/diagnose.js';

// Everything fits the pool's default classes (up to 4 KiB): nothing passes through.
const SMALL_MIX: SizeMix = [
  { name: 'small', share: 0.8, medianBytes: 64, sigma: 0.9, minBytes: 8, maxBytes: 1024 },
  { name: 'medium', share: 0.2, medianBytes: 1500, sigma: 0.5, minBytes: 1025, maxBytes: 4096 },
];

function workload() {
  return peakHour({
    seed: 7, baseLiveBlocks: 2_000, peakLiveBlocks: 12_000, phaseEvents: [15_000, 10_000, 15_000, 10_000, 15_000],
    sizeMix: SMALL_MIX,
  });
}

async function runPool(layers: { policy: string }[]): Promise<{ cps: Checkpoint[]; samples: Sample[] }> {
  const cps: Checkpoint[] = [];
  const samples: Sample[] = [];
  await runWorkload(workload(), {
    policy: 'pool', layers, build: 'debug',
    onCheckpoint: (cp, s) => { cps.push(cp); samples.push(s); },
  });
  return { cps, samples };
}

describe('pool in the run pipeline', () => {
  it('holds the peak\'s commit after the peak, on the VM and over first-fit, and names the layer', async () => {
    for (const layers of [[], [{ policy: 'first-fit' }]]) {
      const { cps, samples } = await runPool(layers);
      const [before, peak, after] = ['before', 'peak', 'after'].map((l) => cps.find((c) => c.label === l)!);
      const top = (cp: Checkpoint) => cp.heaps!.find((h) => h['heap'] === 0)!;
      expect(top(peak!).committedBytes).toBeGreaterThan(3 * top(before!).committedBytes);
      expect(top(after!).committedBytes).toBeGreaterThanOrEqual(top(peak!).committedBytes);
      expect(top(after!).busyBytes).toBeLessThan(top(peak!).busyBytes / 3);
      const i = cps.indexOf(after!);
      const fromCheckpoint = poolRetainedCause(top(after!), after)!;
      const fromSample = poolRetainedCause(samples[i]!.heaps.find((h) => h.heap === 0)!, samples[i])!;
      expect(fromCheckpoint).toEqual(fromSample);
      expect(fromCheckpoint.bytes).toBeGreaterThan(top(after!).committedBytes / 2);
      if (layers.length) {
        expect(fromCheckpoint.below).toEqual({ kind: 'heap', heap: 1, policy: 'first-fit' });
        const parent = after!.heaps!.find((h) => h['heap'] === 1)!;
        expect(parent.requestedBytes).toBe(top(after!).committedBytes);
        expect(parent.committedBytes).toBeGreaterThanOrEqual(top(after!).committedBytes);
      } else {
        expect(fromCheckpoint.below).toEqual({ kind: 'vm' });
        expect(after!.address.usage.other).toBeGreaterThanOrEqual(top(after!).committedBytes);
      }
    }
  });

  it('diagnose() classifies the pool run as second-order, with the pool named as the cause and layer', async () => {
    for (const layers of [[], [{ policy: 'first-fit' }]]) {
      const { cps } = await runPool(layers);
      const marks = cps.filter((c) => ['before', 'peak', 'after'].includes(c.label));
      const last = marks[marks.length - 1]!;
      const causes = poolCauses(last);
      expect(causes).toHaveLength(1);
      const d = diagnose(seriesFromCheckpoints(marks), { causes });
      expect(d.kind).toBe('second-order');
      expect(d.causes[0]!.mechanism).toBe('retained by pool (freed objects kept on pool lists)');
      expect(d.causes[0]!.layer).toBe('pool');
      // What the pool keeps on its lists is what the diagnosis finds retained (within 10 %: the
      // program's busy bytes at "after" are not exactly those at "before").
      expect(Math.abs(causes[0]!.bytes - d.retainedBytes)).toBeLessThan(0.1 * d.retainedBytes);
    }
  });
});
