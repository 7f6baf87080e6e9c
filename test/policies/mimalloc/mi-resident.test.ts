// mimalloc skips the touch of a block it hands out, or of the link a free writes, when the block lies in
// the run of pages its page record knows resident, while no page anywhere has stopped being resident
// (mimalloc.ts touchBlock: the run and the VM's residency epoch). After a purge of such pages, the next
// hand-out or free there must make them resident again; miCheck M5 checks what the skip trusts (every
// page of a run is resident while its epoch holds).
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import {
  applyOk as apply, allocAllResident, blockResident, firstPage, handOutsAfterPurgeResident, PAGE_BYTES, purgeBlocks, randomBatchesWithPurges,
} from '../kit/resident-steps.js';

const BLOCK_REQUEST_BYTES = 1000;   // about four blocks a page, all in one small mimalloc page
const BLOCKS = 40;                  // about ten pages of blocks

const builds = [['debug', 'debug'], ['release', 'release']] as const;

describe.each(builds)('mimalloc: blocks on purged pages are touched again (%s build)', (_name, build) => {
  for (const oneOpPerBatch of [false, true]) {
    it(`hand-outs and frees on purged pages make them resident (${oneOpPerBatch ? 'one op per batch' : 'one batch'})`, async () => {
      const e = await createEngine({ arch: 'x64', build });
      const h = e.createHeap('mimalloc');
      const ids = Array.from({ length: BLOCKS }, (_, i) => i);
      allocAllResident(e, h, ids, BLOCK_REQUEST_BYTES, oneOpPerBatch);
      // A free writes the block's link: a live block's purged page is resident again after it.
      const mid = BLOCKS / 2;
      expect(purgeBlocks(e, [e.blockOf(mid)])).toBeGreaterThan(0);
      expect(blockResident(e, mid)).toBe(false);
      expect(e.check()).toBe(0);
      const link = e.blockOf(mid).address;
      apply(e, (o) => o.free(h, mid));
      expect(e.vm.isResident(firstPage(link) * PAGE_BYTES)).toBe(true);
      expect(e.check()).toBe(0);
      // Every other block freed, their pages purged, the same requests again: each block handed out
      // is resident (the program writes it), wherever it lands.
      handOutsAfterPurgeResident(e, h, ids.filter((i) => i !== mid), BLOCKS, BLOCK_REQUEST_BYTES, oneOpPerBatch);
    });
  }

  it('random batches with a purge between them keep miCheck M5 (a page of a known run is resident)', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('mimalloc');
    // Purge the pages of a random live block: the next batch may hand out or free blocks there.
    randomBatchesWithPurges(e, h, { madeResident: true, purge: (en, id) => { purgeBlocks(en, [en.blockOf(id)]); } });
  });
});
