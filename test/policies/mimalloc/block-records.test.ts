// mimalloc's 8-byte block record (mimalloc.ts BLOCK_BYTES): the block's page and its index in the
// page share one word (13 index bits: a 64 KiB small page holds 8,192 blocks of 8 bytes), pages from
// WIDE_PAGE on are named in a side table (debug builds from the 8th page, so the debug case runs
// that path). A lost index bit or a page misnamed puts two blocks at one address: the blocks handed
// out, sorted by address, must not overlap, before and after a round of frees and reuse.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const SMALLEST_BLOCK_BYTES = 8;   // mimalloc's first bin
const BLOCKS = 24_000;            // 8-byte blocks fill more than two small pages; the rest many pages

function sizeOf(i: number): number { return i % 2 === 0 ? SMALLEST_BLOCK_BYTES : 16 * (1 + (i % 97)); }

describe.each(['debug', 'release'] as const)('mimalloc block records (%s build)', (build) => {
  it('blocks of full 8-byte pages and of many other pages never overlap, through frees and reuse', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('mimalloc');
    const ops = new OpBuffer(BLOCKS);
    const expectDisjoint = (ids: number[]) => {
      const blocks = ids.map((id) => ({ at: e.blockOf(id).address, bytes: sizeOf(id) })).sort((a, b) => a.at - b.at);
      for (let k = 1; k < blocks.length; k++) expect(blocks[k - 1].at + blocks[k - 1].bytes).toBeLessThanOrEqual(blocks[k].at);
    };
    for (let i = 0; i < BLOCKS; i++) ops.alloc(h, i, sizeOf(i));
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    const all = [...Array(BLOCKS).keys()];
    expectDisjoint(all);
    ops.clear();
    for (let i = 0; i < BLOCKS; i += 3) ops.free(h, i);
    for (let i = 0; i < BLOCKS; i += 3) ops.alloc(h, BLOCKS + i, sizeOf(BLOCKS + i));   // reused records and blocks
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    expectDisjoint(all.map((i) => (i % 3 === 0 ? BLOCKS + i : i)));
  });
});
