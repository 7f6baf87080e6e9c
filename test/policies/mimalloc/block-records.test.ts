// mimalloc's block records (mimalloc.ts BLOCK_BYTES): a block's address is its page's start plus
// its index in the page times the page's block size, and one word is its free-list link or its
// alignment adjustment. A wrong index or page puts two blocks at one address: the blocks handed out,
// sorted by address, must not overlap, before and after a round of frees and reuse (24,000 blocks:
// 8-byte blocks fill more than two 64 KiB small pages of 8,192 each, the rest many pages).
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
