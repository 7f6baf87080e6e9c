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

  it('chooses across the exact-size bins (below 16 KiB) and the large blocks\' tree as one order', async () => {
    // Free blocks of 16400 and 16384 bytes (large tree), 16368 (the last bin), three of 320 (one
    // bin, freed out of address order) and the choice walking down through them.
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('best-fit');
    const ops = new OpBuffer(64);
    const users = [16384, 16368, 16352, 304, 304, 304]; // blocks of 16400, 16384, 16368, 320, 320, 320
    users.forEach((size, k) => { ops.alloc(h, 2 * k, size); ops.alloc(h, 2 * k + 1, 16); });
    expect(e.apply(ops).failedOps).toBe(0);
    const at = users.map((_, k) => e.blockOf(2 * k).address);
    ops.clear();
    for (const k of [4, 0, 3, 2, 5, 1]) ops.free(h, 2 * k);
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    const largest = (): number => e.sample().heaps[0]!.largestFreeBytes;
    expect(largest()).toBe(16400);
    const take = (id: number, size: number): number => {
      ops.clear();
      ops.alloc(h, id, size);
      expect(e.apply(ops).failedOps).toBe(0);
      expect(e.check()).toBe(0);
      return e.blockOf(id).address;
    };
    expect(take(100, 16370)).toBe(at[0]); // block 16400: only the large tree holds it
    expect(largest()).toBe(16384);
    expect(take(101, 16360)).toBe(at[1]); // needs 16384 (the limit): the large tree's 16384
    expect(largest()).toBe(16368);        // now only bins hold free blocks: the highest bin's size
    expect(take(102, 250)).toBe(at[3]);   // 272 bytes: the 320 bin's lowest address, cut (48 left)
    expect(take(103, 250)).toBe(at[4]);
    expect(take(104, 16)).toBe(at[3] + 272); // 32 bytes: the 48-byte rests' bin, lowest address first
    expect(take(105, 250)).toBe(at[5]);
    expect(take(106, 300)).toBe(at[2]);   // 320 bytes: no 320 block is left, the 16368 one is cut
    expect(largest()).toBe(16368 - 320);
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
