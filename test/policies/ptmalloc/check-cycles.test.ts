// A link written wrong can close one of ptmalloc's chunk lists on itself. The invariant check
// (assembly/policies/ptmalloc/ptmalloc.ts ptCheck, listBound) then fails with a number (P3 for
// the bins, fastbins and tcaches) instead of walking for ever, and a sample still returns (its
// walk of the unsorted list is bounded the same way). Here a cycle is written into a record on
// purpose, in a tcache list, a fastbin and the unsorted list.
import { describe, it, expect } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

// The chunk record's layout (ptmalloc.ts "records"): the forward link is the u32 at byte 12.
const R_FD_BYTES = 12;
const LIST_INVARIANT = 3;          // P3: the lists
// engine check(): a policy's invariant n comes back as 100 x the policy's id + n (assembly/engine.ts checkAll)
const POLICY_INVARIANT_STRIDE = 100;
const SMALL_BYTES = 24;            // a 32-byte chunk: tcache and fastbin sized
const TCACHE_FILL = 7;             // glibc's tcache_count: the eighth free of a size goes to its fastbin
const BINNED_BYTES = 2000;         // past the tcache and the fastbins: its free goes to unsorted

interface PtRaw { memory: WebAssembly.Memory; ptChunkRecord(h: number, user: bigint): number }

async function heapWith(build: (buf: OpBuffer, heap: number) => void): Promise<{ engine: Engine; heap: number; raw: PtRaw }> {
  const engine = await createEngine({ arch: 'x64', build: 'release' });
  const heap = engine.createHeap('ptmalloc');
  const buf = new OpBuffer(4096);
  build(buf, heap);
  const r = engine.apply(buf);
  expect(r.failedOps).toBe(0);
  return { engine, heap, raw: engine.raw as unknown as PtRaw };
}

/** The record of the chunk whose user address is `user` (taken while its block was live). */
function recordOf(raw: PtRaw, heap: number, user: number): number {
  const rec = raw.ptChunkRecord(heap, BigInt(user));
  expect(rec).not.toBe(0);
  return rec;
}

/** Closes a list on itself: the older chunk's link is set to its own index (read from the newer chunk's link to it). */
function selfLoop(raw: PtRaw, newerRec: number, olderRec: number): void {
  const mem = new Uint32Array(raw.memory.buffer);
  const olderIndex = mem[(newerRec + R_FD_BYTES) >>> 2]!; // the newer chunk's link names the older one
  expect(olderIndex).not.toBe(0);
  mem[(olderRec + R_FD_BYTES) >>> 2] = olderIndex;
}

describe('ptmalloc invariant check: a chunk list closed on itself fails P3, it does not hang', () => {
  it('a tcache list', async () => {
    const env = await heapWith((buf, h) => { buf.alloc(h, 1, SMALL_BYTES); buf.alloc(h, 2, SMALL_BYTES); });
    const users = [env.engine.blockOf(1).address, env.engine.blockOf(2).address];
    const free = new OpBuffer(16);
    free.free(env.heap, 1); free.free(env.heap, 2); // tcache: 2 -> 1
    env.engine.apply(free);
    expect(env.engine.check()).toBe(0);
    selfLoop(env.raw, recordOf(env.raw, env.heap, users[1]!), recordOf(env.raw, env.heap, users[0]!));
    expect(env.engine.check() % POLICY_INVARIANT_STRIDE).toBe(LIST_INVARIANT);
  });

  it('a fastbin', async () => {
    const n = TCACHE_FILL + 2;
    const env = await heapWith((buf, h) => { for (let id = 1; id <= n; id++) buf.alloc(h, id, SMALL_BYTES); });
    const users = Array.from({ length: n }, (_, i) => env.engine.blockOf(i + 1).address);
    const free = new OpBuffer(16);
    for (let id = 1; id <= n; id++) free.free(env.heap, id); // 7 to the tcache, the last two to the fastbin: n -> n-1
    env.engine.apply(free);
    expect(env.engine.check()).toBe(0);
    selfLoop(env.raw, recordOf(env.raw, env.heap, users[n - 1]!), recordOf(env.raw, env.heap, users[n - 2]!));
    expect(env.engine.check() % POLICY_INVARIANT_STRIDE).toBe(LIST_INVARIANT);
  });

  it('the unsorted list: a sample still returns', async () => {
    // two binned chunks, each fenced by a busy one (no coalescing)
    const env = await heapWith((buf, h) => {
      buf.alloc(h, 1, BINNED_BYTES); buf.alloc(h, 2, SMALL_BYTES); buf.alloc(h, 3, BINNED_BYTES); buf.alloc(h, 4, SMALL_BYTES);
    });
    const a = env.engine.blockOf(1).address, b = env.engine.blockOf(3).address;
    const free = new OpBuffer(16);
    free.free(env.heap, 1); free.free(env.heap, 3); // unsorted: 3 -> 1
    env.engine.apply(free);
    expect(env.engine.check()).toBe(0);
    selfLoop(env.raw, recordOf(env.raw, env.heap, b), recordOf(env.raw, env.heap, a));
    expect(env.engine.sample().event).toBeGreaterThan(0);
    expect(env.engine.check() % POLICY_INVARIANT_STRIDE).toBe(LIST_INVARIANT);
  });
});
