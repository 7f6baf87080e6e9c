// Fuzz suite, WinDbg text (see fuzz-properties.ts): generated dumps pasted and damaged, and the
// public transcripts mutated byte by byte, through `heapsim analyze --json`. Fixed seed in CI.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { WINDBG_PROPERTIES } from './fuzz-properties.js';

describe('fuzz: WinDbg text', () => {
  for (const p of WINDBG_PROPERTIES) {
    it(`${p.name} (${p.ciRuns} cases)`, async () => {
      await fc.assert(fc.asyncProperty(p.arbitrary, (c) => p.check(c)), { numRuns: p.ciRuns });
    }, 180_000);
  }
});
