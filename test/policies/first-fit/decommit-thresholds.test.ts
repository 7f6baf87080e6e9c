// first-fit's two decommit thresholds exactly at their boundaries: a coalesced free block of at
// least decommitBlockBytes is decommitted once the heap holds at least decommitTotalBytes free.
import { expect, it } from 'vitest';
import { createEngine, OpBuffer } from '../../../src/index.js';

/** Allocates 100 000 bytes and a pin, frees the first; the heap's free bytes and decommit calls. */
async function freeBig(decommitTotalBytes: number): Promise<{ freeBytes: number; decommitCalls: number }> {
  const engine = await createEngine({ arch: 'x86', profile: 'bare' });
  const heap = engine.createHeap('first-fit', { params: { decommitTotalBytes } });
  const ops = new OpBuffer();
  ops.alloc(heap, 0, 100_000);
  ops.alloc(heap, 1, 64);
  ops.free(heap, 0);
  engine.apply(ops);
  const s = engine.sample();
  return { freeBytes: s.heaps[0]!.freeBytes, decommitCalls: s.vm.decommitCalls };
}

it('decommits when the free bytes equal decommitTotalBytes, not when they are one short', async () => {
  const held = await freeBig(2 ** 30); // never decommits: tells the heap's free bytes after the free
  expect(held.decommitCalls).toBe(0);
  expect((await freeBig(held.freeBytes)).decommitCalls).toBe(1);
  expect((await freeBig(held.freeBytes + 1)).decommitCalls).toBe(0);
});
