// The tcmalloc policy inside the engine, without the oracle: requests it cannot meet fail cleanly,
// heaps are independent simulated processes, destroy gives every region back, runs are repeatable.
import { describe, it, expect } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import type { EngineExports } from '../../../src/engine/load.js';
import { getPolicy } from '../../../src/policies/registry.js';
import { workload, runSim, propsOf, TCMALLOC_PROPERTY_NAMES } from './harness.js';

const KiB = 1024;

describe('tcmalloc in the engine', () => {
  it('fails impossible requests without corrupting the heap', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const h = e.createHeap('tcmalloc');
    const ops = new OpBuffer(64);
    ops.alloc(h, 1, 2 ** 52);            // more pages than the model keeps in a span
    ops.alloc(h, 2, 2 ** 46);            // more than the address space left
    ops.alloc(h, 3, 100);
    ops.alignedAlloc(h, 4, 5000, 1 << 20); // 1 MiB alignment: page-level, split
    ops.realloc(h, 3, 0);                // kept alive by the engine: the smallest class
    ops.calloc(h, 5, 0);
    const r = e.apply(ops);
    expect(r.failedOps).toBe(2);
    expect(e.check()).toBe(0);
    expect(Number(e.blockOf(4).address) % (1 << 20)).toBe(0);
    const s = propsOf(e.sample(), h);
    expect(s['generic.current_allocated_bytes']).toBe(73752 + 8 + 8 * KiB + 8);
  });

  it('refuses parameters tcmalloc would not accept, on the host and in the engine', async () => {
    const e = await createEngine({ arch: 'x64' });
    expect(() => e.createHeap('tcmalloc', { params: { aggressive_decommit: 2 } })).toThrow(/aggressive_decommit 2 must be 0 or 1/);
    const x = e.raw as EngineExports;
    const slots = new Float64Array(x.memory.buffer, x.paramsPtr(), x.paramSlots());
    slots.fill(NaN);
    slots[1] = 2;
    const ops = new OpBuffer(1);
    ops.heapCreate(0, getPolicy('tcmalloc').id, -1, 0, 3);
    expect(e.apply(ops).firstFailure?.status).toBe('BAD_PARAM');
  });

  it('keeps two heaps apart and gives every region back on destroy', async () => {
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    const a = e.createHeap('tcmalloc');
    const b = e.createHeap('tcmalloc', { params: { aggressive_decommit: 1 } });
    const ops = new OpBuffer(20000);
    for (const [i, op] of workload(3, { ops: 4000, maxLive: 1000, trim: 0 }).entries()) {
      for (const h of [a, b]) {
        const id = op.op === 'p' || op.op === 't' ? 0 : op.id * 2 + h;
        if (op.op === 'm') ops.alloc(h, id, op.size);
        else if (op.op === 'c') ops.calloc(h, id, op.size);
        else if (op.op === 'a') ops.alignedAlloc(h, id, op.size, op.align);
        else if (op.op === 'r') ops.realloc(h, id, op.size);
        else if (op.op === 'f') ops.free(h, id);
      }
      if (i % 1000 === 999) { expect(e.apply(ops).failedOps).toBe(0); ops.clear(); expect(e.check()).toBe(0); }
    }
    e.apply(ops);
    const s = e.sample();
    const pa = propsOf(s, a), pb = propsOf(s, b);
    expect(pa['generic.current_allocated_bytes']).toBe(pb['generic.current_allocated_bytes']);
    expect(pb['tcmalloc.pageheap_free_bytes']).toBe(0);
    expect(pa['tcmalloc.pageheap_unmapped_bytes']).toBe(0);
    e.destroyHeap(a);
    e.destroyHeap(b);
    expect(e.sample().vm.reservedBytes).toBe(0);
    // A heap made again at the same index starts from the same state.
    const c = e.createHeap('tcmalloc');
    expect(propsOf(e.sample(), c)['generic.heap_size']).toBe(1024 * KiB);
    expect(e.check()).toBe(0);
  });

  it('gives the same statistics for the same calls, run after run', async () => {
    const ops = workload(9, { ops: 5000 });
    const one = await runSim(ops, { every: 250 });
    const two = await runSim(ops, { every: 250 });
    expect(two.checkpoints).toEqual(one.checkpoints);
    expect(TCMALLOC_PROPERTY_NAMES.length).toBe(8);
  });
});
