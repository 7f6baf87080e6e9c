// first-fit's search hints (first-fit.ts "search hints"): a small request starts its search at
// its size's hint instead of the index's root. The hints may never skip a block that fits, so this
// test holds every placement to a plain model of address-ordered first fit: one segment large
// enough that its index has four levels (the hinted search climbs and descends through them), no
// decommit (the free space is then the free blocks and the uncommitted rest of the segment, which
// behaves as one free block at the end), small and larger requests mixed, random frees between
// them, and the invariants (ffCheck, with its hint check F4) after every batch.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { makeWorkload } from '../../../src/workload/index.js';

const HEADER_BYTES = 16;
const GRANULE_BYTES = 16;
const MIN_BLOCK_BYTES = 32;
const SEGMENT_BYTES = 64 * 1024 * 1024;   // 16,384 free buckets of 4 KiB: a four-level index
const NO_DECOMMIT_BYTES = 0xFFFFFFFF;      // the heap never holds this much free, so nothing is decommitted

const blockBytes = (n: number): number => Math.max(MIN_BLOCK_BYTES, Math.ceil((Math.max(n, 1) + HEADER_BYTES) / GRANULE_BYTES) * GRANULE_BYTES);

/** Address-ordered first fit over [0, size): free ranges sorted by start, merged on free. */
class FirstFitModel {
  private free: Array<[number, number]>;
  constructor(size: number) { this.free = [[0, size]]; }
  /** Offset and size of the block for a request of `need` bytes. */
  alloc(need: number): [number, number] {
    const k = this.free.findIndex(([, s]) => s >= need);
    if (k < 0) throw new Error('model out of space');
    const [a, s] = this.free[k]!;
    if (s - need >= MIN_BLOCK_BYTES) { this.free[k] = [a + need, s - need]; return [a, need]; }
    this.free.splice(k, 1);
    return [a, s];
  }
  release(a: number, s: number): void {
    let k = 0;
    while (k < this.free.length && this.free[k]![0] < a) k++;
    this.free.splice(k, 0, [a, s]);
    const next = this.free[k + 1];
    if (next && a + s === next[0]) { this.free[k] = [a, s + next[1]]; this.free.splice(k + 1, 1); }
    const prev = this.free[k - 1];
    if (prev && prev[0] + prev[1] === a) { prev[1] += this.free[k]![1]; this.free.splice(k, 1); }
  }
}

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
}

describe('first-fit search hints', () => {
  it('place every block where address-ordered first fit puts it (a four-level index, small and larger requests)', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('first-fit', {
      params: { segmentReserveBytes: SEGMENT_BYTES, decommitTotalBytes: NO_DECOMMIT_BYTES },
    });
    const rnd = xorshift(16);
    const model = new FirstFitModel(SEGMENT_BYTES);
    const live = new Map<number, [number, number]>();   // id -> model [offset, size]
    const ids: number[] = [];
    let base = -1;
    let nextId = 0;
    // Small requests (up to 8 granules: hinted), some a few KiB (not hinted), now and then a
    // larger one that leaves a hole far ahead when it is freed.
    const size = (): number => {
      const r = rnd();
      if (r < 0.8) return Math.floor(rnd() * 112);
      if (r < 0.97) return 113 + Math.floor(rnd() * 4000);
      return 4096 + Math.floor(rnd() * 60000);
    };
    for (let batch = 0; batch < 120; batch++) {
      const ops = new OpBuffer(256);
      const placed: Array<[number, number]> = [];   // id, model offset
      // Grow for the first batches (the heap spreads over several MiB), then hold steady.
      const allocShare = batch < 40 ? 0.8 : 0.5;
      for (let i = 0; i < 200; i++) {
        if (ids.length && rnd() >= allocShare) {
          const k = Math.floor(rnd() * ids.length);
          const id = ids[k]!;
          ids[k] = ids[ids.length - 1]!;
          ids.pop();
          const [a, s] = live.get(id)!;
          model.release(a, s);
          live.delete(id);
          ops.free(h, id);
        } else {
          const n = size();
          const id = nextId++;
          const block = model.alloc(blockBytes(n));
          live.set(id, block);
          ids.push(id);
          placed.push([id, block[0]]);
          ops.alloc(h, id, n);
        }
      }
      const r = e.apply(ops);
      expect(r.failedOps).toBe(0);
      expect(e.check()).toBe(0);
      for (const [id, offset] of placed) {
        if (!live.has(id)) continue;   // freed later in the same batch
        const address = e.blockOf(id).address - HEADER_BYTES;
        if (base < 0) base = address - offset;
        expect(address - base, `block ${id} in batch ${batch}`).toBe(offset);
      }
    }
  });

  it('keep every invariant through peak-hour (several segments, decommits, reallocs), checked after every batch', async () => {
    // The hinted search descends from an ancestor's node and may find a segment's rest empty; the
    // bounds it may lower then stop at the levels it scanned from their node's start (F4 checks
    // that every bound stays at least each entry below it, and the hints themselves).
    const e = await createEngine({ arch: 'x86', build: 'debug' });
    e.createHeap('first-fit', {}, 0);
    let batches = 0;
    for await (const ops of makeWorkload('peak-hour').batches()) {
      const r = e.apply(ops);
      expect(r.failedOps).toBe(0);
      expect(e.check(), `after batch ${batches}`).toBe(0);
      batches++;
    }
    expect(batches).toBeGreaterThan(0);
  });
});
