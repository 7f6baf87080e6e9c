// Several jemalloc heaps in one engine are separate processes' jemallocs: each one's statistics
// are what it would show alone, destroying one gives its mappings back and leaves the other
// intact, and a heap created again in the same slot starts from the start state.
import { describe, it, expect } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { workload, statsOf, type PtOp } from './harness.js';

const PARAMS = { narenas: 1, tcache: 1, dirty_decay_ms: -1 };

function apply(engine: Engine, heap: number, ops: PtOp[], idBase: number): void {
  const buf = new OpBuffer(ops.length + 1);
  for (const o of ops) {
    if (o.op === 'm' || o.op === 'c') buf.alloc(heap, idBase + o.id, o.size);
    else if (o.op === 'a') buf.alignedAlloc(heap, idBase + o.id, o.size, o.align);
    else if (o.op === 'r') buf.realloc(heap, idBase + o.id, o.size);
    else if (o.op === 'f') buf.free(heap, idBase + o.id);
    else if (o.op === 't') buf.trim(heap, o.pad);
  }
  const r = engine.apply(buf);
  if (r.failedOps) throw new Error(JSON.stringify(r.firstFailure));
}

describe('jemalloc heaps side by side', () => {
  it('each heap shows what it would alone; destroy gives its mappings back; re-create starts afresh', async () => {
    const a = workload(21, { ops: 3000, maxLive: 400 });
    const b = workload(22, { ops: 3000, maxLive: 400, huge: 10 });
    const alone = async (ops: PtOp[]): Promise<ReturnType<typeof statsOf>> => {
      const e = await createEngine({ arch: 'x64' });
      e.createHeap('jemalloc', { params: PARAMS });
      apply(e, 0, ops, 0);
      return statsOf(e.sample(), 0);
    };
    const e = await createEngine({ arch: 'x64', build: 'debug' });
    e.createHeap('jemalloc', { params: PARAMS });
    e.createHeap('jemalloc', { params: PARAMS });
    for (let i = 0; i < 3000; i += 500) {           // interleaved in slices
      apply(e, 0, a.slice(i, i + 500), 0);
      apply(e, 1, b.slice(i, i + 500), 1_000_000);
      expect(e.check()).toBe(0);
    }
    expect(statsOf(e.sample(), 0)).toEqual(await alone(a));
    expect(statsOf(e.sample(), 1)).toEqual(await alone(b));

    const before = e.sample();
    e.destroyHeap(0);
    const after = e.sample();
    expect(after.heaps.find((h) => h.heap === 1)).toEqual(before.heaps.find((h) => h.heap === 1));
    expect(after.vm.reservedBytes).toBe(before.heaps.find((h) => h.heap === 1)!.reservedBytes);
    expect(e.check()).toBe(0);

    e.createHeap('jemalloc', { params: PARAMS }, 0);
    const fresh = await createEngine({ arch: 'x64' });
    fresh.createHeap('jemalloc', { params: PARAMS });
    expect(statsOf(e.sample(), 0)).toEqual(statsOf(fresh.sample(), 0));
    apply(e, 0, a, 0);
    expect(statsOf(e.sample(), 0)).toEqual(await alone(a));
    expect(e.check()).toBe(0);
  });
});
