// The `pool` policy on the VM: classes, LIFO reuse, chunks kept after a peak, pass-through,
// parameters, trim, the what-if release, and the diagnosis cause.
import { describe, expect, it } from 'vitest';
import { type Engine, type HeapSample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { CHUNK_BYTES, KiB, engine, run } from './pool-helpers.js';
import { UsageError } from '../../../src/errors.js';
import { POLICIES } from '../../../src/policies/registry.js';
import { poolClasses } from '../../../src/policies/pool/classes.js';
import type { EngineExports } from '../../../src/engine/load.js';
import { poolRetainedCause, POOL_RETAINED_MECHANISM } from '../../../src/policies/pool/retained.js';


function heapOf(e: Engine, h: number): HeapSample {
  return e.sample().heaps.find((x) => x.heap === h)!;
}

describe('pool: objects and size classes', () => {
  it('rounds requests up to power-of-two classes carved back to back from one chunk', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => { o.alloc(p, 1, 40); o.alloc(p, 2, 64); o.alloc(p, 3, 33); o.alloc(p, 4, 1); o.alloc(p, 5, 0); });
    // 40, 64, 33 → the 64-byte class; 1 and 0 → the 16-byte class.
    expect(e.blockOf(2).address - e.blockOf(1).address).toBe(64);
    expect(e.blockOf(3).address - e.blockOf(2).address).toBe(64);
    expect(e.blockOf(5).address - e.blockOf(4).address).toBe(16);
    const s = heapOf(e, p);
    expect(s.busyBytes).toBe(3 * 64 + 2 * 16);
    expect(s.requestedBytes).toBe(40 + 64 + 33 + 1);
    expect(s.policyCounters['chunks']).toBe(2);
    expect(s.segments).toBe(2);
    expect(s.committedBytes).toBe(2 * CHUNK_BYTES);
    expect(s.freeBytes).toBe(2 * CHUNK_BYTES - s.busyBytes); // uncarved tails
    expect(s.policyCounters['uncarvedBytes']).toBe(s.freeBytes);
    const classes = poolClasses(e, p);
    expect(classes.map((c) => c.objectBytes)).toEqual([16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
    expect(classes[0]).toEqual({ objectBytes: 16, chunks: 1, busyObjects: 2, freeObjects: 0, uncarvedObjects: 4094 });
    expect(classes[2]).toEqual({ objectBytes: 64, chunks: 1, busyObjects: 3, freeObjects: 0, uncarvedObjects: 1021 });
  });

  it('reuses freed objects last-in first-out before carving new ones', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => { for (let i = 1; i <= 4; i++) o.alloc(p, i, 100); });
    const a = [0, 1, 2, 3, 4].map((i) => e.blockOf(i).address);
    run(e, (o) => { o.free(p, 1); o.free(p, 3); o.free(p, 2); });
    run(e, (o) => { o.alloc(p, 10, 128); o.alloc(p, 11, 97); o.alloc(p, 12, 120); o.alloc(p, 13, 100); });
    expect(e.blockOf(10).address).toBe(a[2]); // freed last
    expect(e.blockOf(11).address).toBe(a[3]);
    expect(e.blockOf(12).address).toBe(a[1]); // freed first
    expect(e.blockOf(13).address).toBe(a[4]! + 128); // list empty: the next uncarved object
    const s = heapOf(e, p);
    expect(s.policyCounters['reusedObjects']).toBe(3);
    expect(s.policyCounters['carvedObjects']).toBe(5);
    expect(s.policyCounters['freeObjects']).toBe(0);
  });

  it('takes a new chunk only when the current one is fully carved', async () => {
    const e = await engine();
    const p = e.createHeap('pool', { params: { chunkBytes: '16K', maxObjectBytes: '1K' } });
    run(e, (o) => { for (let i = 0; i < 16; i++) o.alloc(p, i, 1024); });
    expect(heapOf(e, p).policyCounters['chunks']).toBe(1);
    run(e, (o) => o.alloc(p, 16, 1000));
    const s = heapOf(e, p);
    expect(s.policyCounters['chunks']).toBe(2);
    expect(s.committedBytes).toBe(2 * 16 * KiB);
    // On the VM a chunk is one reservation of its own, shown as <unknown> (not Heap) by !address.
    const regions = e.vm.walk().filter((r) => !r.free && r.owner === p);
    expect(regions).toHaveLength(2);
    for (const r of regions) {
      expect(r.sizeBytes).toBe(16 * KiB);
      expect(r.committedBytes).toBe(16 * KiB);
      expect(r.usage).toBe('other');
      expect(r.type).toBe('private');
    }
    expect(e.blockOf(16).address).toBe(regions[1]!.base);
  });

  it('keeps same-class reallocs in place and moves to another class otherwise', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => { o.alloc(p, 1, 100); o.alloc(p, 2, 100); });
    const a1 = e.blockOf(1).address;
    run(e, (o) => o.realloc(p, 1, 120));
    expect(e.blockOf(1).address).toBe(a1);
    run(e, (o) => o.realloc(p, 1, 300));
    expect(e.blockOf(1).address).not.toBe(a1);
    const s = heapOf(e, p);
    expect(s.requestedBytes).toBe(400);
    expect(s.busyBytes).toBe(128 + 512);
    expect(s.policyCounters['freeObjects']).toBe(1); // the old 128-byte object is on its list
    run(e, (o) => o.alloc(p, 3, 128));
    expect(e.blockOf(3).address).toBe(a1);
  });
});

