// npm run bench: every benchmark, one figure per line. Speed figures are medians of one run; on a
// shared machine compare ratios measured in the same run, not absolute numbers across runs.
import { runEngineBench, type BenchFigure } from './engine.bench.js';
import { runTraceBench } from './traces.bench.js';
import { runSweepBench } from './sweep.bench.js';
import { runPeaksBench } from './peaks.bench.js';
import { runDecodeBench } from './decode.bench.js';
import { runDispatchBench } from './dispatch.bench.js';
import { runJemallocBench } from './jemalloc.bench.js';
import { runWindbgBench } from './windbg.bench.js';
import { runReplayBench } from './replay.bench.js';

const suites: Array<[string, () => Promise<BenchFigure[]>]> = [
  ['engine', runEngineBench],
  ['exact peaks', runPeaksBench],
  ['traces', runTraceBench],
  ['sweep', runSweepBench],
  ['shared decoding (issue 15)', runDecodeBench],
  ['dispatch', () => runDispatchBench()],
  ['jemalloc', runJemallocBench],
  ['windbg', runWindbgBench],
  ['replay against native glibc (issue 16)', runReplayBench],
];

for (const [name, run] of suites) {
  console.log(`# ${name}`);
  for (const f of await run()) console.log(`${f.name}: ${f.value.toLocaleString('en-US')} ${f.unit}${f.note ? `  (${f.note})` : ''}`);
}
