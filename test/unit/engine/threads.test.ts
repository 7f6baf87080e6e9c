// The engine's thread table (assembly/threads.ts): THREAD ops map sparse trace thread ids to dense
// slots, THREAD_END frees a slot for a later thread, and bad thread ops fail with their status.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

async function engine() {
  const e = await createEngine({ arch: 'x64' });
  e.createHeap('first-fit');
  return e;
}

describe('thread table', () => {
  it('the first thread of a run names the initial slot; new ids take new slots', async () => {
    const e = await engine();
    const ops = new OpBuffer(16);
    ops.thread(4242);          // before any event: names slot 0
    ops.alloc(0, 0, 32);
    ops.thread(7_000_000_001); // a new thread
    ops.alloc(0, 1, 32);
    ops.thread(4242);          // back to the first: no new slot
    ops.free(0, 0);
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.raw.threadsAlive()).toBe(2);
    expect(e.raw.threadSlotsUsed()).toBe(2);
  });

  it('a thread that ends gives its slot to the next new thread', async () => {
    const e = await engine();
    const ops = new OpBuffer(32);
    ops.alloc(0, 0, 16);       // runs on the unnamed initial thread (slot 0)
    ops.thread(11);            // events have run: 11 takes slot 1
    ops.alloc(0, 1, 16);
    ops.thread(12);            // slot 2
    ops.threadEnd(11);         // slot 1 free
    ops.thread(13);            // takes slot 1 again
    ops.alloc(0, 2, 16);
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.raw.threadsAlive()).toBe(3);
    expect(e.raw.threadSlotsUsed()).toBe(3);
  });

  it('the end of the current thread leaves later calls of the same id on a new thread', async () => {
    const e = await engine();
    const ops = new OpBuffer(8);
    ops.thread(5);
    ops.alloc(0, 0, 16);
    ops.threadEnd(5);
    ops.free(0, 0);            // thread 5 again: a new incarnation, alive
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.raw.threadsAlive()).toBe(1);
  });

  it('ending an unknown thread and thread ids beyond 2^53 fail as ops, nothing else changes', async () => {
    const e = await engine();
    const ops = new OpBuffer(4);
    ops.threadEnd(99);
    let r = e.apply(ops);
    expect(r.failedOps).toBe(1);
    expect(r.firstFailure).toEqual({ op: 0, status: 'UNKNOWN_THREAD' });
    const raw = new OpBuffer(2);
    raw.push(13, 0, 0, 0, 2 ** 53); // THREAD with an id the host never writes
    r = e.apply(raw);
    expect(r.firstFailure).toEqual({ op: 0, status: 'BAD_PARAM' });
    expect(e.raw.threadsAlive()).toBe(1);
    expect(e.check()).toBe(0);
  });

  it('refuses more threads alive at once than the table holds', async () => {
    const e = await engine();
    const limit = 1 << 16;
    const ops = new OpBuffer(limit + 1);
    for (let t = 0; t <= limit; t++) ops.thread(1000 + t);
    const r = e.apply(ops);
    expect(r.failedOps).toBe(1);
    expect(r.firstFailure).toEqual({ op: limit, status: 'TOO_MANY_THREADS' });
    expect(e.raw.threadsAlive()).toBe(limit);
    // One thread ends: a new one fits again.
    const more = new OpBuffer(2);
    more.threadEnd(1000);
    more.thread(999_999);
    expect(e.apply(more).failedOps).toBe(0);
  });
});