describe('pool: memory is never given back (the seed\'s second example)', () => {
  it('keeps every chunk committed after all objects are freed, ignores trim, and reuses them', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    const N = 20000;
    const before = heapOf(e, p);
    expect(before.committedBytes).toBe(0);
    run(e, (o) => { for (let i = 0; i < N; i++) o.alloc(p, i, 24 + (i % 7) * 90); });
    const peak = heapOf(e, p);
    const vmPeak = e.sample().vm.committedBytes;
    run(e, (o) => { for (let i = 0; i < N; i++) o.free(p, i); o.trim(p); });
    const after = heapOf(e, p);
    expect(after.liveBlocks).toBe(0);
    expect(after.busyBytes).toBe(0);
    expect(after.committedBytes).toBe(peak.committedBytes);
    expect(after.committedBytes).toBe(after.policyCounters['chunks']! * CHUNK_BYTES);
    expect(after.peakCommittedBytes).toBe(peak.committedBytes);
    expect(after.segments).toBe(peak.segments);
    expect(e.sample().vm.committedBytes).toBe(vmPeak);
    expect(after.policyCounters['freeObjects']).toBe(N);
    expect(after.policyCounters['freeObjectBytes']).toBe(peak.policyCounters['objectBusyBytes']);
    expect(after.freeBytes).toBe(after.committedBytes);
    expect(after.policyCounters['ignoredTrims']).toBe(1);
    expect(after.policyCounters['releasedChunks']).toBe(0);
    // The same load again is served from the lists: no new chunk.
    run(e, (o) => { for (let i = 0; i < N; i++) o.alloc(p, i, 24 + (i % 7) * 90); });
    const again = heapOf(e, p);
    expect(again.policyCounters['chunks']).toBe(peak.policyCounters['chunks']);
    expect(again.policyCounters['reusedObjects']).toBe(N);
    expect(again.committedBytes).toBe(peak.committedBytes);
  });

  it('with releaseEmptyChunks=1 (what-if) gives every chunk back once it empties', async () => {
    const e = await engine();
    const p = e.createHeap('pool', { params: { releaseEmptyChunks: 1 } });
    const N = 5000;
    run(e, (o) => { for (let i = 0; i < N; i++) o.alloc(p, i, 24 + (i % 7) * 90); });
    const peak = heapOf(e, p);
    expect(peak.committedBytes).toBeGreaterThan(0);
    // Free every other object first: chunks keep live objects, so nothing is released yet.
    run(e, (o) => { for (let i = 0; i < N; i += 2) o.free(p, i); });
    expect(heapOf(e, p).policyCounters['releasedChunks']).toBe(0);
    run(e, (o) => { for (let i = 1; i < N; i += 2) o.free(p, i); });
    const after = heapOf(e, p);
    expect(after.committedBytes).toBe(0);
    expect(after.reservedBytes).toBe(0);
    expect(after.policyCounters['chunks']).toBe(0);
    expect(after.policyCounters['freeObjects']).toBe(0);
    expect(after.policyCounters['releasedChunks']).toBe(peak.policyCounters['chunks']);
    expect(after.policyCounters['peakChunks']).toBe(peak.policyCounters['chunks']);
  });
});

