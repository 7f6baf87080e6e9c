// tlsf and buddy read their block records through a copy of the record pool's base address kept in
// a global (tlsf.ts, buddy.ts `recBase`), first-fit through one kept in a local along its alloc
// and free paths (first-fit.ts `Rb`), not from the pool at every access. The pool moves in two
// places: when a record is taken from a full pool (it doubles) and when a heap is created after
// the replay's size hint was given (reserveForHint: one table of the hinted size). Here both
// happen while a heap holds live and free blocks: the pool doubles in the middle of the first
// batches, then a second heap is created after a hint and the first heap frees and allocates
// again. A copy left stale by either move reads and writes the old table, so the first heap's
// blocks, counts and invariants part from those of the same calls on an engine where the pool
// moved only by doubling.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

/** Blocks of the first heap: their records pass the pool's first size (4,096; first-fit's 1,024) in the first batch. */
const BLOCKS = 6000;
/** The hint's live blocks: two records each, far above the pool's size after the first batches. */
const HINT_LIVE_BLOCKS = 1 << 16;
/** Frees right after the move, before the larger blocks. */
const FIRST_FREES = 30;
/** Blocks larger than every earlier request (bytes), allocated right after the move. */
const LARGER_BLOCKS = 30;
const LARGER_BYTES = 5000;
/** Request sizes the blocks cycle through (bytes). */
const SIZES = [24, 100, 40, 700, 16, 3000, 56, 200];

/** What the first heap's calls leave: its sample, its blocks' addresses and the engine's invariants. */
interface Outcome { sample: unknown; addresses: number[]; check: number }

async function run(policy: string, build: 'debug' | 'release', hintBeforeSecondHeap: boolean): Promise<Outcome> {
  const e: Engine = await createEngine({ arch: 'x64', build });
  const h = e.createHeap(policy);
  const ops = new OpBuffer(BLOCKS);
  const apply = (): void => { expect(e.apply(ops).failedOps).toBe(0); ops.clear(); };
  for (let id = 0; id < BLOCKS; id++) ops.alloc(h, id, SIZES[id % SIZES.length]!);
  apply();
  for (let id = 0; id < BLOCKS; id += 3) ops.free(h, id);
  apply();
  const tableBytes = (): number => e.engineTableBytes().policies[policy]!.tableBytes;
  const before = tableBytes();
  if (hintBeforeSecondHeap) e.reserve({ idBound: 4 * BLOCKS, peakLiveBlocks: HINT_LIVE_BLOCKS });
  e.createHeap(policy);
  // The hint moved the pool (a larger table), or nothing did.
  if (hintBeforeSecondHeap) expect(tableBytes()).toBeGreaterThan(before); else expect(tableBytes()).toBe(before);
  // The first heap again: a few frees (merges rewrite records), then allocations larger than any
  // before, which split free blocks and so take records (a stale copy of the base would have
  // written the frees to the old table and is set again here: the frees are lost, and the
  // invariants fail at once, not in a later walk of a corrupt list).
  for (let id = 1; id < FIRST_FREES * 3; id += 3) ops.free(h, id);
  for (let k = 0; k < LARGER_BLOCKS; k++) ops.alloc(h, 2 * BLOCKS + k, LARGER_BYTES);
  apply();
  expect(e.check()).toBe(0);
  for (let id = FIRST_FREES * 3 + 1; id < BLOCKS; id += 3) ops.free(h, id);
  apply();
  for (let id = 0; id < BLOCKS; id += 3) ops.alloc(h, BLOCKS + id, SIZES[(id + 1) % SIZES.length]!);
  apply();
  const addresses: number[] = [];
  for (let id = 2; id < BLOCKS; id += 3) addresses.push(e.blockOf(id).address);
  for (let id = 0; id < BLOCKS; id += 3) addresses.push(e.blockOf(BLOCKS + id).address);
  for (let k = 0; k < LARGER_BLOCKS; k++) addresses.push(e.blockOf(2 * BLOCKS + k).address);
  return { sample: e.sample().heaps.find((x) => x.heap === h), addresses, check: e.check() };
}

describe.each(['tlsf', 'buddy', 'first-fit'] as const)('%s: the record pool moves under live blocks', (policy) => {
  it.each(['debug', 'release'] as const)('a second heap made after a hint leaves the first heap\'s results as they were (%s)', async (build) => {
    const moved = await run(policy, build, true);
    const grown = await run(policy, build, false);
    expect(moved.check).toBe(0);
    expect(grown.check).toBe(0);
    expect(moved.addresses).toEqual(grown.addresses);
    expect(moved.sample).toEqual(grown.sample);
  });
});
