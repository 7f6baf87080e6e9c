// ptmalloc remembers the page of the footer its last split of the last remainder touched
// (footerPage in ptmalloc.ts): the last remainder, split again and again, keeps its end, so the
// footer glibc writes there lies on a page the split before made resident. That holds only while
// no page left residence except by the heap's own calls. Here the host purges the footer's page
// between two splits (madvise from outside the allocator): the next split must make it resident
// again. The debug build also checks every touch it skips.
import { describe, it, expect } from 'vitest';
import { createEngine, type Engine, type Sample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const PAGE_BYTES = 4096;
const CHUNK_HDR_BYTES = 16;     // a chunk starts 16 bytes below its user address (x86-64)
const BIG_BYTES = 20000;        // past the tcache and the fastbins, below the mmap threshold: unsorted when freed
const SMALL_BYTES = 100;        // a small request the tcache cannot serve (nothing of its size freed)
const GUARD_BYTES = 24;         // a busy chunk after the big one: it stays apart from top

function residentOf(s: Sample, heap: number): number {
  const h = s.heaps.find((x) => x.heap === heap);
  if (!h) throw new Error(`no heap ${heap} in sample`);
  return h.residentBytes;
}

function step(engine: Engine, heap: number, fill: (ops: OpBuffer) => void): number {
  const ops = new OpBuffer(16);
  fill(ops);
  expect(engine.apply(ops).failedOps).toBe(0);
  expect(engine.check()).toBe(0);
  return residentOf(engine.sample(), heap);
}

const pageOf = (addr: number): number => Math.floor(addr / PAGE_BYTES) * PAGE_BYTES;

describe('ptmalloc: the last remainder footer page', () => {
  for (const build of ['debug', 'release'] as const) {
    it(`a split after a foreign purge of the footer page makes it resident again (${build})`, async () => {
      const engine = await createEngine({ arch: 'x64', build });
      const heap = engine.createHeap('ptmalloc', {});
      step(engine, heap, (o) => { o.alloc(heap, 1, BIG_BYTES); o.alloc(heap, 2, GUARD_BYTES); });
      // the big chunk ends where the guard's chunk starts: the remainder's footer is written there
      const footer = engine.blockOf(2).address - CHUNK_HDR_BYTES;
      const footerPage = pageOf(footer);
      step(engine, heap, (o) => o.free(heap, 1));
      // the first small request splits the big chunk (the rest becomes the last remainder), the
      // second splits the last remainder again (its footer touched, the page remembered)
      step(engine, heap, (o) => { o.alloc(heap, 3, SMALL_BYTES); o.alloc(heap, 4, SMALL_BYTES); });
      expect(engine.blockOf(4).address).toBeGreaterThan(engine.blockOf(3).address);
      expect(pageOf(engine.blockOf(4).address + SMALL_BYTES)).toBeLessThan(footerPage);
      expect(engine.vm.isResident(footerPage)).toBe(true);
      expect(engine.vm.purge(footerPage, PAGE_BYTES)).toBe(PAGE_BYTES);
      const purged = residentOf(engine.sample(), heap);
      // a third split of the last remainder: its footer's page is written again
      const after = step(engine, heap, (o) => o.alloc(heap, 5, SMALL_BYTES));
      expect(engine.blockOf(5).address).toBeGreaterThan(engine.blockOf(4).address);
      expect(pageOf(engine.blockOf(5).address + SMALL_BYTES)).toBeLessThan(footerPage);
      expect(engine.vm.isResident(footerPage)).toBe(true);
      expect(after).toBe(purged + PAGE_BYTES);
    });
  }
});
