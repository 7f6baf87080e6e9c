// runBatch runs a batch in the loop made for heap 0's policy (kit/policy.ts `batch`: engine.ts
// batchOf with the policy's own ops class, calling its functions directly), which is right only
// while heap 0 has that policy. A batch that destroys heap 0 and creates it again with another
// policy, or has ops on other heaps, must give what the same ops give one per batch (every batch
// chooses its loop afresh): same samples, same addresses, invariants holding.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { OP_WORDS } from '../../../src/engine/abi.js';
import { getPolicy } from '../../../src/policies/registry.js';

const IDS_PER_ROUND = 12;
const SIZES = [24, 40, 100, 250, 1000, 4000, 16, 64, 70_000, 300, 8, 2048];

/** Allocations, reallocs and frees on heap 0 and on heap 1, heap 0 remade with each policy of `order`. */
function program(order: readonly string[]): OpBuffer {
  const b = new OpBuffer(4096);
  let id = 0;
  order.forEach((policy, round) => {
    if (round > 0) {
      b.heapDestroy(0);
      b.heapCreate(0, getPolicy(policy).id, -1, 0, 0);
    }
    const first = id;
    for (let k = 0; k < IDS_PER_ROUND; k++) {
      b.alloc(0, id, SIZES[k]! + round);
      b.alloc(1, id + IDS_PER_ROUND, SIZES[(k + 5) % SIZES.length]!);
      id++;
    }
    for (let k = 0; k < IDS_PER_ROUND; k += 3) b.realloc(0, first + k, SIZES[k]! * 3);
    for (let k = 1; k < IDS_PER_ROUND; k += 2) b.free(0, first + k);
    b.calloc(0, id + IDS_PER_ROUND, 96);
    b.free(1, first + IDS_PER_ROUND);
    id += IDS_PER_ROUND + 1;
  });
  return b;
}

async function engineWith(first: string, build: 'release' | 'debug'): Promise<Engine> {
  const e = await createEngine({ sampleEvery: 5, build });
  e.createHeap(first, {}, 0);
  e.createHeap('first-fit', {}, 1);
  return e;
}

function state(e: Engine, ids: number): unknown {
  const blocks = [];
  for (let id = 0; id < ids; id++) blocks.push(e.blockOf(id));
  return { sample: e.sample(), blocks, check: e.check(), events: e.events, failed: e.failedOps };
}

describe('batch loops made per policy', () => {
  const orders = [['pool', 'nt', 'first-fit', 'buddy'], ['nt', 'pool', 'tlsf', 'segregated'], ['first-fit', 'pool', 'pool'], ['ptmalloc', 'pool', 'ptmalloc'],
    ['best-fit', 'next-fit', 'first-fit', 'best-fit'], ['next-fit', 'best-fit', 'next-fit'],
    ['tcmalloc', 'jemalloc', 'mimalloc', 'tcmalloc']];
  for (const build of ['release', 'debug'] as const) for (const order of orders) {
    it(`heap 0 remade in one batch as ${order.join(' -> ')} gives what one op per batch gives (${build})`, async () => {
      const ops = program(order);
      const whole = await engineWith(order[0]!, build);
      const r = whole.apply(ops);
      const single = await engineWith(order[0]!, build);
      let failed = 0;
      const samples = [];
      for (let i = 0; i < ops.length; i++) {
        const one = new OpBuffer(1, ops.words.slice(i * OP_WORDS, (i + 1) * OP_WORDS));
        one.length = 1;
        const ri = single.apply(one);
        failed += ri.failedOps;
        samples.push(...ri.samples);
      }
      expect(r.failedOps).toBe(failed);
      expect(r.samples).toEqual(samples);
      expect(whole.check()).toBe(0);
      const ids = order.length * (2 * IDS_PER_ROUND + 1) + IDS_PER_ROUND;
      expect(state(whole, ids)).toEqual(state(single, ids));
      whole.release();
      single.release();
    });
  }

  // An own loop skips looking heap 0 up (it exists while its policy's loop runs); once heap 0 is
  // gone the generic loop must: its ops fail with BAD_HEAP, nothing is called through a missing def.
  for (const build of ['release', 'debug'] as const) {
    it(`ops on heap 0 after it is destroyed in the batch fail with BAD_HEAP (${build})`, async () => {
      const e = await engineWith('pool', build);
      const b = new OpBuffer(16);
      b.alloc(0, 0, 40);
      b.alloc(1, 1, 40);
      b.heapDestroy(0);
      b.alloc(0, 2, 40);
      b.calloc(0, 3, 40);
      b.realloc(0, 0, 80);
      b.free(0, 0);
      b.free(1, 1);
      const r = e.apply(b);
      expect(r.failedOps).toBe(4);
      expect(r.firstFailure).toEqual({ op: 3, status: 'BAD_HEAP' });
      expect(e.check()).toBe(0);
      expect(e.blockOf(1).requestedBytes).toBe(0); // heap 1 ran its ops through the generic loop too
      e.release();
    });
  }
});
