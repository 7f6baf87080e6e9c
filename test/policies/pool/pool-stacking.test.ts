// Heap layers: a pool taking its chunks from a first-fit heap (the seed's 1a over 1b/1c over 2).
import { describe, expect, it } from 'vitest';
import { type Engine, type HeapSample, type Sample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { CHUNK_BYTES, KiB, engine, run } from './pool-helpers.js';
import { EngineStatusError } from '../../../src/errors.js';
import { poolRetainedCause } from '../../../src/policies/pool/retained.js';


function layers(s: Sample, parent: number, pool: number): { ff: HeapSample; pool: HeapSample } {
  return { ff: s.heaps.find((x) => x.heap === parent)!, pool: s.heaps.find((x) => x.heap === pool)! };
}

function statusOf(fn: () => unknown): string | undefined {
  try { fn(); } catch (err) {
    if (err instanceof EngineStatusError) return err.message;
    throw err;
  }
  return undefined;
}

describe('pool over first-fit', () => {
  it('takes its chunks from the parent heap, and both layers count them', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    const p = e.createHeap('pool', { parent: ff });
    run(e, (o) => { for (let i = 0; i < 3000; i++) o.alloc(p, i, 16 + (i % 9) * 60); o.alloc(p, 5000, 20 * KiB); });
    const s = e.sample();
    const { ff: f, pool } = layers(s, ff, p);
    expect(pool.parent).toBe(ff);
    expect(f.parent).toBe(-1);
    const chunks = pool.policyCounters['chunks']!;
    expect(chunks).toBeGreaterThan(1);
    // The pool: what it holds from its parent.
    expect(pool.committedBytes).toBe(chunks * CHUNK_BYTES + 20 * KiB);
    expect(pool.reservedBytes).toBe(pool.committedBytes);
    expect(pool.busyBytes + pool.freeBytes).toBe(pool.committedBytes);
    // The parent: the pool's chunks and its pass-through block are busy blocks without ids.
    expect(f.liveBlocks).toBe(chunks + 1);
    expect(f.requestedBytes).toBe(pool.committedBytes);
    expect(f.busyBytes).toBeGreaterThanOrEqual(pool.committedBytes);
    expect(f.committedBytes).toBeGreaterThanOrEqual(f.busyBytes);
    expect(f.allocs).toBe(chunks + 1);
    expect(f.peakRequestedBytes).toBe(f.requestedBytes);
    // The VM sees only the parent's regions, in Heap usage.
    const regions = e.vm.walk().filter((r) => !r.free);
    expect(regions.every((r) => r.owner === ff)).toBe(true);
    expect(s.vm.committedBytes).toBe(f.committedBytes);
    // Object addresses lie inside the parent's committed pages.
    for (const id of [0, 1, 2999, 5000]) expect(e.vm.isCommitted(e.blockOf(id).address)).toBe(true);
  });

  it('keeps the parent\'s busy blocks after everything is freed: the parent cannot decommit them', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    const p = e.createHeap('pool', { parent: ff });
    const before = layers(e.sample(), ff, p);
    run(e, (o) => { for (let i = 0; i < 20000; i++) o.alloc(p, i, 24 + (i % 5) * 100); });
    const peak = layers(e.sample(), ff, p);
    run(e, (o) => { for (let i = 0; i < 20000; i++) o.free(p, i); o.trim(p); o.trim(ff); });
    const after = layers(e.sample(), ff, p);
    expect(before.ff.committedBytes).toBe(0);
    expect(after.pool.committedBytes).toBe(peak.pool.committedBytes);
    expect(after.ff.busyBytes).toBe(peak.ff.busyBytes);
    expect(after.ff.liveBlocks).toBe(peak.pool.policyCounters['chunks']);
    expect(after.ff.committedBytes).toBeGreaterThanOrEqual(after.pool.committedBytes);
    expect(after.pool.liveBlocks).toBe(0);
    expect(after.pool.requestedBytes).toBe(0);
    // The cause names the pool and the layer it sits on.
    const s = e.sample();
    const cause = poolRetainedCause(s.heaps.find((x) => x.heap === p)!, s)!;
    expect(cause.layer).toBe('pool');
    expect(cause.below).toEqual({ kind: 'heap', heap: ff, policy: 'first-fit' });
    expect(cause.bytes).toBe(peak.pool.policyCounters['objectBusyBytes']);
  });

  it('returns pass-through blocks to the parent, and resizes them there', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    const p = e.createHeap('pool', { parent: ff });
    run(e, (o) => o.alloc(p, 1, 10 * KiB));
    let l = layers(e.sample(), ff, p);
    expect(l.pool.virtualBytes).toBe(10 * KiB);
    expect(l.ff.requestedBytes).toBe(10 * KiB);
    run(e, (o) => o.realloc(p, 1, 30 * KiB));
    l = layers(e.sample(), ff, p);
    expect(l.pool.virtualBytes).toBe(30 * KiB);
    expect(l.ff.requestedBytes).toBe(30 * KiB);
    expect(l.ff.liveBlocks).toBe(1);
    run(e, (o) => o.alignedAlloc(p, 2, 100, 256));
    expect(e.blockOf(2).address % 256).toBe(0);
    run(e, (o) => { o.free(p, 1); o.free(p, 2); });
    l = layers(e.sample(), ff, p);
    expect(l.pool.committedBytes).toBe(0);
    expect(l.ff.requestedBytes).toBe(0);
    expect(l.ff.liveBlocks).toBe(0);
    expect(l.ff.frees).toBe(2);
  });

  it('counts the program\'s own blocks on the parent next to the pool\'s, and keeps ids apart', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    const p = e.createHeap('pool', { parent: ff });
    run(e, (o) => { o.alloc(ff, 1, 1000); o.alloc(p, 2, 100); o.alloc(ff, 3, 5000); });
    let l = layers(e.sample(), ff, p);
    expect(l.ff.requestedBytes).toBe(1000 + 5000 + CHUNK_BYTES);
    expect(l.ff.liveBlocks).toBe(3);
    expect(l.pool.liveBlocks).toBe(1);
    // An id belongs to one heap: freeing the pool's id on the parent is an unknown id, and nothing
    // the pool holds can be reached by id from the parent.
    const ops = new OpBuffer(4);
    ops.free(ff, 2);
    ops.realloc(ff, 2, 10);
    const r = e.apply(ops);
    expect(r.failedOps).toBe(2);
    expect(r.firstFailure!.status).toBe('UNKNOWN_ID');
    expect(e.check()).toBe(0);
    run(e, (o) => { o.free(ff, 1); o.free(ff, 3); });
    l = layers(e.sample(), ff, p);
    expect(l.ff.requestedBytes).toBe(CHUNK_BYTES);
    expect(l.ff.liveBlocks).toBe(1);
    expect(l.ff.peakRequestedBytes).toBe(1000 + 5000 + CHUNK_BYTES);
  });

  it('reports a parent that runs out as a failed op of the pool (and of the parent)', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    const p = e.createHeap('pool', { parent: ff, params: { chunkBytes: '256M', maxObjectBytes: '256M' } });
    const ops = new OpBuffer(16);
    for (let i = 0; i < 10; i++) ops.alloc(p, i, 200 * 1024 * 1024);
    const r = e.apply(ops);
    expect(r.failedOps).toBeGreaterThan(0);
    expect(r.firstFailure!.status).toBe('OUT_OF_MEMORY');
    expect(e.check()).toBe(0);
    const l = layers(e.sample(), ff, p);
    expect(l.pool.failedAllocs).toBe(r.failedOps);
    expect(l.ff.failedAllocs).toBe(r.failedOps);
  });

  it('stacks more than two layers: pool over pool over first-fit', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    const mid = e.createHeap('pool', { parent: ff, params: { maxObjectBytes: '16K', chunkBytes: '256K' } });
    const top = e.createHeap('pool', { parent: mid, params: { chunkBytes: '16K', maxObjectBytes: '1K' } });
    run(e, (o) => { for (let i = 0; i < 2000; i++) o.alloc(top, i, 40); });
    const s = e.sample();
    const t = s.heaps.find((x) => x.heap === top)!;
    const m = s.heaps.find((x) => x.heap === mid)!;
    const f = s.heaps.find((x) => x.heap === ff)!;
    // top's 16 KiB chunks are 16 KiB objects of mid; mid's 256 KiB chunks are blocks of first-fit.
    expect(m.liveBlocks).toBe(t.policyCounters['chunks']);
    expect(m.requestedBytes).toBe(t.committedBytes);
    expect(f.requestedBytes).toBe(m.committedBytes);
    expect(f.liveBlocks).toBe(m.policyCounters['chunks']);
    expect(statusOf(() => e.destroyHeap(mid))).toContain('HEAP_HAS_CHILDREN');
    e.destroyHeap(top);
    e.destroyHeap(mid);
    expect(e.check()).toBe(0);
    const after = e.sample().heaps.find((x) => x.heap === ff)!;
    expect(after.requestedBytes).toBe(0);
    expect(after.liveBlocks).toBe(0);
  });
});

