// The inflate thread's ring as the reader sees it (src/trace/inflate.ts ringNext): the thread may
// publish chunks and the end between any two of the reader's reads of the control words. Played
// out here in one thread: before each read the test lets the thread take its next step or not
// (fast-check picks where), and the reader must take every chunk the thread wrote before it
// stops. A reader that reads the count of written chunks before the state stops early at some
// of these interleavings (a gzip file read short, with no error: seen once in the suite, a
// handoff test that got 16,035 of its 20,000 lines).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RING_ENDED, RING_FAILED, RING_RUNNING, RING_STATE, RING_WRITTEN, ringNext } from '../../src/trace/inflate.js';

interface Played { taken: number; end: 'ended' | 'failed' }

/**
 * The thread's stores, in its order: each chunk's count, then its final state (each store also
 * bumps the epoch the reader waits on). The reader calls ringNext until it stops; `steps[i]` is
 * how many stores the thread makes before the reader's i-th read. A reader that would wait goes
 * on at once if the thread stored anything since its look began (the epoch moved), else the
 * thread's next store wakes it.
 */
function play(chunks: number, final: number, steps: number[]): Played {
  const words = new Int32Array(8);
  words[RING_STATE] = RING_RUNNING;
  const stores: [number, number][] = [];
  for (let c = 1; c <= chunks; c++) stores.push([RING_WRITTEN, c]);
  stores.push([RING_STATE, final]);
  let done = 0;
  const threadStep = (): boolean => {
    if (done === stores.length) return false;
    const [word, value] = stores[done++]!;
    words[word] = value;
    return true;
  };
  let reads = 0;
  const read = (word: number): number => {
    for (let n = steps[reads++ % steps.length]!; n > 0; n--) threadStep();
    return words[word]!;
  };
  let taken = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const epoch = done;
    const next = ringNext(read, taken);
    if (next === 'chunk') taken++;
    else if (next === 'ended' || next === 'failed') return { taken, end: next };
    else if (done === epoch && !threadStep()) throw new Error('the reader waits for a thread that has stopped');
  }
  throw new Error('the reader never stopped');
}

describe('the inflate ring, read while the thread writes', () => {
  it('the reader takes every chunk written before the end, wherever the thread runs between its reads', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }), (chunks, steps) => {
        expect(play(chunks, RING_ENDED, steps)).toEqual({ taken: chunks, end: 'ended' });
      }),
      { seed: 0x71a7e, numRuns: 2000 },
    );
  });

  it('the interleaving that lost chunks: the last chunks and the end land between two reads', () => {
    // Three chunks and the end, all stored by the thread between the reader's first two reads.
    expect(play(3, RING_ENDED, [0, 4, 0])).toEqual({ taken: 3, end: 'ended' });
    // One chunk taken, then the last two and the end between two reads.
    expect(play(3, RING_ENDED, [1, 0, 0, 0, 3, 0])).toEqual({ taken: 3, end: 'ended' });
  });

  it('a failure stops the reader, never a wait on a stopped thread', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }), (chunks, steps) => {
        const played = play(chunks, RING_FAILED, steps);
        expect(played.end).toBe('failed');
        expect(played.taken).toBeLessThanOrEqual(chunks);
      }),
      { seed: 0xfa11, numRuns: 500 },
    );
  });
});
