// segregated skips the touch of a class block's header (a free's list link, a reuse) while no page
// anywhere stopped being resident except by the heap's own calls (segregated.ts headersResident, the
// VM's residency epoch). After the host purges a page, the free or the reuse of a block whose header
// lies on it must make the page resident again; the heap's own drops (a large block's release, a
// trim) keep the skip, and debug builds assert every skipped header resident.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { residentBytes as resident } from '../kit/resident-steps.js';

const PAGE_BYTES = 4096;
const HEADER_BYTES = 16;                       // textbook/geometry.ts: the block header before the user bytes
const REQUEST_BYTES = 40;                      // the 64-byte class
const BLOCK_BYTES = 64;
const BLOCKS_PER_PAGE = PAGE_BYTES / BLOCK_BYTES;
const BLOCKS = 4 * BLOCKS_PER_PAGE;
const LARGE_BYTES = 256 * 1024;                // above the largest class (64 KiB): a region of its own

function run(e: Engine, fill: (o: OpBuffer) => void): void {
  const o = new OpBuffer(BLOCKS + 8);
  fill(o);
  expect(e.apply(o).failedOps).toBe(0);
}
function headerPage(e: Engine, id: number): number { return Math.floor((e.blockOf(id).address - HEADER_BYTES) / PAGE_BYTES) * PAGE_BYTES; }

const builds = ['debug', 'release'] as const;

describe.each(builds)('segregated: headers on purged pages are touched again (%s build)', (build) => {
  it('a free or a reuse of a block whose header page was purged makes it resident again', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('segregated');
    run(e, (o) => { for (let id = 0; id < BLOCKS; id++) o.alloc(h, id, REQUEST_BYTES); });
    const full = resident(e, h);
    // The heap's own drops first: a large block released and a trim; then frees and reuses skip.
    run(e, (o) => { o.alloc(h, BLOCKS, LARGE_BYTES); o.free(h, BLOCKS); o.trim(h, 0); });
    run(e, (o) => { o.free(h, 5); o.alloc(h, BLOCKS + 1, REQUEST_BYTES); });
    expect(e.blockOf(BLOCKS + 1).address).toBe(e.blockOf(6).address - BLOCK_BYTES);
    expect(resident(e, h)).toBe(full);
    // Block 2 * BLOCKS_PER_PAGE + 3 freed, then its header's page purged: its reuse writes the header.
    const reused = 2 * BLOCKS_PER_PAGE + 3;
    const page = headerPage(e, reused);
    run(e, (o) => o.free(h, reused));
    expect(e.vm.purge(page, PAGE_BYTES)).toBe(PAGE_BYTES);
    expect(resident(e, h)).toBe(full - PAGE_BYTES);
    // An own drop after the purge must not make the heap trust its headers again.
    run(e, (o) => { o.alloc(h, BLOCKS + 3, LARGE_BYTES); o.free(h, BLOCKS + 3); });
    run(e, (o) => o.alloc(h, BLOCKS + 2, REQUEST_BYTES));
    expect(headerPage(e, BLOCKS + 2)).toBe(page);
    expect(e.vm.isResident(page)).toBe(true);
    expect(resident(e, h)).toBe(full);
    // A live block's free writes its list link into the header.
    const freed = 3 * BLOCKS_PER_PAGE + 9;
    const page3 = headerPage(e, freed);
    expect(e.vm.purge(page3, PAGE_BYTES)).toBe(PAGE_BYTES);
    run(e, (o) => o.free(h, freed));
    expect(e.vm.isResident(page3)).toBe(true);
    expect(resident(e, h)).toBe(full);
    expect(e.check()).toBe(0);
  });
});
