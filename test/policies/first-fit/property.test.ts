import fc from 'fast-check';
import { describe, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { actionArb, runActions } from './harness.js';

describe('first-fit under random op sequences', () => {
  it('keeps every invariant and the counters equal to a recount (x86)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(actionArb(600_000), { minLength: 1, maxLength: 300 }), async (actions) => {
      const e = await createEngine({ arch: 'x86', build: 'debug' });
      runActions(e, e.createHeap('first-fit'), actions);
    }), { numRuns: 60, seed: 1 });
  });

  it('keeps them with small segments and eager decommit (x64)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(actionArb(200_000), { minLength: 1, maxLength: 300 }), async (actions) => {
      const e = await createEngine({ arch: 'x64', build: 'debug' });
      const h = e.createHeap('first-fit', {
        params: { segmentReserveBytes: '64K', segmentCommitBytes: '4K', decommitBlockBytes: '4K', decommitTotalBytes: 0, largeBlockBytes: '32K' },
      });
      runActions(e, h, actions);
    }), { numRuns: 60, seed: 2 });
  });
});
