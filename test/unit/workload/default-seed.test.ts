// A workload made without a seed uses its default seed (peak-hour: 1), through every entry point.
import { expect, it } from 'vitest';
import { WORKLOADS, makeWorkload } from '../../../src/workload/index.js';
import { EngineService } from '../../../src/worker/service.js';

it('makeWorkload without a seed runs with the default seed', async () => {
  for (const name of Object.keys(WORKLOADS)) {
    expect(makeWorkload(name).seed, name).toBe(1);
    expect(makeWorkload(name, { seed: undefined }).seed, name).toBe(1);
  }
  const api = new EngineService();
  const unseeded = await api.run({ input: { workload: 'peak-hour' }, policy: 'first-fit' });
  const seeded = await api.run({ input: { workload: 'peak-hour', seed: 1 }, policy: 'first-fit' });
  expect(unseeded).toEqual(seeded);
});
