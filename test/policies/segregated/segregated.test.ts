// segregated: the class table, no coalescing and the wilderness on hand-made calls, then random
// calls against the reference model (model.ts) with the engine's invariants checked after every batch.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { checkAgainstModel, stepArb, KiB, MiB } from '../textbook/harness.js';
import { SegregatedModel, classTable, type SegregatedParams } from './model.js';

const DEFAULTS: SegregatedParams = {
  minClassBytes: 32, maxClassBytes: 64 * KiB, classesPerDoubling: 1, segmentReserveBytes: 1 * MiB, commitStepBytes: 64 * KiB,
};

describe('segregated', () => {
  it('builds its class table from the three parameters', async () => {
    expect(classTable(DEFAULTS)).toEqual([32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
    expect(classTable({ ...DEFAULTS, maxClassBytes: 512, classesPerDoubling: 4 })).toEqual([32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512]);
    const e = await createEngine({ arch: 'x64' });
    e.createHeap('segregated', { params: { maxClassBytes: 512, classesPerDoubling: 4 } });
    const c = e.sample().heaps[0]!.policyCounters;
    expect([c['classes'], c['largestClassBytes']]).toEqual([15, 512]);
  });

  it('never coalesces: blocks freed in one class do not serve another, and the wilderness never grows back', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('segregated');
    const ops = new OpBuffer(3000);
    for (let id = 0; id < 1000; id++) ops.alloc(h, id, 40);         // 64-byte class
    expect(e.apply(ops).failedOps).toBe(0);
    const lastFreed = e.blockOf(999).address;
    ops.clear();
    for (let id = 0; id < 1000; id++) ops.free(h, id);
    for (let id = 0; id < 500; id++) ops.alloc(h, 1000 + id, 100);  // 128-byte class: all carved anew
    expect(e.apply(ops).failedOps).toBe(0);
    const c = e.sample().heaps[0]!.policyCounters;
    expect([c['listFreeBlocks'], c['listFreeBytes'], c['reusedBlocks'], c['carvedBlocks']]).toEqual([1000, 64_000, 0, 1500]);
    expect(c['carvedBytes']).toBe(1000 * 64 + 500 * 128);
    ops.clear();
    for (let id = 0; id < 500; id++) ops.alloc(h, 2000 + id, 30);   // back to the 64-byte class: LIFO reuse
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.blockOf(2000).address).toBe(lastFreed);
    const d = e.sample().heaps[0]!.policyCounters;
    expect([d['reusedBlocks'], d['listFreeBlocks'], d['carvedBytes']]).toEqual([500, 500, 1000 * 64 + 500 * 128]);
    expect(e.check()).toBe(0);
  });

  it('agrees with the reference model on random calls', async () => {
    const params = fc.record({
      minClassBytes: fc.constantFrom(32, 48, 64), maxClassBytes: fc.constantFrom(1024, 64 * KiB), classesPerDoubling: fc.constantFrom(1, 2, 4, 16),
      segmentReserveBytes: fc.constantFrom(64 * KiB, 1 * MiB), commitStepBytes: fc.constantFrom(4 * KiB, 64 * KiB),
    });
    await fc.assert(
      fc.asyncProperty(params, fc.array(stepArb(48, 3 * MiB), { minLength: 20, maxLength: 300, size: 'max' }), async (p, steps) => {
        await checkAgainstModel('segregated', p, new SegregatedModel(p), steps);
      }),
      { seed: 0x5eed_5e9, numRuns: 30 },
    );
  });
});
