// tlsf skips the touch of an 8-byte size word or back link on a page it made resident itself, while no
// page anywhere has stopped being resident (tlsf.ts write8: a bit per page and the VM's residency
// epoch). After a purge of such a page, the next write to it must make it resident again; tlsfCheck
// T5 checks what the skip trusts (every page whose bit is set is resident while the epoch holds).
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { applyOk as apply, PAGE_BYTES, randomBatchesWithPurges, residentBytes as resident } from '../kit/resident-steps.js';

const SIZE_WORD_BYTES = 8;          // a block's size word sits just below its user address
const BLOCK_REQUEST_BYTES = 1000;   // about four blocks a page
const BLOCKS = 40;                  // about ten pages of blocks
// TLSF rounds a request up to the next list boundary ("good fit"): a smaller request finds the freed
// block's list (the one for 992..1007 bytes) as the first non-empty one.
const REUSE_REQUEST_BYTES = 900;

const pageOfSizeWord = (e: Engine, id: number): number => Math.floor((e.blockOf(id).address - SIZE_WORD_BYTES) / PAGE_BYTES);

const builds = [['debug', 'debug'], ['release', 'release']] as const;

describe.each(builds)('tlsf: writes to a purged page touch it again (%s build)', (_name, build) => {
  for (const oneOpPerBatch of [false, true]) {
    it(`a freed block whose size word is on a purged page makes the page resident (${oneOpPerBatch ? 'one op per batch' : 'one batch'})`, async () => {
      const e = await createEngine({ arch: 'x64', build });
      const h = e.createHeap('tlsf');
      if (oneOpPerBatch) for (let i = 0; i < BLOCKS; i++) apply(e, (o) => o.alloc(h, i, BLOCK_REQUEST_BYTES));
      else apply(e, (o) => { for (let i = 0; i < BLOCKS; i++) o.alloc(h, i, BLOCK_REQUEST_BYTES); });
      expect(e.check()).toBe(0);
      // The page of a middle block's size word, touched when the block was handed out.
      const id = BLOCKS / 2;
      const page = pageOfSizeWord(e, id);
      expect(e.vm.isResident(page * PAGE_BYTES)).toBe(true);
      const full = resident(e, h);
      expect(e.vm.purge(page * PAGE_BYTES, PAGE_BYTES)).toBe(PAGE_BYTES);
      expect(resident(e, h)).toBe(full - PAGE_BYTES);
      expect(e.vm.isResident(page * PAGE_BYTES)).toBe(false);
      expect(e.check()).toBe(0);
      // The free writes the block's size word (FREE flag): the page is resident again.
      apply(e, (o) => o.free(h, id));
      expect(e.vm.isResident(page * PAGE_BYTES)).toBe(true);
      expect(resident(e, h)).toBe(full);
      expect(e.check()).toBe(0);
      // A second purge and an allocation that takes the free block back: resident again, too.
      expect(e.vm.purge(page * PAGE_BYTES, PAGE_BYTES)).toBe(PAGE_BYTES);
      apply(e, (o) => o.alloc(h, BLOCKS, REUSE_REQUEST_BYTES));
      expect(pageOfSizeWord(e, BLOCKS)).toBe(page);
      expect(e.vm.isResident(page * PAGE_BYTES)).toBe(true);
      expect(resident(e, h)).toBe(full);
      expect(e.check()).toBe(0);
    });
  }

  it('random batches with a purge between them keep tlsfCheck T5 (a set page bit means resident)', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('tlsf');
    // Purge the page of a random live block's size word: the next batch may write there again.
    randomBatchesWithPurges(e, h, { madeResident: false, purge: (en, id) => { en.vm.purge(pageOfSizeWord(en, id) * PAGE_BYTES, PAGE_BYTES); } });
  });
});
