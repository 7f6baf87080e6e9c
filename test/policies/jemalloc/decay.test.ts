// Decay over time. The real library reads the wall clock, so no run of it can be repeated (its
// purging depends on how fast the program ran); these tests check the model's curve against the
// rule itself: pages freed at one moment may survive a fraction S(1 − t/T) of the decay time T
// (S(x) = 6x^5 − 15x^4 + 10x^3), in 200 epochs, checked on a random ~1-in-1000 tick of allocator
// calls; −1 never purges.
import { describe, it, expect } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const KiB = 1024;
const BLOCK = 20 * KiB;                  // large class: 24 KiB extents
const EXTENT = BLOCK + 4 * KiB;
const N = 200;

/** Dirty bytes of a jemalloc heap, sampled every `every` calls after N separate extents are freed. */
async function dirtyCurve(decayMs: number, nsPerEvent: number, calls: number, every: number): Promise<number[]> {
  const engine = await createEngine({ arch: 'x64', sampleEvery: 0 });
  const h = engine.createHeap('jemalloc', { params: { tcache: 0, dirty_decay_ms: decayMs, narenas: 1, nsPerEvent } });
  const dirty = (): number => engine.sample().heaps[0]!.policyCounters.dirtyBytes!;
  let ops = new OpBuffer(4 * N + 2);
  // A and B alternate, so freed A extents do not touch each other
  for (let i = 0; i < N; i++) { ops.alloc(h, 2 * i, BLOCK); ops.alloc(h, 2 * i + 1, BLOCK); }
  for (let i = 0; i < N; i++) ops.free(h, 2 * i);
  engine.apply(ops);
  const out = [dirty()];
  const id = 10 * N;
  for (let done = 0; done < calls; done += every) {
    ops = new OpBuffer(every);
    for (let i = 0; i < every; i += 2) { ops.alloc(h, id, 8); ops.free(h, id); }
    engine.apply(ops);
    out.push(dirty());
    expect(engine.check()).toBe(0);
  }
  return out;
}

describe('jemalloc decay over simulated time', () => {
  it('follows the smoother step: ~90 % left at T/4, ~50 % at T/2, ~10 % at 3T/4, none after T', async () => {
    // T = 1 s; 1 µs per call: an epoch is 5000 calls, the tick fires about every 1000 calls.
    const T = 1_000_000;
    const curve = await dirtyCurve(1000, 1000, 1.1 * T, T / 20);
    const total = N * EXTENT;
    expect(curve[0]).toBe(total);
    const at = (frac: number): number => curve[Math.round(frac * 20)]! / total;
    expect(at(0.25)).toBeGreaterThan(0.84);
    expect(at(0.25)).toBeLessThan(0.96);
    expect(at(0.5)).toBeGreaterThan(0.42);
    expect(at(0.5)).toBeLessThan(0.58);
    expect(at(0.75)).toBeGreaterThan(0.05);
    expect(at(0.75)).toBeLessThan(0.16);
    // at most the slab of the 8-byte churn (freed and taken again every two calls) is left
    expect(curve[curve.length - 1]).toBeLessThanOrEqual(4 * KiB);
    for (let i = 1; i < curve.length; i++) expect(curve[i]!).toBeLessThanOrEqual(curve[i - 1]! + 4 * KiB);
  });

  it('scales with the decay time and the time per call', async () => {
    // Twice the time per call halves the calls needed: the same curve in simulated time.
    const a = await dirtyCurve(1000, 1000, 600_000, 100_000);
    const b = await dirtyCurve(1000, 2000, 300_000, 50_000);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(0.06 * N * EXTENT);
  });

  it('-1 keeps dirty pages whatever the time; the default 10 s keeps them through a short run', async () => {
    const never = await dirtyCurve(-1, 1_000_000, 20_000, 10_000);
    expect(never.every((d) => d === N * EXTENT)).toBe(true);
    const short = await dirtyCurve(10_000, 1000, 20_000, 10_000);   // 20 ms of a 10 s decay
    expect(short[short.length - 1]).toBe(N * EXTENT);
  });
});