describe('pool: pass-through of big and strictly aligned requests', () => {
  it('sends requests above maxObjectBytes to the VM and returns them on free', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => { o.alloc(p, 1, 4097); o.alloc(p, 2, 100 * KiB); o.alloc(p, 3, 4096); });
    let s = heapOf(e, p);
    expect(s.virtualBlocks).toBe(2);
    expect(s.virtualBytes).toBe(8 * KiB + 100 * KiB);
    expect(s.policyCounters['chunks']).toBe(1); // the 4096-byte object
    expect(s.committedBytes).toBe(CHUNK_BYTES + 108 * KiB);
    expect(s.busyBytes).toBe(4096 + 108 * KiB);
    expect(e.blockOf(2).address % (64 * KiB)).toBe(0);
    run(e, (o) => { o.free(p, 1); o.free(p, 2); o.free(p, 3); });
    s = heapOf(e, p);
    expect(s.virtualBlocks).toBe(0);
    expect(s.committedBytes).toBe(CHUNK_BYTES); // only the chunk stays
    expect(e.vm.walk().filter((r) => !r.free && r.owner === p)).toHaveLength(1);
  });

  it('passes alignments above 8 bytes through and honours them', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => {
      o.alignedAlloc(p, 1, 100, 8);
      o.alignedAlloc(p, 2, 100, 64);
      o.alignedAlloc(p, 3, 5000, 256 * KiB);
    });
    const s = heapOf(e, p);
    expect(s.policyCounters['busyObjects']).toBe(1);
    expect(s.virtualBlocks).toBe(2);
    expect(e.blockOf(1).address % 8).toBe(0);
    expect(e.blockOf(2).address % 64).toBe(0);
    expect(e.blockOf(3).address % (256 * KiB)).toBe(0);
    // The 256 KiB alignment needed a larger reservation; only the block's pages are committed.
    expect(s.committedBytes).toBe(CHUNK_BYTES + 4 * KiB + 8 * KiB);
    expect(s.reservedBytes).toBe(CHUNK_BYTES + 4 * KiB + 8 * KiB + 256 * KiB - 64 * KiB);
    // A realloc keeps the alignment, even down to a small size.
    run(e, (o) => o.realloc(p, 3, 50 * KiB));
    expect(e.blockOf(3).address % (256 * KiB)).toBe(0);
    run(e, (o) => o.realloc(p, 2, 10));
    expect(e.blockOf(2).address % 64).toBe(0);
    expect(heapOf(e, p).virtualBlocks).toBe(2);
  });

  it('shrinks a pass-through block in place and grows it by moving', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => o.alloc(p, 1, 40 * KiB));
    const a = e.blockOf(1).address;
    run(e, (o) => o.realloc(p, 1, 10 * KiB));
    expect(e.blockOf(1).address).toBe(a);
    expect(heapOf(e, p).virtualBytes).toBe(12 * KiB);
    expect(e.vm.isCommitted(a + 12 * KiB)).toBe(false);
    run(e, (o) => o.realloc(p, 1, 12 * KiB));
    expect(e.blockOf(1).address).toBe(a);
    run(e, (o) => o.realloc(p, 1, 200 * KiB));
    expect(heapOf(e, p).virtualBytes).toBe(200 * KiB);
    run(e, (o) => o.realloc(p, 1, 100)); // back into a class
    const s = heapOf(e, p);
    expect(s.virtualBlocks).toBe(0);
    expect(s.policyCounters['busyObjects']).toBe(1);
  });

  it('reports a request the layer below cannot meet as a failed op, not a trap', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    const ops = new OpBuffer(4);
    ops.alloc(p, 1, 3 * 1024 * 1024 * 1024);
    ops.alloc(p, 2, 2 ** 52);
    ops.alloc(p, 3, 16);
    const r = e.apply(ops);
    expect(r.failedOps).toBe(2);
    expect(r.firstFailure).toEqual({ op: 0, status: 'OUT_OF_MEMORY' });
    expect(e.check()).toBe(0);
    const s = heapOf(e, p);
    expect(s.failedAllocs).toBe(2);
    expect(s.liveBlocks).toBe(1);
  });

  it('fails an object alloc cleanly when the address space is exhausted', async () => {
    const e = await engine();
    const p = e.createHeap('pool', { params: { chunkBytes: '256M', maxObjectBytes: '256M' } });
    const ops = new OpBuffer(16);
    for (let i = 0; i < 10; i++) ops.alloc(p, i, 200 * 1024 * 1024);
    const r = e.apply(ops);
    expect(r.failedOps).toBeGreaterThan(0);
    expect(r.firstFailure!.status).toBe('OUT_OF_MEMORY');
    expect(e.check()).toBe(0);
    const s = heapOf(e, p);
    expect(s.committedBytes).toBe(s.policyCounters['chunks']! * 256 * 1024 * 1024);
  });
});