describe('layer rules', () => {
  it('only stackable policies take a parent, and the parent must exist', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    expect(statusOf(() => e.createHeap('first-fit', { parent: ff }))).toContain('BAD_PARAM');
    expect(statusOf(() => e.createHeap('pool', { parent: 5 }))).toContain('BAD_HEAP');
    // The raw op, bypassing the host's own check: the engine refuses too.
    const ops = new OpBuffer(2);
    ops.heapCreate(3, 1, ff, 0, 0);
    ops.heapCreate(4, 3, 6, 0, 0);
    const r = e.apply(ops);
    expect(r.failedOps).toBe(2);
    expect(r.firstFailure!.status).toBe('BAD_PARAM');
    expect(e.sample().heaps.map((h) => h.heap)).toEqual([ff]);
    expect(e.check()).toBe(0);
  });

  it('refuses to destroy a parent with children; child first, then parent, gives everything back', async () => {
    const e = await engine();
    const ff = e.createHeap('first-fit');
    const p = e.createHeap('pool', { parent: ff });
    run(e, (o) => { for (let i = 0; i < 5000; i++) o.alloc(p, i, 64); o.alloc(p, 9999, 64 * KiB); o.alloc(ff, 10000, 100); });
    expect(statusOf(() => e.destroyHeap(ff))).toContain('HEAP_HAS_CHILDREN');
    expect(e.check()).toBe(0);
    e.destroyHeap(p);
    expect(e.check()).toBe(0);
    let f = e.sample().heaps.find((x) => x.heap === ff)!;
    expect(f.liveBlocks).toBe(1);
    expect(f.requestedBytes).toBe(100);
    expect(e.blockOf(0).address).toBe(0); // the pool's ids are gone
    e.destroyHeap(ff);
    expect(e.check()).toBe(0);
    const s = e.sample();
    expect(s.heaps).toHaveLength(0);
    expect(s.vm.committedBytes).toBe(0);
    expect(s.vm.reservedBytes).toBe(0);
    // Slots are reusable, and a new pool on a new parent starts from zero.
    const ff2 = e.createHeap('first-fit');
    const p2 = e.createHeap('pool', { parent: ff2 });
    run(e, (o) => o.alloc(p2, 1, 16));
    f = e.sample().heaps.find((x) => x.heap === ff2)!;
    expect(f.liveBlocks).toBe(1);
    expect(f.allocs).toBe(1);
  });

  it('destroys a pool on the VM with everything released', async () => {
    const e = await engine();
    const p = e.createHeap('pool');
    run(e, (o) => { for (let i = 0; i < 3000; i++) o.alloc(p, i, 300); o.alloc(p, 3000, 1 << 20); });
    e.destroyHeap(p);
    expect(e.check()).toBe(0);
    const s = e.sample();
    expect(s.vm.reservedBytes).toBe(0);
    expect(s.vm.regions).toBe(0);
  });
});
