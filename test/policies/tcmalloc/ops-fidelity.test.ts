// The tcmalloc policy against the real library, call by call: reproducible random mixes of malloc,
// calloc, memalign (up to 4 KiB alignment), realloc, free and ReleaseFreeMemory(), replayed through
// the oracle and the engine; the eight statistics must agree after every call.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, workload, firstDifference, type TcOp, type WorkloadShape } from './harness.js';
import { parseTcmallocEnv } from '../../../src/policies/tcmalloc/env.js';

const info = oracle();
if (info.skipReason) console.warn(`[tcmalloc ops fidelity] ${info.skipReason}`);
const itOracle = info.binary ? it : it.skip;

async function agree(ops: TcOp[], env: Record<string, string> = {}, every = 1, build: 'debug' | 'release' = 'debug'): Promise<number> {
  const params = parseTcmallocEnv(Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n')).params;
  const real = runOracle({ text: opsScript(ops) }, { ops: true, every, env });
  const sim = await runSim(ops, { every, params, build, check: build === 'debug' });
  expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
  return real.checkpoints.length;
}

const SHAPES: Record<string, WorkloadShape> = {
  mixed: { ops: 5000 },
  smallChurn: { ops: 5000, tiny: 80, small: 15, medium: 3, large: 1, huge: 1, maxLive: 3000 },
  bigBlocks: { ops: 3000, tiny: 10, small: 20, medium: 30, large: 25, huge: 15, maxLive: 300 },
  reallocHeavy: { ops: 5000, free: 0.3, realloc: 0.35, maxLive: 800 },
};
const SETTINGS: Record<string, Record<string, string>> = {
  defaults: {},
  'aggressive decommit': { TCMALLOC_AGGRESSIVE_DECOMMIT: '1' },
};

describe('tcmalloc matches gperftools 2.10 after every call', () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    for (const seed of [1, 2]) {
      for (const [label, env] of Object.entries(SETTINGS)) {
        itOracle(`${name} #${seed}, ${label}`, async () => {
          await agree(workload(seed * 7919 + name.length, shape), env);
        });
      }
    }
  }

  itOracle('a small thread-cache budget and a fast release rate', async () => {
    await agree(workload(77, { ops: 6000, maxLive: 2500 }), { TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES: '600000', TCMALLOC_RELEASE_RATE: '10' });
  });

  itOracle('a long mixed run, checkpoints every 100 events (release build)', async () => {
    const n = await agree(workload(424242, { ops: 60000, maxLive: 4000 }), {}, 100, 'release');
    expect(n).toBeGreaterThanOrEqual(601); // 600 periodic + trims + the end
  });
});
