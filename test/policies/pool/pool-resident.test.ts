// pool's touch of a carved object skips the VM while no page anywhere has stopped being resident
// (pool.ts touchObject, the VM's residency epoch): after a purge, the frees and reuses of objects
// on purged pages must make those pages resident again, and only those. Carving skips the touch of
// an object that ends on the page where the object before it ends (carveTouch), and a realloc in
// place touches through touchObject: both must touch again after a purge.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { CHUNK_BYTES, engine, run } from './pool-helpers.js';
import { residentBytes as resident } from '../kit/resident-steps.js';

const PAGE_BYTES = 4096;
const OBJECT_BYTES = 16;                               // the smallest class
const OBJECTS_PER_PAGE = PAGE_BYTES / OBJECT_BYTES;
const OBJECTS = CHUNK_BYTES / OBJECT_BYTES;            // one chunk, fully carved

// Fills one chunk with 16-byte objects (ids 0 .. OBJECTS - 1, id i on page i / OBJECTS_PER_PAGE).
function filledChunk(e: Engine): { p: number; base: number } {
  const p = e.createHeap('pool');
  run(e, (o) => { for (let i = 0; i < OBJECTS; i++) o.alloc(p, i, OBJECT_BYTES); });
  const base = e.blockOf(0).address;
  expect(e.blockOf(OBJECTS - 1).address).toBe(base + CHUNK_BYTES - OBJECT_BYTES);
  expect(resident(e, p)).toBe(CHUNK_BYTES);
  return { p, base };
}

const builds = [['debug', engine], ['release', () => createEngine({ build: 'release' })]] as const;

describe.each(builds)('pool: objects on purged pages are touched again (%s build)', (_name, make) => {
  it('a free or a reuse makes the object\'s page resident again; objects on other pages change nothing', async () => {
    const e = await make();
    const { p, base } = filledChunk(e);
    expect(e.vm.purge(base + 2 * PAGE_BYTES, 4 * PAGE_BYTES)).toBe(4 * PAGE_BYTES); // pages 2..5
    expect(resident(e, p)).toBe(CHUNK_BYTES - 4 * PAGE_BYTES);
    run(e, (o) => o.free(p, 1 * OBJECTS_PER_PAGE + 7));  // page 1: still resident
    expect(resident(e, p)).toBe(CHUNK_BYTES - 4 * PAGE_BYTES);
    run(e, (o) => o.free(p, 3 * OBJECTS_PER_PAGE + 5));  // page 3: purged, the free writes its link
    expect(e.vm.isResident(base + 3 * PAGE_BYTES)).toBe(true);
    expect(resident(e, p)).toBe(CHUNK_BYTES - 3 * PAGE_BYTES);
    expect(e.check()).toBe(0);
    // Everything resident again from here; then a second purge: the reuse (LIFO: the object freed
    // last, on page 3) and another free, on page 4, must each touch again.
    expect(e.vm.purge(base + 3 * PAGE_BYTES, 2 * PAGE_BYTES)).toBe(PAGE_BYTES); // page 3 (4 was purged already)
    run(e, (o) => o.alloc(p, OBJECTS, OBJECT_BYTES));
    expect(e.blockOf(OBJECTS).address).toBe(base + (3 * OBJECTS_PER_PAGE + 5) * OBJECT_BYTES);
    expect(e.vm.isResident(base + 3 * PAGE_BYTES)).toBe(true);
    run(e, (o) => o.free(p, 4 * OBJECTS_PER_PAGE));
    expect(e.vm.isResident(base + 4 * PAGE_BYTES)).toBe(true);
    expect(e.vm.isResident(base + 2 * PAGE_BYTES)).toBe(false);
    expect(e.vm.isResident(base + 5 * PAGE_BYTES)).toBe(false);
    expect(resident(e, p)).toBe(CHUNK_BYTES - 2 * PAGE_BYTES);
    expect(e.check()).toBe(0);
  });

  it('a purge of another heap\'s pages leaves the pool\'s pages as they are', async () => {
    const e = await make();
    const { p, base } = filledChunk(e);
    const other = e.createHeap('pool');
    run(e, (o) => o.alloc(other, OBJECTS + 1, OBJECT_BYTES));
    const otherBase = e.blockOf(OBJECTS + 1).address;
    expect(e.vm.purge(otherBase, PAGE_BYTES)).toBe(PAGE_BYTES);
    expect(e.vm.purge(base, PAGE_BYTES)).toBe(PAGE_BYTES);  // page 0 of the filled chunk
    run(e, (o) => { o.free(p, OBJECTS_PER_PAGE); o.free(p, 0); });
    expect(resident(e, p)).toBe(CHUNK_BYTES);
    expect(resident(e, other)).toBe(0);
    expect(e.check()).toBe(0);
  });

  it('carving onto a purged page, and a realloc in place on one, make the page resident again', async () => {
    const e = await make();
    const p = e.createHeap('pool');
    const carved = OBJECTS_PER_PAGE / 2;                 // page 0 half carved
    run(e, (o) => { for (let i = 0; i < carved; i++) o.alloc(p, i, OBJECT_BYTES); });
    const base = e.blockOf(0).address;
    expect(resident(e, p)).toBe(PAGE_BYTES);
    expect(e.vm.purge(base, PAGE_BYTES)).toBe(PAGE_BYTES);
    expect(resident(e, p)).toBe(0);
    run(e, (o) => o.alloc(p, carved, OBJECT_BYTES));     // the next object, on the same page
    expect(e.blockOf(carved).address).toBe(base + carved * OBJECT_BYTES);
    expect(resident(e, p)).toBe(PAGE_BYTES);
    expect(e.vm.purge(base, PAGE_BYTES)).toBe(PAGE_BYTES);
    run(e, (o) => o.realloc(p, 3, OBJECT_BYTES - 1));    // same class: stays in place
    expect(e.blockOf(3).address).toBe(base + 3 * OBJECT_BYTES);
    expect(resident(e, p)).toBe(PAGE_BYTES);
    // With nothing purged since, carving the rest of the page and on into page 1 counts each page once.
    run(e, (o) => { for (let i = carved + 1; i <= OBJECTS_PER_PAGE; i++) o.alloc(p, i, OBJECT_BYTES); });
    expect(e.blockOf(OBJECTS_PER_PAGE).address).toBe(base + PAGE_BYTES);
    expect(resident(e, p)).toBe(2 * PAGE_BYTES);
    expect(e.check()).toBe(0);
  });
});
