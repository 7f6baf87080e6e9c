// next-fit: the roving pointer on a hand-made heap, then random calls against the reference model
// (test/policies/textbook/fit-model.ts) with the engine's invariants checked after every batch.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { checkAgainstModel, stepArb, KiB, MiB } from '../textbook/harness.js';
import { FitModel } from '../textbook/fit-model.js';

describe('next-fit', () => {
  it('searches from where the last search ended and wraps round', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('next-fit');
    const ops = new OpBuffer(64);
    // Three 1 KiB holes separated by busy blocks.
    [1008, 16, 1008, 16, 1008, 16].forEach((size, id) => ops.alloc(h, id, size));
    expect(e.apply(ops).failedOps).toBe(0);
    const holes = [0, 2, 4].map((id) => e.blockOf(id).address);
    ops.clear();
    for (const id of [0, 2, 4]) ops.free(h, id);
    ops.alloc(h, 10, 100);  // first search: from the start, lands in hole 0
    ops.alloc(h, 11, 100);  // next fit: right behind it, in hole 0 again (the rover is there)
    ops.alloc(h, 12, 900);  // does not fit the rest of hole 0: hole 1, not the lower one
    ops.alloc(h, 13, 900);  // hole 2
    ops.alloc(h, 14, 600);  // nothing at or above the rover holds 600: wraps to the rest of hole 0
    expect(e.apply(ops).failedOps).toBe(0);
    const at = (id: number): number => e.blockOf(id).address;
    expect(at(10)).toBe(holes[0]);
    expect(at(11)).toBe(holes[0]! + 128);
    expect(at(12)).toBe(holes[1]);
    expect(at(13)).toBe(holes[2]);
    expect(at(14)).toBe(holes[0]! + 256);
    expect(e.sample().heaps[0]!.policyCounters['wraps']).toBe(1);
    expect(e.check()).toBe(0);
  });

  it('agrees with the reference model on random calls', async () => {
    const params = fc.record({ segmentReserveBytes: fc.constantFrom(64 * KiB, 1 * MiB), commitStepBytes: fc.constantFrom(4 * KiB, 64 * KiB) });
    await fc.assert(
      fc.asyncProperty(params, fc.array(stepArb(48, 3 * MiB), { minLength: 20, maxLength: 300, size: 'max' }), async (p, steps) => {
        await checkAgainstModel('next-fit', p, new FitModel('next', p), steps);
      }),
      { seed: 0x5eed_4e47, numRuns: 30 },
    );
  });

  // The release build searches with its full stack (fit.ts firstFitFromStack; debug builds use a small
  // one and check every answer against the recursive search): the same model, fewer runs.
  it('agrees with the reference model on random calls (release build)', async () => {
    const params = fc.record({ segmentReserveBytes: fc.constantFrom(64 * KiB, 1 * MiB), commitStepBytes: fc.constantFrom(4 * KiB, 64 * KiB) });
    await fc.assert(
      fc.asyncProperty(params, fc.array(stepArb(48, 3 * MiB), { minLength: 20, maxLength: 300, size: 'max' }), async (p, steps) => {
        await checkAgainstModel('next-fit', p, new FitModel('next', p), steps, 25, 'release');
      }),
      { seed: 0x5eed_4e48, numRuns: 10 },
    );
  });
});
