// Fuzz suite, embedding API (see engine-properties.ts): op buffers of any content through the
// engine, requests of any shape through the engine service the worker runs.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ENGINE_PROPERTIES } from './engine-properties.js';

describe('fuzz: engine API', () => {
  for (const p of ENGINE_PROPERTIES) {
    it(`${p.name} (${p.ciRuns} cases)`, async () => {
      await fc.assert(fc.asyncProperty(p.arbitrary, (c) => p.check(c)), { numRuns: p.ciRuns });
    }, 180_000);
  }
});
