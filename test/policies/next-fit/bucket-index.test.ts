// next-fit's bucket index (textbook/fit.ts, "next-fit's bucket index"): free blocks listed per 4 KiB
// bucket of their segment in address order, a tree of exact maxima over the buckets, the index
// growing with the segment (its buckets kept while it doubles; past NX_MAX_BUCKETS, 64 in debug
// builds, coarser buckets and every free block linked again). Hand-made sequences drive each way a
// block moves in it: many blocks in one bucket's list, a merge that moves a free block's address
// down into the bucket before (and one that stays in its bucket), a realloc's cut that moves a free
// block into a later bucket (and one that stays), searches that climb several levels and find
// nothing in the rest of a segment, and growth past the debug cap with free blocks in the index.
// Checked against the reference model (addresses, counters, the largest free block) with the
// engine's invariants (F3: the lists, the recounted maxima, the padding) after every batch.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { checkAgainstModel, stepArb, KiB, MiB, type Step } from '../textbook/harness.js';
import { FitModel } from '../textbook/fit-model.js';

const BUCKET = 4 * KiB;

const alloc = (id: number, size: number): Step => ({ op: 'alloc', id, size, alignLog2: 0 });
const free = (id: number): Step => ({ op: 'free', id });
const realloc = (id: number, size: number): Step => ({ op: 'realloc', id, size });

function steps(): Step[] {
  const out: Step[] = [];
  // 400 blocks of 32 bytes (128 to a bucket), every other one freed: full bucket lists.
  for (let id = 0; id < 400; id++) out.push(alloc(id, 16));
  for (let id = 1; id < 400; id += 2) out.push(free(id));
  // Blocks of a bucket and a half each: every one starts in a different bucket from its neighbours.
  for (let id = 1000; id < 1040; id++) out.push(alloc(id, BUCKET + BUCKET / 2 - 16));
  // Odd ones freed, then even ones: each even block's free merges into the free block after it
  // (its address moves down into an earlier bucket) or into the one before it (address kept).
  for (let id = 1001; id < 1040; id += 4) out.push(free(id));
  for (let id = 1000; id < 1040; id += 4) out.push(free(id));
  // Small blocks cut those free blocks from the rover; a realloc grows into the next free block.
  for (let id = 2000; id < 2030; id++) out.push(alloc(id, 40 + 100 * (id % 7)));
  out.push(realloc(1002, BUCKET * 2), realloc(1006, 3 * BUCKET - 100), realloc(1010, BUCKET + BUCKET / 2));
  // Requests no bucket holds: the search climbs to the top and finds nothing, then wraps or carves.
  out.push(alloc(3000, 12 * BUCKET), alloc(3001, 40), alloc(3002, 5 * BUCKET));
  // The heap grows far past the debug cap (64 buckets of 4 KiB) with free blocks in the index.
  for (let id = 3100; id < 3140; id++) out.push(alloc(id, 20 * KiB + id));
  for (let id = 3100; id < 3140; id += 3) out.push(free(id));
  for (let id = 3200; id < 3230; id++) out.push(alloc(id, 64 * KiB * (id % 5 + 1)));
  for (let id = 3200; id < 3230; id += 2) out.push(free(id));
  for (let id = 3300; id < 3340; id++) out.push(alloc(id, 300 + 5000 * (id % 4)));
  // Everything freed in address-unrelated order: merges across buckets, the top takes the rest.
  const ids = [...Array(400).keys(), ...Array.from({ length: 40 }, (_, i) => 1000 + i),
    ...Array.from({ length: 30 }, (_, i) => 2000 + i), 3000, 3001, 3002,
    ...Array.from({ length: 40 }, (_, i) => 3100 + i), ...Array.from({ length: 30 }, (_, i) => 3200 + i),
    ...Array.from({ length: 40 }, (_, i) => 3300 + i)];
  for (const [k, id] of ids.entries()) if (k % 3 === 0) out.push(free(id));
  for (const [k, id] of ids.entries()) if (k % 3 !== 0) out.push(free(id));
  out.push(alloc(4000, 100));
  return out;
}

describe('next-fit bucket index', () => {
  const params = { segmentReserveBytes: 64 * KiB, commitStepBytes: 4 * KiB };
  it.each(['debug', 'release'] as const)('lists, merges, cuts and growth agree with the model (%s)', async (build) => {
    await checkAgainstModel('next-fit', params, new FitModel('next', params), steps(), 10, build);
  });

  // Random calls on heaps that grow to tens of MiB: debug builds rebuild the index with coarser
  // buckets again and again (64 buckets at most), with free blocks of every size in it.
  it('agrees with the reference model on growing heaps (debug: coarse buckets)', async () => {
    const p = { segmentReserveBytes: 64 * KiB, commitStepBytes: 64 * KiB };
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb(96, 16 * MiB), { minLength: 50, maxLength: 400, size: 'max' }), async (s) => {
        await checkAgainstModel('next-fit', p, new FitModel('next', p), s, 20, 'debug');
      }),
      { seed: 0x5eed_b0c7, numRuns: 15 },
    );
  });
});
