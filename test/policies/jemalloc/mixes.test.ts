// Random mixes of malloc, calloc, memalign, realloc, free and purges, replayed through the real
// jemalloc and through the jemalloc policy: every statistic must agree after every single call,
// for each setting the fidelity tests use. The model's invariants are checked after every batch.
import { describe, expect } from 'vitest';
import {
  oracleIt, runJemallocOracle, runJemallocSim, paramsFor, firstDifference, workload, opsScript, SETTINGS,
  type WorkloadShape,
} from './harness.js';

const MIXES: { name: string; seed: number; shape: WorkloadShape }[] = [
  { name: 'small objects, churn', seed: 11, shape: { ops: 1500, tiny: 60, small: 35, medium: 5, large: 0, huge: 0, maxLive: 400, trim: 0.001 } },
  { name: 'all sizes, reallocs and memalign', seed: 12, shape: { ops: 1500, maxLive: 300 } },
  { name: 'large and huge blocks', seed: 13, shape: { ops: 800, tiny: 10, small: 10, medium: 30, large: 30, huge: 20, maxLive: 60, realloc: 0.25 } },
];

describe('jemalloc policy equals jemalloc 5.3.0 after every call (random mixes)', () => {
  for (const [label, conf] of Object.entries(SETTINGS)) {
    for (const mix of MIXES) {
      oracleIt(`${mix.name} (${label})`, async () => {
        const ops = workload(mix.seed, mix.shape);
        const real = runJemallocOracle({ text: opsScript(ops) }, { conf, ops: true, every: 1 });
        const sim = await runJemallocSim(ops, { params: paramsFor(conf), every: 1, check: true, build: 'debug' });
        expect(firstDifference(real, sim.checkpoints)).toBeUndefined();
        expect(sim.checkpoints.length).toBeGreaterThan(mix.shape.ops);
      }, 60_000);
    }
  }
});
