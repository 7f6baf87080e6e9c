// Shared decoding (issue 15): a nine-policy sweep over one trace, in this thread, with every run
// reading and parsing the file itself (the cache off: before) and with the trace decoded once
// for the thread (after). Runs per second of each, medians of alternating repetitions, and the
// ratio measured in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeSweep } from '../dist/sweep/execute.js';
import { planSweep } from '../dist/sweep/plan.js';
import { setDecodedTraceCache } from '../dist/trace/decoded-cache.js';
import { policyNames } from '../dist/policies/registry.js';
import type { BenchFigure } from './engine.bench.js';

const REPETITIONS = 3;
const POLICIES = 9;
const BLOCKS = 60_000;

/** A peak of mixed sizes, most freed, three rounds: ~360 k events of heapsim text. */
function trace(): string {
  const lines = ['#heapsim-trace 1'];
  let id = 1;
  for (let round = 0; round < 3; round++) {
    const ids: number[] = [];
    for (let i = 0; i < BLOCKS; i++) { ids.push(id); lines.push(`a ${id++} ${16 + ((i * 2654435761) >>> 0) % 2000}`); }
    ids.forEach((b, i) => { if (i % 50 !== 0) lines.push(`f ${b}`); });
  }
  return lines.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runDecodeBench(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'heapsim-decode-bench-'));
  try {
    const path = join(dir, 'trace.txt');
    writeFileSync(path, trace());
    // The first nine policies of the registry that run this trace (every one does today).
    const policies = policyNames().slice(0, POLICIES);
    const jobs = planSweep({ inputs: [path], policies, settings: [], seeds: [1] });
    const before: number[] = [];
    const after: number[] = [];
    for (let r = 0; r < REPETITIONS; r++) {
      for (const [on, out] of [[false, before], [true, after]] as const) {
        setDecodedTraceCache(on);
        const t0 = performance.now();
        await executeSweep(jobs, { jobs: 1 });
        out.push(jobs.length / ((performance.now() - t0) / 1000));
      }
    }
    setDecodedTraceCache(true);
    const b = median(before);
    const a = median(after);
    return [
      { name: `${jobs.length}-policy sweep of one text trace, each run decodes it (before)`, value: Number(b.toFixed(2)), unit: 'runs/s', note: `median of ${REPETITIONS}, one thread` },
      { name: `${jobs.length}-policy sweep of one text trace, decoded once per thread (after)`, value: Number(a.toFixed(2)), unit: 'runs/s', note: `median of ${REPETITIONS}, one thread` },
      { name: 'shared decoding speed-up, after / before', value: Number((a / b).toFixed(2)), unit: 'x' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `npx tsx bench/decode.bench.ts` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runDecodeBench()) console.log(`${f.name}: ${f.value} ${f.unit}${f.note ? `  (${f.note})` : ''}`);
}
