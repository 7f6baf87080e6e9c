// The batch loop takes the common op inline (engine.ts isQuietOp: an allocation call or a free on
// heap 0 that completes no periodic sample; the policy's own calls, the event counted without the
// sample test) and every other op out of line (rareStep: opFits, then the calls through the heaps'
// defs). With a sample after every event no op is quiet, so the same ops run through rareStep
// alone: both runs must end in the same state (blocks, counters, exact peaks, failures), batch by
// batch the same failures.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { Op } from '../../../src/engine/abi.js';

const OPS = 2400;
const BATCH_OPS = 400;           // below the 8,192 samples a batch may take with a sample per event
const IDS = 300;
const OUT_OF_TABLE_ID = 2 ** 28 + 7; // >= MAX_ID: ID_OUT_OF_RANGE for an allocation, UNKNOWN_ID for a free
const HUGE_BYTES = 3_000_000_000; // more than x86's 2 GiB user space: the policy refuses
const BAD_ALIGN_LOG2 = 29;        // above MAX_ALIGN_LOG2: BAD_PARAM
const NO_HEAP = 3;                // never created: BAD_HEAP

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

/** A random stream over heaps 0 and 1 with every kind of failure a quiet op can meet. */
function stream(seed: number, label: number): OpBuffer[] {
  const r = rng(seed);
  const out: OpBuffer[] = [];
  let b = new OpBuffer(BATCH_OPS);
  const size = (): number => (r() < 0.01 ? HUGE_BYTES : 1 + Math.floor(r() * (r() < 0.2 ? 20_000 : 300)));
  for (let n = 0; n < OPS; n++) {
    if (b.length === BATCH_OPS) { out.push(b); b = new OpBuffer(BATCH_OPS); }
    const x = r();
    const heap = r() < 0.1 ? 1 : r() < 0.02 ? NO_HEAP : 0;
    const id = r() < 0.01 ? OUT_OF_TABLE_ID : Math.floor(r() * IDS);
    if (x < 0.3) b.alloc(heap, id, size());
    else if (x < 0.34) b.calloc(heap, id, size());
    else if (x < 0.37) b.alignedAlloc(heap, id, size(), 2 ** Math.floor(r() * 12));
    else if (x < 0.38) b.push(Op.ALIGNED_ALLOC, heap, BAD_ALIGN_LOG2, id, 64);
    else if (x < 0.46) b.realloc(heap, id, size());
    else if (x < 0.86) b.free(heap, id);
    else if (x < 0.9) b.implicitFree(heap, id);
    else if (x < 0.92) b.mark(label);
    else if (x < 0.94) b.tick(1 + Math.floor(r() * 1000));
    else if (x < 0.96) b.skip(Math.floor(r() * 3));
    else if (x < 0.97) b.touch(heap, id, size());
    else if (x < 0.975) b.trim(heap);
    else b.push(0x30 + Math.floor(r() * 8), heap, 0, id, 0); // unknown opcodes: BAD_OPCODE
  }
  out.push(b);
  return out;
}

function state(e: Engine): unknown {
  const blocks = [];
  for (let id = 0; id < IDS; id++) blocks.push(e.blockOf(id));
  return { blocks, events: e.events, failed: e.failedOps, end: e.sample('end') };
}

async function run(policy: string, replay: boolean, sampleEvery: number, seed: number): Promise<{ fails: unknown[]; state: unknown }> {
  const e = await createEngine({ arch: 'x86', sampleEvery, replay });
  e.createHeap(policy, {}, 0);
  e.createHeap('first-fit', {}, 1);
  const fails = [];
  for (const b of stream(seed, e.label('m'))) {
    const r = e.apply(b);
    fails.push([r.failedOps, r.firstFailure]);
  }
  expect(e.check()).toBe(0);
  const end = e.sample('end');
  expect(end.program.failedAllocs).toBeGreaterThan(0); // the stream met refusals
  expect(end.program.implicitFrees).toBeGreaterThan(0);
  const s = state(e);
  e.release();
  return { fails, state: s };
}

describe('quiet ops in the batch loop', () => {
  for (const policy of ['pool', 'nt', 'ptmalloc', 'tcmalloc', 'first-fit']) for (const replay of [false, true]) {
    it(`end as the same ops through the out-of-line path (${policy}${replay ? ', replay mode' : ''})`, async () => {
      const seed = policy.length * 7919 + (replay ? 1 : 0);
      const quiet = await run(policy, replay, 0, seed);
      const rare = await run(policy, replay, 1, seed);
      expect(quiet.fails).toEqual(rare.fails);
      expect(quiet.state).toEqual(rare.state);
    });
  }
});
