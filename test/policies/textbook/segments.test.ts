// fit.ts's block records keep no segment index: a block's segment is found from its address (the
// newest segment first, then arena.ts segOf) where the block is its segment's first or last. A
// heap makes a second segment only when the address space above its newest one is taken: here a
// second heap reserved right above it. Blocks at both ends of the older segment are then cut,
// merged and freed while the newer one grows; the engine's invariants (F1: each segment's first
// and last block, the tiling) hold after every batch and the addresses are the reference model's
// placement within each segment (the lowest fitting block: every request here fits only one).
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { KiB } from './harness.js';

/** Bytes of one request: sixteen fill the first 64 KiB reservation. */
const BLOCK = 4 * KiB - 16;

describe.each(['next-fit', 'best-fit'] as const)('%s: blocks at the ends of an older segment', (policy) => {
  it.each(['debug', 'release'] as const)('keep each segment\'s first and last block (%s)', async (build) => {
    const e = await createEngine({ arch: 'x64', build });
    const params = { segmentReserveBytes: 64 * KiB, commitStepBytes: 4 * KiB };
    const h = e.createHeap(policy, { params });
    const ops = new OpBuffer(32);
    const flush = (where: string): void => {
      const r = e.apply(ops);
      expect(r.failedOps, where).toBe(0);
      expect(e.check(), where).toBe(0);
      ops.clear();
    };
    // Fill the first segment (16 blocks), then reserve a second heap right above it.
    for (let id = 0; id < 16; id++) ops.alloc(h, id, BLOCK);
    flush('first segment filled');
    const other = e.createHeap(policy, { params });
    ops.alloc(other, 1000, 64);
    flush('second heap above');
    // The first heap cannot grow in place: a second segment.
    for (let id = 16; id < 24; id++) ops.alloc(h, id, BLOCK);
    flush('second segment');
    const segments = (): number => e.sample().heaps.find((x) => x.heap === h)!.segments;
    expect(segments()).toBe(2);
    const first = e.blockOf(0).address;
    // The older segment's last block, then its first, freed; then a neighbour of each (merges at
    // both ends), then a cut of the merged first block and a whole take at the end.
    const steps: [string, () => void][] = [
      ['last of the older segment freed', () => ops.free(h, 15)],
      ['first of the older segment freed', () => ops.free(h, 0)],
      ['merged into the last', () => ops.free(h, 14)],
      ['merged into the first', () => ops.free(h, 1)],
      ['newest segment\'s last freed (to its top)', () => ops.free(h, 23)],
      ['cut at the older segment\'s front', () => ops.alloc(h, 100, 64)],
      ['older segment\'s first freed again', () => ops.free(h, 100)],
      ['carved in the newest segment', () => ops.alloc(h, 101, 2 * BLOCK)],
      ['every block of the older segment freed', () => { for (let id = 2; id < 14; id++) ops.free(h, id); }],
      ['newest segment emptied', () => { for (let id = 16; id < 23; id++) ops.free(h, id); ops.free(h, 101); }],
    ];
    for (const [where, step] of steps) { step(); flush(where); }
    // The older segment is one free block again: a request that fills it lands at its base.
    ops.alloc(h, 200, 16 * BLOCK);
    flush('older segment taken whole');
    expect(e.blockOf(200).address).toBe(first);
    expect(segments()).toBe(2);
  });
});
