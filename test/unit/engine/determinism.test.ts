import { expect, it } from 'vitest';
import { peakHour } from '../../../src/workload/peak-hour.js';
import { runWorkload } from '../../../src/run/run.js';

const small = { baseLiveBlocks: 2000, peakLiveBlocks: 10000, phaseEvents: [20000, 10000, 20000, 10000, 20000] as [number, number, number, number, number] };

it('the same workload, seed and policy give the same checkpoints, byte for byte', async () => {
  const a = await runWorkload(peakHour({ seed: 42, ...small }), { policy: 'first-fit', every: 5000 });
  const b = await runWorkload(peakHour({ seed: 42, ...small }), { policy: 'first-fit', every: 5000 });
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  expect(a.checkpoints.length).toBe(16 + 3);
  const c = await runWorkload(peakHour({ seed: 43, ...small }), { policy: 'first-fit', every: 5000 });
  expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
});

it('periodic checkpoint k is taken after event k × N and marks carry their event', async () => {
  const doc = await runWorkload(peakHour({ seed: 1, ...small }), { policy: 'first-fit', every: 7000 });
  const periodic = doc.checkpoints.filter((c) => c.label.startsWith('#')).map((c) => c.event);
  expect(periodic).toEqual(Array.from({ length: Math.floor(80000 / 7000) }, (_, k) => (k + 1) * 7000));
  const marks = Object.fromEntries(doc.checkpoints.filter((c) => !c.label.startsWith('#')).map((c) => [c.label, c.event]));
  expect(marks).toEqual({ before: 20000, peak: 50000, after: 80000 });
});
