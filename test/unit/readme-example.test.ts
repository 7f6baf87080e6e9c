// The README's API example, run as written (through the package's public entry).
import { expect, it } from 'vitest';
import { createEngine, OpBuffer } from '../../src/index.js';

const PAGE_SIZE_BYTES = 4096;

/** The README's example; `free: false` drops its `ops.free` line (the baseline). */
async function example(free: boolean) {
  const engine = await createEngine({ arch: 'x86', profile: 'windows-service-x86' });
  const heap = engine.createHeap('first-fit', { params: { decommitTotalBytes: 64 * 1024 } });
  const ops = new OpBuffer();
  ops.alloc(heap, 0, 100_000);
  ops.alloc(heap, 1, 64);
  if (free) ops.free(heap, 0);
  ops.mark(engine.label('after'));
  const { samples } = engine.apply(ops);
  expect(samples).toHaveLength(1);
  return samples[0]!;
}

it('README API example works and reports the freed block as decommitted', async () => {
  const s = await example(true);
  const h = s.heaps[0]!;
  expect(h.liveBlocks).toBe(1);
  expect(s.vm.committedBytes).toBeGreaterThan(h.committedBytes);
  // Against the same calls without the free: the freed block's whole pages were decommitted in
  // one call, leaving an uncommitted range inside the heap; the reservation is unchanged.
  const base = await example(false);
  const b = base.heaps[0]!;
  const wholePages = Math.floor((100_000 - 2 * PAGE_SIZE_BYTES) / PAGE_SIZE_BYTES) * PAGE_SIZE_BYTES;
  expect(b.committedBytes - h.committedBytes).toBeGreaterThanOrEqual(wholePages);
  expect(b.committedBytes - h.committedBytes).toBeLessThanOrEqual(100_000);
  expect((b.committedBytes - h.committedBytes) % PAGE_SIZE_BYTES).toBe(0);
  expect(s.vm.decommitCalls).toBe(base.vm.decommitCalls + 1);
  expect(h.uncommittedRanges).toBe(b.uncommittedRanges + 1);
  expect(h.reservedBytes).toBe(b.reservedBytes);
});
