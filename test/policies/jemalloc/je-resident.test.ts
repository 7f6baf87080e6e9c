// jemalloc skips the touch of a small region it hands out when the region lies in the run of pages its
// slab knows resident, while no page anywhere has stopped being resident (jemalloc.ts touchRegion: the
// run and the VM's residency epoch). After a purge of such pages, the next hand-out there must make
// them resident again; jeCheck J8 checks what the skip trusts (every page of a run is resident while
// its epoch holds).
import { describe, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { allocAllResident, handOutsAfterPurgeResident, purgeBlocks, randomBatchesWithPurges } from '../kit/resident-steps.js';

const BLOCK_REQUEST_BYTES = 1000;   // about four regions a page, of one size class (1 KiB slabs)
const BLOCKS = 40;                  // about ten pages of blocks

const builds = [['debug', 'debug'], ['release', 'release']] as const;

describe.each(builds)('jemalloc: regions on purged pages are touched again (%s build)', (_name, build) => {
  for (const oneOpPerBatch of [false, true]) {
    it(`hand-outs on purged pages make them resident (${oneOpPerBatch ? 'one op per batch' : 'one batch'})`, async () => {
      const e = await createEngine({ arch: 'x64', build });
      const h = e.createHeap('jemalloc');
      const ids = Array.from({ length: BLOCKS }, (_, i) => i);
      allocAllResident(e, h, ids, BLOCK_REQUEST_BYTES, oneOpPerBatch);
      // Every region freed (to the thread's cache), their pages purged, the same requests again: each
      // region handed out is resident (the program writes it), wherever it lands.
      handOutsAfterPurgeResident(e, h, ids, BLOCKS, BLOCK_REQUEST_BYTES, oneOpPerBatch);
    });
  }

  it('random batches with a purge between them keep jeCheck J8 (a page of a known run is resident)', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('jemalloc');
    // Purge the pages of a random live block: the next batch may hand out or free blocks there.
    randomBatchesWithPurges(e, h, { madeResident: true, purge: (en, id) => { purgeBlocks(en, [en.blockOf(id)]); } });
  });
});
