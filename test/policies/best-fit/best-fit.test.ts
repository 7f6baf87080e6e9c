// best-fit: the rule on a hand-made heap, then random calls against the reference model
// (test/policies/textbook/fit-model.ts) with the engine's invariants checked after every batch.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { checkAgainstModel, stepArb, KiB, MiB } from '../textbook/harness.js';
import { FitModel } from '../textbook/fit-model.js';

describe('best-fit', () => {
  it('takes the smallest free block that holds the request, the lowest address among equals', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('best-fit');
    const ops = new OpBuffer(64);
    // Holes of 1008, 304, 304 and 2000 bytes of user data (blocks of 1024, 320, 320, 2016).
    [1008, 16, 304, 16, 304, 16, 2000, 16].forEach((size, id) => ops.alloc(h, id, size));
    expect(e.apply(ops).failedOps).toBe(0);
    const holes = [0, 2, 4, 6].map((id) => e.blockOf(id).address);
    ops.clear();
    for (const id of [0, 2, 4, 6]) ops.free(h, id);
    expect(e.apply(ops).failedOps).toBe(0);
    ops.clear();
    ops.alloc(h, 20, 250); // fits 1024, 320, 320 and 2016: best is the first 320-byte hole
    ops.alloc(h, 21, 250); // then the second one
    ops.alloc(h, 22, 900); // then the 1024 hole, not the 2016 one
    expect(e.apply(ops).failedOps).toBe(0);
    expect([20, 21, 22].map((id) => e.blockOf(id).address)).toEqual([holes[1], holes[2], holes[0]]);
    expect(e.check()).toBe(0);
  });

  it('keeps the free blocks coalesced and gives the top back on trim', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('best-fit');
    const ops = new OpBuffer(300);
    for (let id = 0; id < 100; id++) ops.alloc(h, id, 10 * KiB);
    for (let id = 0; id < 100; id++) ops.free(h, id);
    ops.trim(h, 0);
    expect(e.apply(ops).failedOps).toBe(0);
    const s = e.sample().heaps[0]!;
    expect([s.busyBytes, s.freeBlocks, s.committedBytes]).toEqual([0, 0, 0]);
    expect(s.policyCounters['trimmedBytes']).toBeGreaterThanOrEqual(100 * 10 * KiB);
  });

  it('agrees with the reference model on random calls', async () => {
    const params = fc.record({ segmentReserveBytes: fc.constantFrom(64 * KiB, 1 * MiB), commitStepBytes: fc.constantFrom(4 * KiB, 64 * KiB) });
    await fc.assert(
      fc.asyncProperty(params, fc.array(stepArb(48, 3 * MiB), { minLength: 20, maxLength: 300, size: 'max' }), async (p, steps) => {
        await checkAgainstModel('best-fit', p, new FitModel('best', p), steps);
      }),
      { seed: 0x5eed_b357, numRuns: 30 },
    );
  });
});
