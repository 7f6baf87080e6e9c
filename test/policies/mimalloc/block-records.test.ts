// mimalloc's block records (mimalloc.ts BLOCK_BYTES): a block's address is its page's start plus
// its index in the page times the page's block size, and one word is its free-list link or its
// alignment adjustment. A wrong index or page puts two blocks at one address: the blocks handed out,
// sorted by address, must not overlap, before and after a round of frees and reuse (24,000 blocks:
// 8-byte blocks fill more than two 64 KiB small pages of 8,192 each, the rest many pages).
import { describe, it } from 'vitest';
import { expectBlocksDisjoint } from '../kit/disjoint-blocks.js';

const SMALLEST_BLOCK_BYTES = 8;   // mimalloc's first bin
const BLOCKS = 24_000;            // 8-byte blocks fill more than two small pages; the rest many pages

describe.each(['debug', 'release'] as const)('mimalloc block records (%s build)', (build) => {
  it('blocks of full 8-byte pages and of many other pages never overlap, through frees and reuse', async () => {
    await expectBlocksDisjoint('mimalloc', build, BLOCKS, SMALLEST_BLOCK_BYTES);
  });
});
