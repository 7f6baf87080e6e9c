// The model's entry to every call remembers the heap and thread it last served (enter() in
// assembly/policies/ptmalloc/ptmalloc.ts) and forgets them when a thread's state is freed (its
// exit), a heap is created or destroyed, or another call looks at a heap (use(): a sample, a
// check); while it remembers, a call does not even set the heap's and thread's state again. These sequences make the first call after each of those
// come from the same heap and thread slot as the call before it: a stale entry (a freed thread's
// tcache, a destroyed heap's arena) would show in glibc's figures after every call, or in the
// same calls on a fresh engine.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, firstDifference, type PtOp } from './harness.js';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const info = oracle();
if (info.skipReason) console.warn(`[ptmalloc enter cache] ${info.skipReason}`);
const itOracle = info.binary ? it : it.skip;

/**
 * A thread allocates, frees into its tcache, hands the turn to the first thread without a call and
 * exits; the next thread takes the freed slot and calls at once (the last call before was the
 * exited thread's, from that slot).
 */
function slotReuse(rounds: number): PtOp[] {
  const ops: PtOp[] = [{ op: 'T', tid: 1 }, { op: 'm', id: 1, size: 100 }];
  let id = 2;
  for (let r = 0; r < rounds; r++) {
    const tid = r + 2;
    const a = id++, b = id++, c = id++;
    ops.push(
      { op: 'T', tid },
      { op: 'm', id: a, size: 24 + 16 * r }, { op: 'm', id: b, size: 200 }, { op: 'f', id: b },
      { op: 'm', id: c, size: 40 }, { op: 'f', id: a },
      { op: 'T', tid: 1 }, { op: 'E', tid },
    );
  }
  ops.push({ op: 'T', tid: rounds + 2 }, { op: 'm', id: id++, size: 200 }, { op: 'T', tid: 1 }, { op: 'f', id: 1 });
  return ops;
}

describe('ptmalloc: the entry remembered between calls is forgotten when it goes stale', () => {
  itOracle('a thread slot reused right after its thread exits matches glibc 2.36 after every call', async () => {
    const ops = slotReuse(6);
    const real = runOracle({ text: opsScript(ops) }, { ops: true, every: 1, arenas: true });
    const sim = await runSim(ops, { every: 1, params: { cores: real.cores! }, build: 'debug', check: true });
    expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
  });

  it('a heap destroyed and created again at the same index starts as a fresh engine does', async () => {
    const calls = (h: number, firstId: number): OpBuffer => {
      const ops = new OpBuffer(100);
      for (let i = 0; i < 40; i++) ops.alloc(h, firstId + i, 16 * (i + 1));
      for (let i = 0; i < 40; i += 2) ops.free(h, firstId + i);
      return ops;
    };
    const reused = await createEngine({ arch: 'x64', build: 'debug' });
    reused.createHeap('ptmalloc', {}, 0);
    reused.apply(calls(0, 1));
    reused.destroyHeap(0);
    reused.createHeap('ptmalloc', {}, 0);
    reused.apply(calls(0, 101));
    const fresh = await createEngine({ arch: 'x64', build: 'debug' });
    fresh.createHeap('ptmalloc', {}, 0);
    fresh.apply(calls(0, 101));
    // everything of the heap but the peaks' event numbers (the reused engine counts the first heap's events too)
    const heapOf = (s: ReturnType<typeof fresh.sample>) => JSON.stringify({ ...s.heaps.find((x) => x.heap === 0), peaks: undefined });
    expect(heapOf(reused.sample())).toBe(heapOf(fresh.sample()));
    expect(reused.check()).toBe(0);
  });

  it('a call right after a sample or check of another heap works on its own heap (release and debug)', async () => {
    const calls = (firstId: number): OpBuffer => {
      const ops = new OpBuffer(100);
      for (let i = 0; i < 30; i++) ops.alloc(0, firstId + i, 24 + 40 * i);
      for (let i = 0; i < 30; i += 3) ops.free(0, firstId + i);
      return ops;
    };
    for (const build of ['release', 'debug'] as const) {
      // heap 1 exists and is only looked at: sampled and checked between heap 0's batches
      const looked = await createEngine({ arch: 'x64', build });
      looked.createHeap('ptmalloc', {}, 0);
      looked.createHeap('ptmalloc', {}, 1);
      const alone = await createEngine({ arch: 'x64', build });
      alone.createHeap('ptmalloc', {}, 0);
      for (let r = 0; r < 4; r++) {
        expect(looked.apply(calls(1 + 100 * r)).failedOps).toBe(alone.apply(calls(1 + 100 * r)).failedOps);
        looked.sample();
        expect(looked.check()).toBe(0);
      }
      const heapOf = (s: ReturnType<typeof alone.sample>, h: number) => JSON.stringify({ ...s.heaps.find((x) => x.heap === h), peaks: undefined });
      expect(heapOf(looked.sample(), 0)).toBe(heapOf(alone.sample(), 0));
      // heap 1 was never called: it stays as a heap created and never called
      const idle = await createEngine({ arch: 'x64', build });
      idle.createHeap('ptmalloc', {}, 0);
      idle.createHeap('ptmalloc', {}, 1);
      expect(heapOf(looked.sample(), 1)).toBe(heapOf(idle.sample(), 1));
    }
  });
});
