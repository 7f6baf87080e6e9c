// ptmalloc skips the touch of pages it knows are resident (docs/ptmalloc.md, "Touches it can
// skip"): a chunk's whole span once handed out, a binned chunk's links, a tcache or fastbin
// chunk's link word. It knows so only while no page left residence except by its own calls.
// Here the host purges the page under such a chunk (madvise from outside the allocator), and the
// next write glibc makes there (tcache put, fastbin push, handing a cached chunk out again,
// consolidation, filing an unsorted chunk) must make the page resident again. The debug build
// also checks every touch it skips and, in check(), every span it counts on.
import { describe, it, expect } from 'vitest';
import { createEngine, type Engine, type Sample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const PAGE_BYTES = 4096;
const TCACHE_FILL_COUNT = 7;   // glibc 2.36: chunks per tcache bin
const SMALL_BYTES = 40;        // a tcache and fastbin size (chunk of 48 bytes)
const MEDIUM_BYTES = 1000;     // the largest tcache sizes (chunk of 1008 bytes), not a fastbin size
const LARGE_BYTES = 2000;      // beyond the tcache: freed into the unsorted list
const GUARD_BYTES = 24;        // a busy chunk that keeps its neighbours from coalescing

interface Setup { engine: Engine; heap: number; nextId: number }

async function setup(): Promise<Setup> {
  const engine = await createEngine({ arch: 'x64', build: 'debug' });
  const heap = engine.createHeap('ptmalloc', {});
  return { engine, heap, nextId: 1 };
}

function residentOf(s: Sample, heap: number): number {
  const h = s.heaps.find((x) => x.heap === heap);
  if (!h) throw new Error(`no heap ${heap} in sample`);
  return h.residentBytes;
}

/** Applies the ops one batch, checks the invariants, returns the heap's resident bytes. */
function step(s: Setup, fill: (ops: OpBuffer) => void): number {
  const ops = new OpBuffer(64);
  fill(ops);
  const r = s.engine.apply(ops);
  expect(r.failedOps).toBe(0);
  expect(s.engine.check()).toBe(0);
  return residentOf(s.engine.sample(), s.heap);
}

function alloc(s: Setup, bytes: number): number {
  const id = s.nextId++;
  step(s, (o) => { o.alloc(s.heap, id, bytes); o.alloc(s.heap, s.nextId++, GUARD_BYTES); });
  return id;
}

const pageOf = (addr: number): number => Math.floor(addr / PAGE_BYTES) * PAGE_BYTES;

/** The host purges the page holding the block's user address; returns the heap's resident bytes. */
function purgeUnder(s: Setup, id: number): number {
  const page = pageOf(s.engine.blockOf(id).address);
  expect(s.engine.vm.purge(page, PAGE_BYTES)).toBe(PAGE_BYTES);
  expect(s.engine.vm.isResident(page)).toBe(false);
  return residentOf(s.engine.sample(), s.heap);
}

/** The host purges the page under a live block, then the block is freed: the free's write must
 *  bring that page back (resident bytes one page above the purged state). */
function freeAfterPurge(s: Setup, id: number): void {
  const page = pageOf(s.engine.blockOf(id).address);
  const purged = purgeUnder(s, id);
  expect(step(s, (o) => o.free(s.heap, id))).toBe(purged + PAGE_BYTES);
  expect(s.engine.vm.isResident(page)).toBe(true);
}

describe('ptmalloc: touches skipped on known-resident pages come back after a foreign purge', () => {
  it('a free into the tcache writes the chunk again', async () => {
    const s = await setup();
    freeAfterPurge(s, alloc(s, SMALL_BYTES));
  });

  it('a free into a fastbin writes the chunk again', async () => {
    const s = await setup();
    const fill = Array.from({ length: TCACHE_FILL_COUNT }, () => alloc(s, SMALL_BYTES));
    const b = alloc(s, SMALL_BYTES);
    step(s, (o) => { for (const id of fill) o.free(s.heap, id); });
    freeAfterPurge(s, b);
  });

  it('a chunk handed out again from the tcache is written whole', async () => {
    const s = await setup();
    const c = alloc(s, MEDIUM_BYTES);
    const address = s.engine.blockOf(c).address;
    step(s, (o) => o.free(s.heap, c));
    for (let page = pageOf(address); page < address + MEDIUM_BYTES; page += PAGE_BYTES) s.engine.vm.purge(page, PAGE_BYTES);
    const again = s.nextId++;
    step(s, (o) => o.alloc(s.heap, again, MEDIUM_BYTES));
    expect(s.engine.blockOf(again).address).toBe(address);
    for (let page = pageOf(address - 8); page < address + MEDIUM_BYTES; page += PAGE_BYTES) {
      expect(s.engine.vm.isResident(page)).toBe(true);
    }
  });

  it('consolidation writes a fastbin chunk links again', async () => {
    const s = await setup();
    const fill = Array.from({ length: TCACHE_FILL_COUNT }, () => alloc(s, SMALL_BYTES));
    const d = alloc(s, SMALL_BYTES);
    const page = pageOf(s.engine.blockOf(d).address);
    step(s, (o) => { for (const id of fill) o.free(s.heap, id); o.free(s.heap, d); });
    expect(s.engine.vm.purge(page, PAGE_BYTES)).toBe(PAGE_BYTES);
    const purged = residentOf(s.engine.sample(), s.heap);
    // a large request consolidates the fastbins first: d goes to the unsorted list
    expect(step(s, (o) => o.alloc(s.heap, s.nextId++, LARGE_BYTES))).toBeGreaterThanOrEqual(purged + PAGE_BYTES);
    expect(s.engine.vm.isResident(page)).toBe(true);
  });

  it('filing an unsorted chunk into its bin writes its links again', async () => {
    const s = await setup();
    const e = alloc(s, LARGE_BYTES);
    const page = pageOf(s.engine.blockOf(e).address - 8);
    step(s, (o) => o.free(s.heap, e));
    s.engine.vm.purge(page, PAGE_BYTES);
    expect(s.engine.vm.isResident(page)).toBe(false);
    // no exact fit and no last remainder: the unsorted chunk is filed into its large bin
    step(s, (o) => o.alloc(s.heap, s.nextId++, 2 * LARGE_BYTES));
    expect(s.engine.vm.isResident(page)).toBe(true);
  });
});
