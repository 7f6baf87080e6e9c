// jemalloc reserves two allocation records per live block of the replay's hint (records.ts
// ALLOC_RECORDS_PER_LIVE_BLOCK): regions waiting in a tcache keep their records, so a table of one per
// live block doubled (a copy of every record into fresh pages). Its extent records are reserved too,
// one per LIVE_BLOCKS_PER_EXTENT live blocks.
import { describe, it } from 'vitest';
import { expectNoGrowthWithHint } from '../kit/hint-steps.js';

const LIVE_BLOCKS = 20_000;
/** Large blocks (one extent each) above the extent table's first size (1,024) and below LIVE_BLOCKS / 16. */
const LARGE_BLOCKS = 1100;
const LARGE_REQUEST_BYTES = 20_000; // above the largest small class (14 KiB)
const PAGE_BYTES = 4096;

describe('jemalloc: allocation records sized from the hint', () => {
  it('cached regions above the live peak do not grow the reserved table', async () => {
    await expectNoGrowthWithHint('jemalloc', LIVE_BLOCKS);
  });

  it('large blocks above the extent table\'s first size do not grow the reserved extents', async () => {
    await expectNoGrowthWithHint('jemalloc', LIVE_BLOCKS, [
      (o, h) => { for (let i = 0; i < LARGE_BLOCKS; i++) o.alloc(h, i, LARGE_REQUEST_BYTES + PAGE_BYTES * (i % 3)); },
    ]);
  });
});
