// ptmalloc's chunk record holds a chunk's arena as a 5-bit code (assembly/policies/ptmalloc/ptmalloc.ts
// "chunk record"): arenas 0..29 inline, the rest in the wide arena table. A run with more arenas
// than that (MALLOC_ARENA_MAX=40, up to 40 threads at once) frees chunks of the wide arenas from
// every thread (each free goes to the chunk's own arena) and must still agree with the real
// glibc 2.36 after every call, with the invariant check (P1 checks each chunk's arena) after every
// call in the debug build.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, threadedWorkload, firstDifference } from './harness.js';
import { parseGlibcEnv } from '../../../src/policies/ptmalloc/glibc-env.js';

const info = oracle();
if (info.skipReason) console.warn(`[ptmalloc wide arenas] ${info.skipReason}`);
const itOracle = info.binary ? it : it.skip;

const ARENA_CODE_WIDE = 30;      // ptmalloc.ts: arena indexes from here on live in the wide table
const ARENA_MAX = 40;
const SHAPE = { ops: 1500, maxThreads: ARENA_MAX, spawnRate: 0.06, endRate: 0.002 };

describe('ptmalloc: arenas past the record\'s inline arena codes', () => {
  for (const build of ['debug', 'release'] as const) {
    itOracle(`${ARENA_MAX} arenas match glibc 2.36 after every call (${build})`, async () => {
      const env = { MALLOC_ARENA_MAX: String(ARENA_MAX) };
      const ops = threadedWorkload(7, SHAPE);
      const real = runOracle({ text: opsScript(ops) }, { ops: true, every: 1, env, arenas: true });
      const params = { ...parseGlibcEnv(`MALLOC_ARENA_MAX=${ARENA_MAX}`), cores: real.cores! };
      const sim = await runSim(ops, { every: 1, params, build, check: true });
      expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
      expect(real.checkpoints.at(-1)!.arenas!.length).toBeGreaterThan(ARENA_CODE_WIDE);
    });
  }
});
