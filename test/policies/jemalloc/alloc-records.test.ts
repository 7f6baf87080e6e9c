// jemalloc's 4-byte allocation record (records.ts): extent << 10 | region index in one word (a
// one-page slab of the 8-byte class holds 512 regions; 1,023 marks a large allocation), extents
// from WIDE_EXT on named in a side table (debug builds from the 8th extent, so the debug case runs
// that path), dropped records told apart only by the pool's free list (allocDeadMap, read by the
// destroy and the check). A lost region bit or an extent misnamed puts two blocks at one address;
// a dropped record taken for a live one at destroy breaks the pool's free list: the blocks, sorted
// by address, must not overlap, through frees, reuse, a heap destroyed and one made after it.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const SMALLEST_CLASS_BYTES = 8;    // jemalloc's first size class
const LARGE_BYTES = 20_000;        // above the largest small class (14 KiB): a large allocation
const BLOCKS = 6_000;              // 8-byte regions fill several 512-region slabs; the rest many slabs

function sizeOf(i: number): number {
  return i % 2 === 0 ? SMALLEST_CLASS_BYTES : i % 101 === 1 ? LARGE_BYTES : 16 * (1 + (i % 97));
}

describe.each(['debug', 'release'] as const)('jemalloc allocation records (%s build)', (build) => {
  it('blocks of full 8-byte slabs, of many slabs and large ones never overlap, through frees, reuse and a destroy', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const ops = new OpBuffer(2 * BLOCKS);
    const round = (h: number, id0: number) => {
      ops.clear();
      for (let i = 0; i < BLOCKS; i++) ops.alloc(h, id0 + i, sizeOf(i));
      expect(e.apply(ops).failedOps).toBe(0);
      expect(e.check()).toBe(0);
      ops.clear();
      for (let i = 0; i < BLOCKS; i += 3) ops.free(h, id0 + i);
      for (let i = 0; i < BLOCKS; i += 6) ops.alloc(h, id0 + BLOCKS + i, sizeOf(i));   // reused records and regions
      expect(e.apply(ops).failedOps).toBe(0);
      expect(e.check()).toBe(0);
      const live: number[] = [];
      for (let i = 0; i < BLOCKS; i++) if (i % 3 !== 0) live.push(id0 + i);
      for (let i = 0; i < BLOCKS; i += 6) live.push(id0 + BLOCKS + i);
      return live;
    };
    const sizeOfId = (id: number) => sizeOf((id % 100_000) % BLOCKS);   // ids: id0 + i and id0 + BLOCKS + i
    const disjoint = (ids: number[]) => {
      const blocks = ids.map((id) => ({ at: e.blockOf(id).address, bytes: sizeOfId(id) })).sort((a, b) => a.at - b.at);
      for (let k = 1; k < blocks.length; k++) expect(blocks[k - 1].at + blocks[k - 1].bytes).toBeLessThanOrEqual(blocks[k].at);
    };
    const h1 = e.createHeap('jemalloc', {}, 1);
    disjoint(round(h1, 0));
    const h2 = e.createHeap('jemalloc', {}, 2);
    const live2 = round(h2, 100_000);
    e.destroyHeap(h1);                 // its records dropped among the ones already on the free list
    expect(e.check()).toBe(0);
    const h3 = e.createHeap('jemalloc', {}, 3);
    const live3 = round(h3, 200_000);  // takes the dropped records again
    disjoint(live2);
    disjoint(live3);
    expect(e.check()).toBe(0);
  });
});
