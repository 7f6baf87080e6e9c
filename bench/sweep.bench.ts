// Sweep on a worker pool: wall time of one plan (peak-hour × first-fit, pool × seeds 1–4) with
// one job slot (this thread) and with two worker threads, medians of alternating repetitions, and
// the ratio. Beside it, the same ratio for a plain CPU loop in two threads: what this machine
// gave two threads at that moment (on a shared machine another process may hold a core).
import { Worker } from 'node:worker_threads';
// The built modules (npm run bench builds first): from sources every worker would start through
// tsx's loader and compile the sources again, which is not what a user of the package pays.
import { executeSweep } from '../dist/sweep/execute.js';
import { planSweep } from '../dist/sweep/plan.js';
import { startNodeWorker } from '../dist/worker/node.js';
import type { BenchFigure } from './engine.bench.js';

const REPETITIONS = 3;
const LOOP_ITERATIONS = 2e8;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function cpuLoop(): Promise<void> {
  const code = `let x = 0; for (let i = 0; i < ${LOOP_ITERATIONS}; i++) x = (x * 31 + i) | 0; require('node:worker_threads').parentPort.postMessage(x);`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', () => { void w.terminate().then(() => resolve()); });
    w.once('error', reject);
  });
}

export async function runSweepBench(): Promise<BenchFigure[]> {
  const jobs = planSweep({ inputs: ['peak-hour'], policies: ['first-fit', 'pool'], settings: [], seeds: [1, 2, 3, 4] });
  const one: number[] = [];
  const two: number[] = [];
  for (let r = 0; r < REPETITIONS; r++) {
    one.push(await seconds(() => executeSweep(jobs, { jobs: 1 })));
    two.push(await seconds(() => executeSweep(jobs, { jobs: 2 })));
  }
  const loopSequential = await seconds(async () => { await cpuLoop(); await cpuLoop(); });
  const loopParallel = await seconds(() => Promise.all([cpuLoop(), cpuLoop()]));
  const start = await seconds(async () => {
    const ws = await Promise.all([startNodeWorker(), startNodeWorker()]);
    await Promise.all(ws.map((w) => w.terminate()));
  });
  const s1 = median(one);
  const s2 = median(two);
  return [
    { name: `sweep ${jobs.length} runs, --jobs 1`, value: Number(s1.toFixed(2)), unit: 's', note: `median of ${REPETITIONS}` },
    { name: `sweep ${jobs.length} runs, --jobs 2`, value: Number(s2.toFixed(2)), unit: 's', note: `median of ${REPETITIONS}, worker start included` },
    { name: 'sweep speed-up, --jobs 1 / --jobs 2', value: Number((s1 / s2).toFixed(2)), unit: 'x' },
    { name: 'two-thread CPU loop speed-up (machine reference)', value: Number((loopSequential / loopParallel).toFixed(2)), unit: 'x', note: '2.0 = two free cores' },
    { name: 'two engine workers ready (module posted) and stopped', value: Math.round(start * 1000), unit: 'ms' },
  ];
}
