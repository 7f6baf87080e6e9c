// segregated's 12-byte block record (segregated.ts): a class block's bytes come from its class,
// a large block's from its own VM reservation, and the heap's index lives in the flags. Checked
// where a mistake would show: the heap's bits on every block of a heap other than 0 (check() G1-G3
// after a batch that carves, frees, reuses and reallocs), the copy a realloc makes, whose length is
// the old block's bytes (the pages the copy writes are resident), and destroy, which finds a heap's
// class blocks by the heap's bits in the record table: it drops every one of them (their records
// are handed out again) and no other heap's (that heap's blocks still tile its segments, G1). The
// record keeps a block's address in 43 bits (granules) under its flags: blocks at the top of the
// x64 address space keep their addresses, flags and the segments' tiling.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const PAGE_BYTES = 4096;
const HEADER_BYTES = 16;             // segregated's block header (textbook/geometry.ts)
const LARGE_REQUEST_BYTES = 100_000; // above the largest class (64 KiB): a large block
const BLOCKS = 200;
const FIRST_TABLE_RECORDS = 4096;    // segregated's record table before it first doubles (no hint)
const RECORD_BYTES = 12;
const HIGH_ADDRESS = 2 ** 46;       // the top bit of a record's 43-bit address (16-byte granules)

const builds = ['debug', 'release'] as const;

describe.each(builds)('segregated block records (%s build)', (build) => {
  it('blocks of heaps 1 and 2 keep their heap through carve, free, reuse, realloc and large blocks', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const heaps = [e.createHeap('segregated', {}, 1), e.createHeap('segregated', {}, 2)];
    const ops = new OpBuffer(8 * BLOCKS);
    for (const [k, h] of heaps.entries()) {
      const id0 = k * 10 * BLOCKS;
      for (let i = 0; i < BLOCKS; i++) ops.alloc(h, id0 + i, i % 3 === 0 ? LARGE_REQUEST_BYTES : 24 + 40 * (i % 5));
      for (let i = 0; i < BLOCKS; i += 2) ops.free(h, id0 + i);
      for (let i = 0; i < BLOCKS; i += 2) ops.alloc(h, id0 + BLOCKS + i, 24 + 40 * (i % 5));    // reused from the lists
      for (let i = 1; i < BLOCKS; i += 4) ops.realloc(h, id0 + i, 300 + 10 * i);
    }
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    ops.clear();
    for (const [k, h] of heaps.entries()) for (let i = 0; i < BLOCKS; i += 2) ops.free(h, k * 10 * BLOCKS + BLOCKS + i);
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
  });

  it('a realloc of a large block copies the old block\'s bytes into the new one', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('segregated');
    const ops = new OpBuffer(4);
    ops.alloc(h, 1, LARGE_REQUEST_BYTES);
    expect(e.apply(ops).failedOps).toBe(0);
    const oldBlockBytes = Math.ceil((LARGE_REQUEST_BYTES + HEADER_BYTES) / PAGE_BYTES) * PAGE_BYTES;
    ops.clear();
    ops.realloc(h, 1, 3 * LARGE_REQUEST_BYTES);
    expect(e.apply(ops).failedOps).toBe(0);
    // The old block is released; the new one has its header and the copy of the old user bytes written.
    const b = e.blockOf(1);
    const copyEnd = b.address + oldBlockBytes - HEADER_BYTES;
    const pages = Math.ceil(copyEnd / PAGE_BYTES) - Math.floor((b.address - HEADER_BYTES) / PAGE_BYTES);
    expect(e.sample().heaps.find((x) => x.heap === h)!.residentBytes).toBe(pages * PAGE_BYTES);
    expect(e.check()).toBe(0);
  });

  it('destroy drops every class block record of the heap and none of another heap', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const blocks = 1500;   // two heaps' worth fit the first table; three do not
    const ops = new OpBuffer(4 * blocks);
    const fill = (h: number, id0: number) => {
      ops.clear();
      for (let i = 0; i < blocks; i++) ops.alloc(h, id0 + i, i % 100 === 0 ? LARGE_REQUEST_BYTES : 24 + 40 * (i % 7));
      for (let i = 0; i < blocks; i += 3) ops.free(h, id0 + i);
      expect(e.apply(ops).failedOps).toBe(0);
    };
    const tableBytes = () => e.engineTableBytes().policies.segregated.tableBytes;
    const h1 = e.createHeap('segregated', {}, 1);
    const h2 = e.createHeap('segregated', {}, 2);
    fill(h1, 0);
    fill(h2, 10_000);
    expect(e.check()).toBe(0);
    expect(tableBytes()).toBe(FIRST_TABLE_RECORDS * RECORD_BYTES);
    e.destroyHeap(h1);
    expect(e.check()).toBe(0);   // heap 2's blocks still tile its segments
    e.createHeap('segregated', {}, 1);
    fill(h1, 20_000);            // takes the dropped records again: the table does not grow
    expect(e.check()).toBe(0);
    expect(tableBytes()).toBe(FIRST_TABLE_RECORDS * RECORD_BYTES);
    e.destroyHeap(h2);
    e.destroyHeap(h1);
    e.createHeap('segregated', {}, 3);
    fill(3, 30_000);
    fill(3, 40_000);
    expect(e.check()).toBe(0);
    expect(tableBytes()).toBe(FIRST_TABLE_RECORDS * RECORD_BYTES);
  });

  it('blocks above 2^46 keep their addresses: large blocks, and class blocks of a segment up there', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('segregated');
    const ops = new OpBuffer(256);
    // Two huge large blocks fill the low half of the address space and more: what comes next lies above 2^46.
    ops.alloc(h, 1, HIGH_ADDRESS - 2 * PAGE_BYTES);
    ops.alloc(h, 2, HIGH_ADDRESS / 4);
    expect(e.apply(ops).failedOps).toBe(0);
    const classBlocks = 80;         // 80 blocks of the 32 KiB class: more than the first 1 MiB segment holds
    const classRequest = 20_000;
    ops.clear();
    for (let i = 0; i < classBlocks; i++) ops.alloc(h, 100 + i, classRequest);
    ops.alloc(h, 3, LARGE_REQUEST_BYTES);
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    const addresses = Array.from({ length: classBlocks }, (_, i) => e.blockOf(100 + i).address);
    const high = addresses.filter((a) => a >= HIGH_ADDRESS);
    expect(high.length).toBeGreaterThan(0);
    expect(e.blockOf(2).address).toBeGreaterThanOrEqual(HIGH_ADDRESS);
    expect(e.blockOf(3).address).toBeGreaterThanOrEqual(HIGH_ADDRESS);
    expect(new Set(addresses).size).toBe(classBlocks);
    // Freed and taken again from the class list (LIFO): the same addresses come back, the flags kept apart.
    ops.clear();
    for (let i = 0; i < classBlocks; i += 2) ops.free(h, 100 + i);
    ops.free(h, 2);
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    ops.clear();
    for (let i = classBlocks - 2; i >= 0; i -= 2) ops.alloc(h, 1000 + i, classRequest);
    ops.realloc(h, 3, 2 * LARGE_REQUEST_BYTES);
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    for (let i = 0; i < classBlocks; i += 2) expect(e.blockOf(1000 + i).address).toBe(addresses[i]);
    expect(e.blockOf(3).address).toBeGreaterThanOrEqual(HIGH_ADDRESS);
  });
});
