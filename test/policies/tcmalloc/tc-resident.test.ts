// tcmalloc skips the touch of an object it hands out when the object lies in the run of pages its span
// record knows resident, while no page anywhere has stopped being resident (tcmalloc.ts touchObject:
// the run and the VM's residency epoch). After a purge of such pages, the next hand-out there must
// make them resident again; tcCheck T5 checks what the skip trusts (every page of a run is resident
// while its epoch holds).
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { applyOk as apply } from '../kit/resident-steps.js';

const PAGE_BYTES = 4096;
const BLOCK_REQUEST_BYTES = 1000;   // about four objects a page, of one size class
const BLOCKS = 40;                  // about ten pages of blocks

const firstPage = (a: number): number => Math.floor(a / PAGE_BYTES);
const endPage = (a: number, bytes: number): number => Math.ceil((a + bytes) / PAGE_BYTES);

/** Whether every page of block `id`'s request is resident. */
function blockResident(e: Engine, id: number): boolean {
  const b = e.blockOf(id);
  for (let p = firstPage(b.address); p < endPage(b.address, b.requestedBytes); p++) if (!e.vm.isResident(p * PAGE_BYTES)) return false;
  return true;
}

type Block = { address: number; requestedBytes: number };

/** Purges every page that one of `blocks` lies in; returns the bytes purged. */
function purgeBlocks(e: Engine, blocks: Block[]): number {
  let lo = Infinity, hi = 0;
  for (const b of blocks) {
    lo = Math.min(lo, firstPage(b.address));
    hi = Math.max(hi, endPage(b.address, b.requestedBytes));
  }
  return e.vm.purge(lo * PAGE_BYTES, (hi - lo) * PAGE_BYTES);
}

const builds = [['debug', 'debug'], ['release', 'release']] as const;

describe.each(builds)('tcmalloc: objects on purged pages are touched again (%s build)', (_name, build) => {
  for (const oneOpPerBatch of [false, true]) {
    it(`hand-outs on purged pages make them resident (${oneOpPerBatch ? 'one op per batch' : 'one batch'})`, async () => {
      const e = await createEngine({ arch: 'x64', build });
      const h = e.createHeap('tcmalloc');
      const ids = Array.from({ length: BLOCKS }, (_, i) => i);
      const allocAll = (first: number): void => {
        if (oneOpPerBatch) for (const i of ids) apply(e, (o) => o.alloc(h, first + i, BLOCK_REQUEST_BYTES));
        else apply(e, (o) => { for (const i of ids) o.alloc(h, first + i, BLOCK_REQUEST_BYTES); });
      };
      allocAll(0);
      expect(e.check()).toBe(0);
      expect(ids.every((id) => blockResident(e, id))).toBe(true);
      // Every object freed (to the thread's cache), their pages purged, the same requests again: each
      // object handed out is resident (the program writes it), wherever it lands.
      const blocks = ids.map((i) => e.blockOf(i));
      if (oneOpPerBatch) for (const i of ids) apply(e, (o) => o.free(h, i));
      else apply(e, (o) => { for (const i of ids) o.free(h, i); });
      const again = ids.map((i) => BLOCKS + i);
      expect(purgeBlocks(e, blocks)).toBeGreaterThan(0);
      expect(e.check()).toBe(0);
      allocAll(BLOCKS);
      expect(again.every((id) => blockResident(e, id))).toBe(true);
      expect(e.check()).toBe(0);
    });
  }

  it('random batches with a purge between them keep tcCheck T5 (a page of a known run is resident)', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('tcmalloc');
    let seed = 12345;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const live = new Set<number>();
    let next = 0;
    const ROUNDS = 30, OPS_PER_ROUND = 200, MAX_REQUEST_BYTES = 3000;
    for (let r = 0; r < ROUNDS; r++) {
      const made: number[] = [];
      apply(e, (o) => {
        for (let k = 0; k < OPS_PER_ROUND; k++) {
          if (live.size && rnd(3) === 0) {
            const ids = [...live];
            const id = ids[rnd(ids.length)]!;
            o.free(h, id); live.delete(id);
          } else { o.alloc(h, next, 1 + rnd(MAX_REQUEST_BYTES)); live.add(next); made.push(next++); }
        }
      });
      expect(e.check()).toBe(0);
      // Blocks handed out in this batch and still live were written by the program: resident.
      for (const id of made) if (live.has(id)) expect(blockResident(e, id)).toBe(true);
      // Purge the pages of a random live block: the next batch may hand out or free blocks there.
      const ids = [...live];
      if (ids.length) purgeBlocks(e, [e.blockOf(ids[rnd(ids.length)]!)]);
    }
  });
});
