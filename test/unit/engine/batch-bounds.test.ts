// Bounded work per batch (found by the fuzz suite): an op that would take more than 8192 samples in
// one batch, or push the event or time counters past 2^53 - 1 (the host reads them as f64), fails
// with BAD_PARAM and changes nothing. A SKIP of 2^30 events with a sample every 7 events asked for
// 153 million samples and trapped in TLSF; a larger one never ended.
import { expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const MAX_SAMPLES_PER_BATCH = 8192;

it('a SKIP asking for too many periodic samples fails and counts no event', async () => {
  const e = await createEngine({ sampleEvery: 7 });
  e.createHeap('first-fit');
  const b = new OpBuffer(4);
  b.skip(2 ** 30);
  b.alloc(0, 0, 16);
  const r = e.apply(b);
  expect(r.failedOps).toBe(1);
  expect(r.firstFailure).toEqual({ op: 0, status: 'BAD_PARAM' });
  expect(e.events).toBe(1);
  expect(r.samples).toEqual([]);
});

it('a batch takes up to 8192 samples; the op that would take one more fails, the next batch goes on', async () => {
  const e = await createEngine({ sampleEvery: 1 });
  e.createHeap('first-fit');
  const b = new OpBuffer(4);
  b.skip(MAX_SAMPLES_PER_BATCH);
  b.alloc(0, 0, 16);
  const r = e.apply(b);
  expect(r.samples).toHaveLength(MAX_SAMPLES_PER_BATCH);
  expect(r.samples[MAX_SAMPLES_PER_BATCH - 1]!.event).toBe(MAX_SAMPLES_PER_BATCH);
  expect(r.firstFailure).toEqual({ op: 1, status: 'BAD_PARAM' });
  expect(e.blockOf(0).address).toBe(0);
  const next = new OpBuffer(1);
  next.alloc(0, 0, 16);
  const r2 = e.apply(next);
  expect(r2.failedOps).toBe(0);
  expect(r2.samples.map((s) => s.event)).toEqual([MAX_SAMPLES_PER_BATCH + 1]);
});

it('event and time counters stay exact: past 2^53 - 1 the op fails', async () => {
  const e = await createEngine();
  e.createHeap('first-fit');
  const b = new OpBuffer(8);
  b.skip(2 ** 53 - 2);
  b.alloc(0, 0, 16);     // event 2^53 - 1: fine
  b.free(0, 0);          // would be event 2^53
  b.tick(2 ** 53 - 1);
  b.tick(1);
  const r = e.apply(b);
  expect(r.failedOps).toBe(2);
  expect(e.events).toBe(2 ** 53 - 1);
  expect(e.blockOf(0).requestedBytes).toBe(16);
  expect(e.sample().tick).toBe(2 ** 53 - 1);
});
