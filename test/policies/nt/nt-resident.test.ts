// nt's LFH skips the touch of a chunk once every page of its subsegment's chunks is resident, while no
// page anywhere has stopped being resident (lfh.ts lfhTake/lfhTouch, the VM's residency epoch). After
// a purge of a page of a full subsegment, the chunks taken again on that page must make it resident
// again; a subsegment filled chunk by chunk must have every page resident (lfhCheck L5 checks what
// the skip trusts).
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { applyOk as apply, residentBytes as resident } from '../kit/resident-steps.js';
import { ntWalk } from '../../../src/policies/nt/view.js';

const PAGE_BYTES = 4096;
const CHUNK_REQUEST_BYTES = 64;
// A bucket switches on at the 18th allocation of a size; the subsegments that follow double in size
// (1 KiB, 2 KiB, ...): this many chunks reach a subsegment of several pages.
const ALLOCS_BEFORE_LARGE_SUBSEGMENT = 600;

function userBlocks(e: Engine, h: number): number {
  return ntWalk(e, h).filter((r) => r.kind === 'userBlock').length;
}

// Allocates 64-byte chunks one op per batch until a new subsegment is made; frees that last chunk (its
// subsegment goes back), so the one before is full and all its chunks' pages were touched. Returns
// the ids of the full subsegment's chunks with their addresses.
function fullSubsegment(e: Engine, h: number): Array<[number, number]> {
  let id = 0;
  for (; id < ALLOCS_BEFORE_LARGE_SUBSEGMENT; id++) apply(e, (o) => o.alloc(h, id, CHUNK_REQUEST_BYTES));
  const before = userBlocks(e, h);
  const blockBase = ntWalk(e, h).filter((r) => r.kind === 'userBlock').map((r) => r.address).sort((a, b) => a - b);
  for (;; id++) {
    apply(e, (o) => o.alloc(h, id, CHUNK_REQUEST_BYTES));
    if (userBlocks(e, h) > before) break;
  }
  const last = id;
  const lastAddress = e.blockOf(last).address;
  apply(e, (o) => o.free(h, last));
  expect(userBlocks(e, h)).toBe(before);
  // The full subsegment: the user block holding id last - 1.
  const a = e.blockOf(last - 1).address;
  const block = ntWalk(e, h).find((r) => r.kind === 'userBlock' && r.address < a && a < r.address + r.bytes)!;
  expect(block).toBeDefined();
  expect(lastAddress < block.address || lastAddress >= block.address + block.bytes).toBe(true);
  expect(blockBase.length).toBeGreaterThan(0);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < last; i++) {
    const x = e.blockOf(i).address;
    if (x > block.address && x < block.address + block.bytes) out.push([i, x]);
  }
  expect(block.bytes).toBeGreaterThan(4 * PAGE_BYTES);
  return out;
}

const builds = [['debug', 'debug'], ['release', 'release']] as const;

describe.each(builds)('nt LFH: chunks on purged pages are touched again (%s build)', (_name, build) => {
  for (const lfhRandomChunks of [0, 1]) {
    it(`a full subsegment with a purged page: the chunks taken on it make it resident (lfhRandomChunks ${lfhRandomChunks})`, async () => {
      const e = await createEngine({ arch: 'x64', build });
      const h = e.createHeap('nt', { params: { lfhRandomChunks } });
      const chunks = fullSubsegment(e, h);
      expect(e.check()).toBe(0);
      // Every chunk starting on the subsegment's third page: freed, then the page purged.
      const page = Math.floor(chunks[0]![1] / PAGE_BYTES) + 2;
      const onPage = chunks.filter(([, a]) => Math.floor(a / PAGE_BYTES) === page).map(([i]) => i);
      expect(onPage.length).toBeGreaterThan(4);
      const full = resident(e, h);
      apply(e, (o) => { for (const i of onPage) o.free(h, i); });
      expect(resident(e, h)).toBe(full);
      expect(e.vm.purge(page * PAGE_BYTES, PAGE_BYTES)).toBe(PAGE_BYTES);
      expect(resident(e, h)).toBe(full - PAGE_BYTES);
      expect(e.check()).toBe(0);
      // The subsegment is the bucket's only one with free chunks: these come from the purged page.
      const again = onPage.map((i) => i + 100000);
      apply(e, (o) => o.alloc(h, again[0]!, CHUNK_REQUEST_BYTES));
      expect(Math.floor(e.blockOf(again[0]!).address / PAGE_BYTES)).toBe(page);
      expect(e.vm.isResident(page * PAGE_BYTES)).toBe(true);
      expect(resident(e, h)).toBe(full);
      apply(e, (o) => { for (const i of again.slice(1)) o.alloc(h, i, CHUNK_REQUEST_BYTES); });
      expect(again.every((i) => Math.floor(e.blockOf(i).address / PAGE_BYTES) === page)).toBe(true);
      expect(resident(e, h)).toBe(full);
      expect(e.check()).toBe(0);
    });
  }

  it('chunks taken in one batch and one per batch leave the same resident pages (and lfhCheck L5 holds)', async () => {
    for (const lfhRandomChunks of [0, 1]) {
      const one = await createEngine({ arch: 'x86', build });
      const all = await createEngine({ arch: 'x86', build });
      const h1 = one.createHeap('nt', { params: { lfhRandomChunks } });
      const h2 = all.createHeap('nt', { params: { lfhRandomChunks } });
      const n = 3000;
      const sizeOf = (i: number): number => 16 + (i % 3) * 8;
      for (let i = 0; i < n; i++) {
        apply(one, (o) => o.alloc(h1, i, sizeOf(i)));
        if (i % 500 === 499) expect(one.check()).toBe(0);
      }
      apply(all, (o) => { for (let i = 0; i < n; i++) o.alloc(h2, i, sizeOf(i)); });
      expect(resident(one, h1)).toBe(resident(all, h2));
      expect(all.check()).toBe(0);
      // Every live chunk's pages are resident.
      for (let i = 0; i < n; i += 7) {
        const a = one.blockOf(i).address;
        expect(one.vm.isResident(a)).toBe(true);
        expect(one.vm.isResident(a + sizeOf(i) - 1)).toBe(true);
      }
    }
  });
});
