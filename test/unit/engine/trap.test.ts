import { expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { Op } from '../../../src/engine/abi.js';
import { EngineTrapError } from '../../../src/errors.js';

it('a WASM trap becomes an EngineTrapError naming batch and op; the instance is then unusable', async () => {
  const e = await createEngine({ build: 'debug' });
  const h = e.createHeap('first-fit');
  const ok = new OpBuffer(2);
  ok.alloc(h, 0, 100);
  e.apply(ok);
  const bad = new OpBuffer(3);
  bad.alloc(h, 1, 100);
  bad.push(Op.DEBUG_TRAP, 0, 0, 0, 0);
  bad.alloc(h, 2, 100);
  let caught: unknown;
  try { e.apply(bad); } catch (err) { caught = err; }
  expect(caught).toBeInstanceOf(EngineTrapError);
  const t = caught as EngineTrapError;
  expect(t.op).toBe(1);
  expect(t.batch).toBe(2); // batch 0 created the heap, batch 1 was `ok`
  expect(t.message).toMatch(/batch 2, op 1/);
  expect(() => e.sample()).toThrow(EngineTrapError);
  // A new engine from the cached module works.
  const e2 = await createEngine({ build: 'debug' });
  e2.createHeap('first-fit');
  expect(e2.check()).toBe(0);
});

it('misuse is counted, not thrown, and leaves the engine consistent', async () => {
  const e = await createEngine({ build: 'debug' });
  const h = e.createHeap('first-fit');
  const ops = new OpBuffer(8);
  ops.free(h, 5);            // never allocated
  ops.alloc(h, 1, 64);
  ops.alloc(h, 1, 64);       // id still live
  ops.free(h, 1);
  ops.free(h, 1);            // double free
  ops.alloc(3, 2, 64);       // heap 3 does not exist
  ops.push(77, 0, 0, 0, 0);  // unknown opcode
  const r = e.apply(ops);
  expect(r.failedOps).toBe(5);
  expect(r.firstFailure).toEqual({ op: 0, status: 'UNKNOWN_ID' });
  expect(e.events).toBe(6);
  expect(e.check()).toBe(0);
  expect(e.sample().heaps[0]).toMatchObject({ liveBlocks: 0, requestedBytes: 0, allocs: 1, frees: 1 });
});

it('release build: the DEBUG_TRAP opcode is rejected as a bad opcode, not a trap', async () => {
  const e = await createEngine({ build: 'release' });
  const ops = new OpBuffer(1);
  ops.push(Op.DEBUG_TRAP, 0, 0, 0, 0);
  expect(e.apply(ops).firstFailure).toEqual({ op: 0, status: 'BAD_OPCODE' });
});
