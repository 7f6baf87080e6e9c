// The bytes parked in tcaches: the model keeps one counter per arena (its chunks in any thread's
// tcache) and derives the heap's total from them when it samples (ptSample), instead of keeping
// per-thread and per-heap totals at every tcache put and get. glibc prints none of these, so the
// oracle cannot check them; the figures below follow from the chunk sizes by hand.
import { describe, it, expect } from 'vitest';
import { runSim, type PtOp } from './harness.js';
import { arenasOf as arenaViewsOf } from '../../../src/policies/ptmalloc/diagnose.js';
import type { Sample } from '../../../src/engine/engine.js';

/** Chunk sizes on x86-64: request + 8 rounded up to 16. */
const SMALL_REQUEST = 100;     // a 112-byte chunk
const SMALL_CHUNK = 112;
const LARGER_REQUEST = 200;    // a 208-byte chunk
const LARGER_CHUNK = 208;

function tcacheFigures(s: Sample): { total: number; perArena: number[] } {
  const h = s.heaps[0]!;
  return { total: Number(h.policyCounters.tcacheBytes), perArena: arenaViewsOf(h).map((a) => a.tcacheBytes) };
}

describe('ptmalloc: tcache bytes per arena, and their sum', () => {
  it('count each chunk for the arena that owns it, whichever thread parks it, and add up', async () => {
    const ops: PtOp[] = [{ op: 'T', tid: 1 }];
    for (let id = 1; id <= 5; id++) ops.push({ op: 'm', id, size: SMALL_REQUEST });
    ops.push({ op: 'T', tid: 2 });                                       // thread 2 gets arena 1
    for (let id = 6; id <= 8; id++) ops.push({ op: 'm', id, size: LARGER_REQUEST });
    ops.push({ op: 'T', tid: 1 });
    for (let id = 1; id <= 5; id++) ops.push({ op: 'f', id });          // thread 1's tcache, main arena
    ops.push({ op: 'f', id: 6 });                                        // thread 1's tcache, arena 1's chunk
    ops.push({ op: 'T', tid: 2 }, { op: 'f', id: 7 }, { op: 'f', id: 8 }, { op: 'p' });
    ops.push({ op: 'm', id: 9, size: LARGER_REQUEST }, { op: 'p' });    // thread 2's tcache hit (chunk 8)
    ops.push({ op: 'T', tid: 1 }, { op: 'm', id: 10, size: LARGER_REQUEST }, { op: 'p' }); // thread 1's hit: chunk 6
    ops.push({ op: 'E', tid: 2 }, { op: 'p' });                          // thread 2's tcache (chunk 7) goes back to arena 1
    const sim = await runSim(ops, { build: 'debug', check: true });
    const [parked, hit2, hit1, exited] = sim.samples.slice(0, 4).map(tcacheFigures);
    const mainParked = 5 * SMALL_CHUNK;
    expect(parked).toEqual({ total: mainParked + 3 * LARGER_CHUNK, perArena: [mainParked, 3 * LARGER_CHUNK] });
    expect(hit2).toEqual({ total: mainParked + 2 * LARGER_CHUNK, perArena: [mainParked, 2 * LARGER_CHUNK] });
    expect(hit1).toEqual({ total: mainParked + LARGER_CHUNK, perArena: [mainParked, LARGER_CHUNK] });
    expect(exited).toEqual({ total: mainParked, perArena: [mainParked, 0] });
  });
});
