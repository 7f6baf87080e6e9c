// Determinism: the same ops give the same samples and addresses, run after run and in both builds.
import { describe, expect, it } from 'vitest';
import { LAYOUTS, peakHourOps, runPeakHour, DEFAULT_PEAK_HOUR } from '../../../scripts/pool-peak-hour.mjs';

const OPTIONS = { ...DEFAULT_PEAK_HOUR, baseObjects: 3000, churnOps: 3000 };

describe('pool: determinism', () => {
  it('repeats every sample and address exactly, in release and debug builds, on every layout', async () => {
    const ops = peakHourOps(OPTIONS);
    expect(peakHourOps(OPTIONS)).toEqual(ops);
    for (const layout of LAYOUTS.filter((l) => l.policy === 'pool')) {
      const a = await runPeakHour(layout, ops, 'release');
      const b = await runPeakHour(layout, ops, 'release');
      const c = await runPeakHour(layout, ops, 'debug');
      expect(a.samples.map((s) => s.label)).toEqual(['before', 'peak', 'after']);
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    }
  });

  it('keeps the peak\'s chunks after the peak when every object is in a class (the seed\'s second example)', async () => {
    const ops = peakHourOps({ ...OPTIONS, smallOnly: true });
    for (const layout of LAYOUTS.filter((l) => l.policy === 'pool' && !l.params)) {
      const { samples, top } = await runPeakHour(layout, ops, 'debug');
      const [before, peak, after] = samples.map((s) => s.heaps.find((h) => h.heap === top)!);
      expect(peak!.committedBytes).toBeGreaterThan(1.5 * before!.committedBytes);
      expect(after!.committedBytes).toBe(peak!.committedBytes);
      expect(after!.busyBytes).toBeLessThan(0.6 * peak!.busyBytes);
      expect(after!.policyCounters['freeObjectBytes']).toBeGreaterThan(0.4 * peak!.busyBytes);
    }
  });
});
