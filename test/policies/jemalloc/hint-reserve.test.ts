// jemalloc reserves two allocation records per live block of the replay's hint (records.ts
// ALLOC_RECORDS_PER_LIVE_BLOCK): regions waiting in a tcache keep their records, so a table of one per
// live block doubled (a copy of every record into fresh pages).
import { describe, it } from 'vitest';
import { expectNoGrowthWithHint } from '../kit/hint-steps.js';

const LIVE_BLOCKS = 20_000;

describe('jemalloc: allocation records sized from the hint', () => {
  it('cached regions above the live peak do not grow the reserved table', async () => {
    await expectNoGrowthWithHint('jemalloc', LIVE_BLOCKS);
  });
});
