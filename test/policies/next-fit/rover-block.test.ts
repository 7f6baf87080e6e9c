// next-fit's rover block (textbook/fit.ts H.roverBlk): the free block that starts at the rover is kept
// out of the address tree and tried first. Every way it can change is driven here, one call per batch
// (the engine's invariants, F3 included, are checked after each), against the reference model:
// carved again, grown by a free behind it (and by the hole after that), cut by a realloc that grows
// into it, taken whole by a realloc, merged into a freed block below it, given to the top, left for
// another block (it goes back into the tree and is found again by a wrapped search), and a block used
// whole elsewhere.
import { describe, it } from 'vitest';
import { checkAgainstModel, type Step, KiB } from '../textbook/harness.js';
import { FitModel } from '../textbook/fit-model.js';

const params = { segmentReserveBytes: 64 * KiB, commitStepBytes: 4 * KiB };

const alloc = (id: number, size: number): Step => ({ op: 'alloc', id, size, alignLog2: 0 });
const free = (id: number): Step => ({ op: 'free', id });
const realloc = (id: number, size: number): Step => ({ op: 'realloc', id, size });

// Holes of 1 KiB (ids 0, 2, 4, 6) between 32-byte busy blocks (ids 1, 3, 5, 7), then a last busy
// block (id 8) below the top.
const holes: Step[] = [
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((id) => alloc(id, id % 2 ? 16 : 1008)),
  alloc(8, 16),
  free(0), free(2), free(4), free(6),
];

const cases: Record<string, Step[]> = {
  'carved again, grown by a free behind it, cut by a realloc': [
    ...holes,
    alloc(10, 100),      // hole 0's front; its rest is the rover block
    alloc(11, 100),      // the rover block carved again
    free(1),             // the busy block behind the rover block: it grows by it and by hole 2
    alloc(12, 1500),     // only the grown rover block holds it
    realloc(12, 1700),   // grows into the rover block: cut at its front, it leaves the rover
    alloc(13, 100),      // from the rover: the cut rest, now in the tree
    free(13), free(12), free(11), free(10),
    alloc(14, 50),
  ],
  'taken whole by a realloc, merged into a freed block below it': [
    ...holes,
    alloc(10, 100),      // rover block = hole 0's rest (896 bytes)
    realloc(10, 1000),   // 1024 bytes: takes the rover block whole
    alloc(11, 200),      // hole 2's front; rover block = its rest
    free(11),            // the freed block below it takes it in
    alloc(12, 300),      // from the rover, into the tree's block above it
    alloc(13, 300),
    realloc(13, 40),     // shrinks: the tail freed before the rover block merges with it
    alloc(15, 100),
  ],
  'left for another block, found again by a wrapped search': [
    ...holes,
    alloc(10, 600),      // hole 0: rover block = its rest (400 bytes)
    alloc(11, 900),      // does not fit it: hole 2, whose rest is the rover block now
    alloc(12, 300),      // nothing at or above the rover holds 300 but hole 4 and 6: hole 4
    alloc(13, 1008),     // hole 6 used whole: no rover block after it
    alloc(14, 350),      // wraps: hole 0's rest
    alloc(15, 20),       // the rover block again
    free(10), free(15), free(14),
    alloc(16, 990),      // wraps to hole 0's merged block, used whole
  ],
  'given to the top': [
    ...holes,
    free(8),             // the last busy block: the top takes it and hole 6
    alloc(10, 100),      // hole 0
    free(7), free(5), free(3), free(1),   // the rover block grows to the top, then the top takes it
    alloc(11, 100),
    alloc(12, 4000),
    { op: 'trim', pad: 0 },
    alloc(13, 100),
  ],
};

describe('next-fit rover block', () => {
  for (const [name, steps] of Object.entries(cases)) {
    for (const build of ['debug', 'release'] as const) {
      it(`${name} (${build})`, async () => {
        await checkAgainstModel('next-fit', params, new FitModel('next', params), steps, 1, build);
      });
    }
  }
});
