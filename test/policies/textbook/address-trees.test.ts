// fit.ts's treaps by address (next-fit's free blocks with their maxima, best-fit's bins) are built by
// its own top-down insert and remove (addrInsert/addrRemove, binInsert/binRemove): a split and a
// join as loops, the maxima to recompute on a stack, pulled by a recursive walk when the stack is
// full (debug builds use a stack of 4, so deep trees take that way). Hand-made sequences that make
// deep trees: hundreds of blocks of one size, every other one freed in a shuffled order (isolated
// free blocks: inserts that split deep subtrees; equal sizes: every maximum ties, so removals
// recompute their whole path), then cuts, whole takes and frees that merge (removals and joins).
// Checked against the reference model (addresses, counters) with the engine's invariants (F3:
// order, priorities, maxima) after every batch, on the debug and the release build.
import { describe, it } from 'vitest';
import { checkAgainstModel, KiB, type Step } from './harness.js';
import { FitModel } from './fit-model.js';

const BLOCKS = 600;

/** Deterministic shuffle (xorshift32). */
function shuffled(xs: number[], seed: number): number[] {
  const a = [...xs];
  let x = seed;
  for (let i = a.length - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function steps(seed: number): Step[] {
  const out: Step[] = [];
  const ids = [...Array(BLOCKS).keys()];
  for (const id of ids) out.push({ op: 'alloc', id, size: 40, alignLog2: 0 });
  const odd = ids.filter((i) => i % 2);
  for (const id of shuffled(odd, seed)) out.push({ op: 'free', id });
  // Reuse: smaller requests cut free blocks, equal ones take them whole (ids freed above).
  for (const [k, id] of shuffled(odd, seed ^ 0x9e37).slice(0, BLOCKS / 4).entries()) {
    out.push({ op: 'alloc', id, size: k % 3 ? 40 : 8, alignLog2: 0 });
  }
  // Everything freed in a shuffled order: merges with free neighbours on both sides.
  for (const id of shuffled(ids, seed ^ 0x51ed)) out.push({ op: 'free', id });
  return out;
}

describe.each(['next', 'best'] as const)('%s-fit address trees', (rule) => {
  const policy = `${rule}-fit`;
  const params = { segmentReserveBytes: 64 * KiB, commitStepBytes: 4 * KiB };
  it.each(['debug', 'release'] as const)('deep trees built and taken apart agree with the model (%s)', async (build) => {
    for (const seed of [1, 0xbeef, 0x2545f491]) {
      await checkAgainstModel(policy, params, new FitModel(rule, params), steps(seed), 25, build);
    }
  });
});
