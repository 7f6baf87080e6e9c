// Fuzz suite, trace inputs (see properties.ts): generated traces in every format (gzip too) through
// stats, convert and run against the model's independent counts; byte mutations of them and of
// .hst files through stats, convert, run and the public reader API against the oracle.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { TRACE_PROPERTIES } from './properties.js';

describe('fuzz: traces', () => {
  for (const p of TRACE_PROPERTIES) {
    it(`${p.name} (${p.ciRuns} cases)`, async () => {
      await fc.assert(fc.asyncProperty(p.arbitrary, (c) => p.check(c)), { numRuns: p.ciRuns });
    }, 120_000);
  }
});
