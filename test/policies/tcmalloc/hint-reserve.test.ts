// tcmalloc reserves two object records per live block of the replay's hint (store.ts
// OBJECT_RECORDS_PER_LIVE_BLOCK): objects waiting in a thread cache or a central list keep their
// records, so a table of one per live block doubled (a copy of every record into fresh pages).
import { describe, it } from 'vitest';
import { expectNoGrowthWithHint } from '../kit/hint-steps.js';

const LIVE_BLOCKS = 20_000;

describe('tcmalloc: object records sized from the hint', () => {
  it('cached objects above the live peak do not grow the reserved table', async () => {
    await expectNoGrowthWithHint('tcmalloc', LIVE_BLOCKS);
  });
});
