// fit.ts's block record keeps a size (and next-fit's subtree maximum) in 32 bits of 16-byte
// granules: up to 64 GiB - 16. A block of 64 GiB or more, and a maximum over one, keeps its value in
// the wide table instead (the field holds a marker). Hand-made sequences that make such blocks:
// carved whole, merged from two narrower free blocks, cut from the front down to a narrow rest and
// grown back, taken by a wide request, grown in place by realloc, among many small free blocks (so
// the wide maximum climbs and leaves next-fit's tree through inserts, cuts and removals). Checked
// against the reference model (addresses, counters, the largest free block) with the engine's
// invariants (F1: sizes tile the segments, F3: the maxima) after every batch, debug and release.
import { describe, it } from 'vitest';
import { checkAgainstModel, KiB, MiB, type Step } from './harness.js';

const GiB = 1024 * MiB;
import { FitModel } from './fit-model.js';

/** Bytes from which a block's size no longer fits the record's 32-bit granule field. */
const WIDE_BYTES = 64 * GiB;
const SMALL = 40;

function steps(): Step[] {
  const out: Step[] = [];
  let id = 0;
  const alloc = (size: number): number => { out.push({ op: 'alloc', id, size, alignLog2: 0 }); return id++; };
  const free = (x: number): void => { out.push({ op: 'free', id: x }); };
  // Small blocks on both sides, every other one freed: a tree of many small free blocks.
  const lows = Array.from({ length: 40 }, () => alloc(SMALL));
  const a = alloc(40 * GiB);
  const b = alloc(30 * GiB);
  const highs = Array.from({ length: 40 }, () => alloc(SMALL));
  for (const x of [...lows, ...highs].filter((_, i) => i % 2)) free(x);
  free(a);
  free(b);                                  // a and b merge: a 70 GiB free block
  const c = alloc(WIDE_BYTES + 4 * KiB);    // a wide request cuts it: a narrow rest
  const d = alloc(SMALL);                   // small requests: small free blocks first
  free(c);                                  // merged back: wide again
  const e = alloc(WIDE_BYTES - 64);         // a narrow cut leaves a narrow rest
  out.push({ op: 'realloc', id: e, size: WIDE_BYTES + 1 * GiB });   // grown in place: wide busy block
  out.push({ op: 'realloc', id: e, size: 2 * KiB });                // shrunk: the tail freed, wide
  const f = alloc(WIDE_BYTES + 2 * GiB);    // takes most of it
  const g = alloc(80 * GiB);                // carved from the top: wide from the start
  free(d);
  free(f);
  free(e);
  const h = alloc(SMALL);
  free(g);                                  // back to the top
  for (const x of [...lows, ...highs].filter((_, i) => !(i % 2))) free(x);
  free(h);
  return out;
}

describe.each(['next', 'best'] as const)('%s-fit blocks of 64 GiB and more', (rule) => {
  const policy = `${rule}-fit`;
  const params = { segmentReserveBytes: 1024 * KiB, commitStepBytes: 64 * KiB };
  it.each(['debug', 'release'] as const)('agree with the model (%s)', async (build) => {
    await checkAgainstModel(policy, params, new FitModel(rule, params), steps(), 1, build);
  });
});
