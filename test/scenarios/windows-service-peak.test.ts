// The seed's scenario: it agrees with the seed's dumps within 10 % on every number the seed prints
// for its heap and address space (docs/scenarios.md, "Agreement"), on the release build with the
// engine's invariant check at the end, and it is deterministic (same seed, same samples).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agreement, AGREEMENT_TOLERANCE } from '../../src/windbg/agreement.js';
import { parseWindbgText } from '../../src/windbg/parse.js';
import { createEngine, type Sample } from '../../src/engine/engine.js';
import { toCheckpoint } from '../../src/report/checkpoint.js';
import type { Checkpoint } from '../../src/report/types.js';
import { windowsServicePeak, WINDOWS_SERVICE_PEAK_NT_PARAMS, type WindowsServicePeakOptions } from '../../src/workload/windows-service-peak.js';
import { makeWorkload } from '../../src/workload/index.js';

const MB = 1024 * 1024;

async function simulate(options: WindowsServicePeakOptions = {}): Promise<{ samples: Sample[]; failed: number; check: number }> {
  const w = windowsServicePeak(options);
  const engine = await createEngine({ arch: w.defaultArch, profile: w.defaultProfile, build: 'release' });
  for (const l of w.labels) engine.label(l);
  engine.createHeap('nt', { params: WINDOWS_SERVICE_PEAK_NT_PARAMS });
  const samples: Sample[] = [];
  const r = await engine.applyAll(w.batches(), (s) => samples.push(s));
  return { samples, failed: r.failedOps, check: engine.check() };
}

describe('windows-service-peak on nt', () => {
  let cps: Checkpoint[];
  it('runs without failed ops, keeps every invariant and marks before, peak, after', async () => {
    const t0 = Date.now();
    const { samples, failed, check } = await simulate();
    const ms = Date.now() - t0;
    expect(failed).toBe(0);
    expect(check).toBe(0);
    cps = samples.map(toCheckpoint);
    expect(cps.map((c) => c.label)).toEqual(['before', 'peak', 'after']);
    console.log(`windows-service-peak: ${ms} ms`);
  });

  it('agrees with the seed within 10 % on Reserv, Commit, Free, List length, UCR, both fragmentations and MEM_COMMIT at each moment', () => {
    const seed = parseWindbgText(readFileSync(new URL('../fixtures/seed-second-order.txt', import.meta.url), 'utf8'), 'seed.txt');
    const a = agreement(seed, cps);
    const byMetric = (metric: string): number[] => a.rows.filter((r) => r.metric === metric).map((r) => r.simulated);
    // 8 numbers at 3 moments, less the peak's List length 0 beside 105378 K free (not a count).
    expect(a.compared).toBe(23);
    expect(a.excluded).toEqual([expect.stringContaining('"During peak hours" heap 00310000: List length 0 with 105378 K free')]);
    const off = a.rows.filter((r) => !r.within).map((r) => `${r.snapshot} ${r.metric}: ${r.simulated} vs ${r.observed}`);
    expect(off).toEqual([]);
    for (const r of a.rows) expect(Math.abs(r.ratio! - 1)).toBeLessThanOrEqual(AGREEMENT_TOLERANCE + 1e-9);
    // The shape behind the numbers: one reservation throughout, commit ×1.9 at the peak and still
    // rising after it, free space 75 % of Commit afterwards, VA fragmentation falling after the peak.
    const [commitBefore, commitPeak, commitAfter] = byMetric('heap Commit (K)') as [number, number, number];
    expect(new Set(byMetric('heap Reserv (K)')).size).toBe(1);
    expect(commitPeak / commitBefore).toBeGreaterThan(1.7);
    expect(commitAfter).toBeGreaterThan(commitPeak);
    const va = byMetric('virtual address fragmentation (%)');
    expect(va[2]).toBeLessThan(va[1]!);
    expect(va[1]).toBeLessThan(va[0]!);
  });

  it('has the seed\'s story: busy returns, large buffers at the peak only', () => {
    const [before, peak, after] = cps.map((c) => c.heap) as [Checkpoint['heap'], Checkpoint['heap'], Checkpoint['heap']];
    expect(peak.reservedBytes).toBe(before.reservedBytes);
    expect(after.reservedBytes).toBe(before.reservedBytes);
    // Busy returns to about the before level; the peak holds more than three times as much.
    expect(Math.abs(after.busyBytes - before.busyBytes) / before.busyBytes).toBeLessThan(0.1);
    expect(peak.busyBytes).toBeGreaterThan(3 * before.busyBytes);
    // The drain leaves many small free blocks; the peak recommitted most holes.
    expect(after.freeBlocks).toBeGreaterThan(5 * before.freeBlocks);
    expect(peak.uncommittedRanges).toBeLessThan(before.uncommittedRanges / 2);
    // Large buffers went to their own reservations at the peak only.
    expect([before.virtualBlocks, peak.virtualBlocks > 0, after.virtualBlocks]).toEqual([0, true, 0]);
  });

  it('MEM_COMMIT in !address -summary moves with the heap', () => {
    const rest = cps.map((c) => c.address.state.commit - c.heap.committedBytes - (c.heap.virtualBytes ?? 0));
    for (const r of rest) expect(Math.abs(r - rest[0]!)).toBeLessThan(8 * MB);
    const [b, p, a] = cps.map((c) => c.address.state.commit) as [number, number, number];
    expect(p - b).toBeGreaterThan(400 * MB);
    expect(a).toBeGreaterThan(p);
  });

  it('what holds the memory after the peak: free space trapped between live blocks', () => {
    const h = cps[2]!.heap;
    const whole = h.freeWholePageBytes as number;
    expect(h.freeBytes - whole).toBeGreaterThan(0.95 * h.freeBytes);
  });

  it('is deterministic: the same seed gives identical samples, another seed different ones', async () => {
    const small: WindowsServicePeakOptions = {
      cacheBytes: 8 * MB, earlierPeakBytes: 40 * MB, peakTransientBytes: 24 * MB, steadyEvents: 2000, quietEvents: 2000,
      plateauEvents: 2000, settleObjects: 3000, afterPeakBytes: 4 * MB,
    };
    const a = await simulate({ ...small, seed: 5 });
    const b = await simulate({ ...small, seed: 5 });
    const c = await simulate({ ...small, seed: 6 });
    expect(a.check).toBe(0);
    expect(b.samples).toEqual(a.samples);
    expect(c.samples).not.toEqual(a.samples);
  });

  it('is registered as a built-in workload with the nt parameters of the seed (no LFH)', () => {
    const w = makeWorkload('windows-service-peak', { seed: 3 });
    expect(w).toMatchObject({ name: 'windows-service-peak', seed: 3, defaultArch: 'x86', defaultProfile: 'windows-service-x86' });
    expect(w.labels).toEqual(['before', 'peak', 'after']);
    expect(w.policyParams?.nt).toMatchObject({ lfh: 0 });
  });
});
