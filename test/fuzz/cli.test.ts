// Fuzz suite, command line (see cli-properties.ts): option names and values for every command,
// and special paths (directories, FIFOs, devices, symlink loops, missing or odd names) as inputs
// and outputs.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { CLI_PROPERTIES } from './cli-properties.js';

describe('fuzz: command line', () => {
  for (const p of CLI_PROPERTIES) {
    it(`${p.name} (${p.ciRuns} cases)`, async () => {
      await fc.assert(fc.asyncProperty(p.arbitrary, (c) => p.check(c)), { numRuns: p.ciRuns });
    }, 180_000);
  }
});
