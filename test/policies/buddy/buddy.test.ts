// buddy: splitting and buddy merging on hand-made calls, then random calls against the reference
// model (model.ts) with the engine's invariants checked after every batch.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { checkAgainstModel, stepArb, KiB, MiB } from '../textbook/harness.js';
import { BuddyModel } from './model.js';

describe('buddy', () => {
  it('splits an arena down to the order asked for and merges buddies back into it', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('buddy', { params: { arenaBytes: 64 * KiB } });
    const ops = new OpBuffer(16);
    ops.alloc(h, 1, 100);   // 116 bytes -> a 128-byte block: 64 KiB halved 9 times
    ops.alloc(h, 2, 100);   // its buddy
    expect(e.apply(ops).failedOps).toBe(0);
    const a1 = e.blockOf(1).address, a2 = e.blockOf(2).address;
    expect(a2 - a1).toBe(128);
    let c = e.sample().heaps[0]!.policyCounters;
    expect([c['splits'], c['merges'], c['largestFreeOrder']]).toEqual([9, 0, 15]);
    expect(e.sample().heaps[0]!.freeBlocks).toBe(8);   // 256 B, 512 B, ..., 32 KiB
    ops.clear();
    ops.free(h, 1);
    ops.free(h, 2);         // merges all the way up: one free 64 KiB block
    expect(e.apply(ops).failedOps).toBe(0);
    c = e.sample().heaps[0]!.policyCounters;
    expect([c['merges'], c['largestFreeOrder'], e.sample().heaps[0]!.freeBlocks]).toEqual([9, 16, 1]);
    ops.clear();
    ops.trim(h);            // the whole arena is free: released
    expect(e.apply(ops).failedOps).toBe(0);
    const s = e.sample().heaps[0]!;
    expect([s.reservedBytes, s.committedBytes, s.policyCounters['releasedArenas']]).toEqual([0, 0, 1]);
    expect(e.check()).toBe(0);
  });

  it('rounds every block up to a power of two', async () => {
    const e = await createEngine({ arch: 'x64' });
    const h = e.createHeap('buddy');
    const ops = new OpBuffer(4);
    ops.alloc(h, 1, 1000);   // 1016 -> 1024
    ops.alloc(h, 2, 1009);   // 1025 -> 2048
    e.apply(ops);
    expect(e.sample().heaps[0]!.busyBytes).toBe(1024 + 2048);
  });

  it('agrees with the reference model on random calls', async () => {
    const params = fc.record({ minBlockBytes: fc.constantFrom(32, 64, 256), arenaBytes: fc.constantFrom(64 * KiB, 1 * MiB, 16 * MiB) });
    await fc.assert(
      fc.asyncProperty(params, fc.array(stepArb(48, 3 * MiB), { minLength: 20, maxLength: 300, size: 'max' }), async (p, steps) => {
        await checkAgainstModel('buddy', p, new BuddyModel(p), steps);
      }),
      { seed: 0x5eed_b0dd, numRuns: 30 },
    );
  });
});