describe('pool: parameters', () => {
  const bad: Record<string, number>[] = [
    { minObjectBytes: 12 }, { minObjectBytes: 4 }, { maxObjectBytes: 8 }, { maxObjectBytes: 3000 },
    { chunkBytes: 5000 }, { chunkBytes: 2048, maxObjectBytes: 4096 }, { chunkBytes: 512 * 1024 * 1024 },
    { chunkBytes: 12 * KiB, maxObjectBytes: 8 * KiB }, { releaseEmptyChunks: 2 }, { minObjectBytes: 16.5 },
  ];

  it('rejects out-of-range values on the host with a message naming the parameter', async () => {
    const e = await engine();
    for (const params of bad) {
      let err: unknown;
      try { e.createHeap('pool', { params }); } catch (x) { err = x; }
      expect(err, JSON.stringify(params)).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain(Object.keys(params).at(-1)!);
    }
    expect(e.sample().heaps).toHaveLength(0);
  });

  it('rejects the same values in the engine with BAD_PARAM (raw HEAP_CREATE) and creates nothing', async () => {
    const e = await engine();
    const spec = POLICIES['pool']!;
    const x = (e as unknown as { x: EngineExports }).x;
    for (const params of bad) {
      const view = new Float64Array(x.memory.buffer, x.paramsPtr(), x.paramSlots());
      view.fill(NaN);
      for (const [name, v] of Object.entries(params)) view[spec.params.find((p) => p.name === name)!.slot] = v;
      const ops = new OpBuffer(1);
      ops.heapCreate(0, spec.id, -1, 0, spec.params.length);
      const r = e.apply(ops);
      expect(r.firstFailure, JSON.stringify(params)).toEqual({ op: 0, status: 'BAD_PARAM' });
    }
    expect(e.sample().heaps).toHaveLength(0);
    expect(e.check()).toBe(0);
  });

  it('accepts a single-class pool', async () => {
    const e = await engine();
    const h = e.createHeap('pool', { params: { minObjectBytes: 64, maxObjectBytes: 64, chunkBytes: '4K' } });
    expect(poolClasses(e, h).map((c) => c.objectBytes)).toEqual([64]);
    run(e, (o) => { o.alloc(h, 1, 1); o.alloc(h, 2, 65); });
    expect(heapOf(e, h).virtualBlocks).toBe(1);
    expect(heapOf(e, h).policyCounters['busyObjects']).toBe(1);
  });
});

describe('pool: diagnosis cause', () => {
  it('names the pool layer and the bytes kept on its lists', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => { for (let i = 0; i < 1000; i++) o.alloc(p, i, 200); });
    run(e, (o) => { for (let i = 0; i < 1000; i += 2) o.free(p, i); });
    const sample = e.sample();
    const cause = poolRetainedCause(sample.heaps[0]!, sample)!;
    expect(cause.mechanism).toBe(POOL_RETAINED_MECHANISM);
    expect(cause.mechanism).toBe('retained by pool (freed objects kept on pool lists)');
    expect(cause.layer).toBe('pool');
    expect(cause.bytes).toBe(500 * 256);
    expect(cause.freeObjects).toBe(500);
    expect(cause.below).toEqual({ kind: 'vm' });
    expect(cause.heldBytes).toBe(cause.chunks * CHUNK_BYTES);
    expect(cause.bytes + cause.uncarvedBytes + cause.busyBytes).toBe(cause.heldBytes);
    const ff = e.createHeap('first-fit');
    expect(poolRetainedCause(e.sample().heaps.find((x) => x.heap === ff)!)).toBeUndefined();
  });
});
