import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const KiB = 1024;
const PAGE = 4096;

async function heap(params: Record<string, string | number> = {}): Promise<{ e: Engine; run: (f: (o: OpBuffer) => void) => void }> {
  const e = await createEngine({ arch: 'x86', build: 'debug' });
  const h = e.createHeap('first-fit', { params });
  expect(h).toBe(0);
  return {
    e,
    run: (f) => {
      const o = new OpBuffer(1024);
      f(o);
      const r = e.apply(o);
      expect(r.failedOps).toBe(0);
      expect(e.check()).toBe(0);
    },
  };
}
const H = 0;
const heap0 = (e: Engine) => e.sample().heaps[0]!;

describe('first-fit', () => {
  it('picks the lowest-address free block that fits', async () => {
    const { e, run } = await heap();
    run((o) => { o.alloc(H, 0, 1000); o.alloc(H, 1, 1000); o.alloc(H, 2, 1000); o.alloc(H, 3, 1000); });
    const a0 = e.blockOf(0).address, a2 = e.blockOf(2).address;
    run((o) => { o.free(H, 2); o.free(H, 0); o.alloc(H, 4, 900); });
    expect(e.blockOf(4).address).toBe(a0);
    run((o) => o.alloc(H, 5, 900));
    expect(e.blockOf(5).address).toBe(a2);
  });

  it('splits a free block and coalesces with both neighbours on free', async () => {
    const { e, run } = await heap();
    run((o) => { for (let i = 0; i < 5; i++) o.alloc(H, i, 500); });
    const blocksAfterSplit = heap0(e).freeBlocks;
    expect(blocksAfterSplit).toBe(1); // the segment's committed rest
    run((o) => { o.free(H, 1); o.free(H, 3); });
    expect(heap0(e).freeBlocks).toBe(3);
    run((o) => o.free(H, 2));
    expect(heap0(e).freeBlocks).toBe(2); // 1+2+3 merged
    run((o) => o.free(H, 4));
    expect(heap0(e).freeBlocks).toBe(1); // merged with the rest of the segment
  });

  it('decommits whole free pages only when the block and the heap free total reach the thresholds', async () => {
    const { e, run } = await heap({ decommitBlockBytes: '64K', decommitTotalBytes: 0, segmentCommitBytes: '1M', segmentReserveBytes: '4M' });
    // Below the block threshold: a 60 KiB hole between live blocks stays committed.
    run((o) => { o.alloc(H, 0, 100); o.alloc(H, 1, 60 * KiB); o.alloc(H, 2, 100); });
    const committed = heap0(e).committedBytes;
    run((o) => o.free(H, 1));
    expect(heap0(e).committedBytes).toBe(committed);
    expect(heap0(e).uncommittedRanges).toBe(1); // only the segment tail
    // At the threshold: a 100 KiB hole loses its whole pages and becomes an uncommitted range.
    run((o) => { o.alloc(H, 3, 100 * KiB); o.alloc(H, 4, 70 * KiB); }); // 4 does not fit the 60 KiB hole
    const c2 = heap0(e).committedBytes;
    run((o) => o.free(H, 3));
    const s = heap0(e);
    expect(s.uncommittedRanges).toBe(2);
    expect(c2 - s.committedBytes).toBeGreaterThanOrEqual(100 * KiB - 2 * PAGE);
    expect((c2 - s.committedBytes) % PAGE).toBe(0);
    expect(s.policyCounters.decommits).toBe(1);
  });

  it('keeps a big free block committed while the heap holds less free memory than decommitTotalBytes', async () => {
    const { e, run } = await heap({ decommitBlockBytes: '64K', decommitTotalBytes: '1M', segmentCommitBytes: '1M', segmentReserveBytes: '4M' });
    run((o) => { o.alloc(H, 0, 100); o.alloc(H, 1, 100 * KiB); o.alloc(H, 2, 100); o.alloc(H, 9, 800 * KiB - 200 * KiB); });
    run((o) => o.free(H, 1));
    expect(heap0(e).policyCounters.decommits).toBe(0);
    run((o) => o.trim(H));
    expect(heap0(e).policyCounters.trimmedBytes).toBeGreaterThan(90 * KiB);
  });

  it('gives blocks at or above largeBlockBytes their own reservation and releases it on free', async () => {
    const { e, run } = await heap();
    run((o) => o.alloc(H, 0, 100));
    const reserved = heap0(e).reservedBytes;
    run((o) => o.alloc(H, 1, 600 * KiB));
    let s = heap0(e);
    expect(s.virtualBlocks).toBe(1);
    expect(s.reservedBytes - reserved).toBe(Math.ceil((600 * KiB + 16) / PAGE) * PAGE);
    run((o) => o.free(H, 1));
    s = heap0(e);
    expect(s.virtualBlocks).toBe(0);
    expect(s.reservedBytes).toBe(reserved);
  });

  it('grows a block in place into a free successor and shrinks in place', async () => {
    const { e, run } = await heap();
    run((o) => { o.alloc(H, 0, 1000); o.alloc(H, 1, 4000); o.alloc(H, 2, 100); o.free(H, 1); });
    const a = e.blockOf(0).address;
    run((o) => o.realloc(H, 0, 3000));
    expect(e.blockOf(0).address).toBe(a);
    run((o) => o.realloc(H, 0, 200));
    expect(e.blockOf(0)).toEqual({ address: a, requestedBytes: 200 });
    run((o) => o.realloc(H, 0, 20000));
    expect(e.blockOf(0).address).not.toBe(a);
  });

  it('searches segments in address order when a new segment lands below an older one', async () => {
    const { e, run } = await heap({ segmentReserveBytes: '64K', segmentCommitBytes: '4K', largeBlockBytes: '32K' });
    // A large block takes the lowest free range and the first segment goes above it; releasing the
    // large block leaves a hole below the segment, where the second segment then goes.
    run((o) => { o.alloc(H, 0, 300 * KiB); o.alloc(H, 1, 1000); });
    const first = e.blockOf(1).address;
    expect(e.blockOf(0).address).toBeLessThan(first);
    run((o) => o.free(H, 0));
    run((o) => { for (let i = 2; i < 80; i++) o.alloc(H, i, 1000); });
    expect(heap0(e).segments).toBe(2);
    expect(e.blockOf(79).address).toBeLessThan(first);
    // A hole in the older, higher segment loses to the free rest of the newer, lower one.
    run((o) => o.free(H, 5));
    run((o) => o.alloc(H, 100, 1000));
    expect(e.blockOf(100).address).toBeLessThan(first);
  });

  it('moves each segment\'s largest free block with it when a new segment lands below an older one with free room', async () => {
    // The segments' maxima sit in their own arrays in address order (ixFirstFit scans them): a
    // segment added below shifts the older ones' entries up. The older segment holds a 20 KiB hole
    // when a 30 KiB request, which fits nowhere, adds a segment in the released range below it.
    const { e, run } = await heap({ segmentReserveBytes: '64K', segmentCommitBytes: '4K', largeBlockBytes: '32K' });
    run((o) => { o.alloc(H, 0, 300 * KiB); o.alloc(H, 1, 1000); });
    run((o) => { o.alloc(H, 2, 20 * KiB); o.alloc(H, 3, 30 * KiB); o.alloc(H, 4, 1000); });
    run((o) => { o.free(H, 2); o.free(H, 0); });
    const hole = heap0(e).largestFreeBytes;
    expect(hole).toBeGreaterThanOrEqual(20 * KiB);
    run((o) => o.alloc(H, 5, 30 * KiB));   // run() checks the index (ffCheck F4: each maximum bounds its segment)
    expect(heap0(e).segments).toBe(2);
    expect(e.blockOf(5).address).toBeLessThan(e.blockOf(1).address);
    // Once the lower segment's room is used up, the older segment's hole takes one 19 KiB block.
    run((o) => { for (let i = 6; i < 40; i++) o.alloc(H, i, 19 * KiB); });
    const inHole = Array.from({ length: 34 }, (_, k) => e.blockOf(6 + k).address)
      .filter((a) => a > e.blockOf(1).address && a < e.blockOf(3).address);
    expect(inHole.length).toBe(1);
  });

  it('keeps bucket lists and maxima exact when a carve leaves the free rest in its 4 KiB bucket or the next', async () => {
    // ffAlloc cuts the found block's front in place when the rest still starts in the block's bucket
    // (cutFreeFront), else through ixCutFront. run() checks the index after every op (ffCheck F4:
    // each block listed in the bucket of its first byte, each bucket maximum equal to a recount).
    const { e, run } = await heap();
    for (let i = 0; i < 12; i++) run((o) => o.alloc(H, i, 1500)); // 1520-byte blocks: the rest crosses buckets
    const a2 = e.blockOf(2).address;
    // Two free 1520-byte blocks start in the first bucket (at 0 and 3040): cutting the lower one,
    // the bucket's maximum, leaves the other as the maximum (a recount, not the cut rest's size).
    run((o) => { o.free(H, 0); o.free(H, 2); });
    run((o) => o.alloc(H, 20, 500));
    expect(e.blockOf(20).address).toBe(e.blockOf(1).address - 1520);
    // The cut rest (992 bytes) is too small for 1200: the next block in the bucket takes it.
    run((o) => o.alloc(H, 21, 1200));
    expect(e.blockOf(21).address).toBe(a2);
    expect(heap0(e).largestFreeBytes).toBeGreaterThan(1520);
  });

  it('rejects bad parameters with a status, not a trap', async () => {
    const e = await createEngine({ build: 'debug' });
    expect(() => e.createHeap('first-fit', { params: { segmentCommitBytes: '8M' } })).toThrow(/BAD_PARAM/);
    expect(() => e.createHeap('first-fit', { params: { nope: 1 } })).toThrow(/no parameter 'nope'/);
    expect(e.createHeap('first-fit')).toBe(0);
  });
});
