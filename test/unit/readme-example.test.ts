// The README's API example, run as written (through the package's public entry).
import { expect, it } from 'vitest';
import { createEngine, OpBuffer } from '../../src/index.js';

it('README API example works and reports the freed block as decommitted', async () => {
  const engine = await createEngine({ arch: 'x86', profile: 'windows-service-x86' });
  const heap = engine.createHeap('first-fit', { params: { decommitBlockBytes: 64 * 1024 } });
  const ops = new OpBuffer();
  ops.alloc(heap, 0, 100_000);
  ops.alloc(heap, 1, 64);
  ops.free(heap, 0);
  ops.mark(engine.label('after'));
  const { samples } = engine.apply(ops);
  expect(samples).toHaveLength(1);
  const h = samples[0]!.heaps[0]!;
  expect(h.liveBlocks).toBe(1);
  expect(samples[0]!.vm.committedBytes).toBeGreaterThan(h.committedBytes);
});
