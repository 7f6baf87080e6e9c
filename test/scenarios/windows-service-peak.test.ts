// The seed's scenario: the shape the issue asks for (docs/scenarios.md), on the release build with
// the engine's invariant check at the end, and determinism (same seed, same samples).
import { describe, expect, it } from 'vitest';
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

  it('has the seed\'s shape', () => {
    const [before, peak, after] = cps.map((c) => c.heap) as [Checkpoint['heap'], Checkpoint['heap'], Checkpoint['heap']];
    // Reserv: the same at all three moments, about 1.2 GB (an earlier peak grew it).
    expect(peak.reservedBytes).toBe(before.reservedBytes);
    expect(after.reservedBytes).toBe(before.reservedBytes);
    expect(before.reservedBytes).toBeGreaterThan(1100 * MB);
    expect(before.reservedBytes).toBeLessThan(1300 * MB);
    // Commit: about half a gigabyte before, about twice that at the peak, within a few percent after.
    expect(before.committedBytes).toBeGreaterThan(400 * MB);
    expect(before.committedBytes).toBeLessThan(600 * MB);
    expect(peak.committedBytes / before.committedBytes).toBeGreaterThan(1.7);
    expect(peak.committedBytes / before.committedBytes).toBeLessThan(2.4);
    expect(Math.abs(after.committedBytes - peak.committedBytes) / peak.committedBytes).toBeLessThan(0.05);
    // Busy returns to about the before level.
    expect(Math.abs(after.busyBytes - before.busyBytes) / before.busyBytes).toBeLessThan(0.1);
    expect(peak.busyBytes).toBeGreaterThan(3 * before.busyBytes);
    // External fragmentation after is at least 70 %; virtual address fragmentation falls at the peak.
    expect(after.externalFragmentationPct).toBeGreaterThanOrEqual(70);
    expect(before.virtualAddressFragmentationPct).toBeGreaterThan(peak.virtualAddressFragmentationPct + 20);
    // The peak recommits holes: fewer uncommitted ranges; the drain leaves many small free blocks.
    expect(peak.uncommittedRanges).toBeLessThan(before.uncommittedRanges / 2);
    expect(after.freeBlocks).toBeGreaterThan(2 * before.freeBlocks);
    // Large buffers went to their own reservations at the peak only.
    expect([before.virtualBlocks, peak.virtualBlocks > 0, after.virtualBlocks]).toEqual([0, true, 0]);
  });

  it('MEM_COMMIT in !address -summary moves with the heap', () => {
    const rest = cps.map((c) => c.address.state.commit - c.heap.committedBytes - (c.heap.virtualBytes ?? 0));
    for (const r of rest) expect(Math.abs(r - rest[0]!)).toBeLessThan(8 * MB);
    const [b, p, a] = cps.map((c) => c.address.state.commit) as [number, number, number];
    expect(p - b).toBeGreaterThan(400 * MB);
    expect(Math.abs(a - p) / p).toBeLessThan(0.05);
  });

  it('what holds the memory after the peak: free space trapped between live blocks', () => {
    const h = cps[2]!.heap;
    const whole = h.freeWholePageBytes as number;
    expect(h.freeBytes - whole).toBeGreaterThan(0.95 * h.freeBytes);
  });

  it('is deterministic: the same seed gives identical samples, another seed different ones', async () => {
    const small: WindowsServicePeakOptions = {
      cacheBytes: 8 * MB, earlierPeakBytes: 40 * MB, peakTransientBytes: 24 * MB, steadyEvents: 2000, quietEvents: 2000,
      plateauEvents: 2000,
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
