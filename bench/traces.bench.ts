// Trace reading throughput: .hst events parsed per second and mtrace lines parsed per second, on
// generated data (a seeded alloc/free mix around a bounded live set) in a temporary directory.
// "Parsed" means read from disk, decoded, ids mapped and checked, counters kept: everything a
// replay does before the engine, except building op records (measured separately). Rates use the
// median run, so a burst of load from other work on a shared machine moves them less.
//
//   npx tsx bench/traces.bench.ts          runs on its own
//   runTraceBench()                        for bench/index.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { readTrace } from '../src/trace/read.js';
import { traceToOps } from '../src/trace/replay.js';
import { syntheticMtrace, writeSyntheticHst } from '../src/trace/synthetic.js';

const HST_EVENTS = 3_000_000;
const MTRACE_EVENTS = 1_000_000;
const ITERATIONS = 7;
const WARMUP_ITERATIONS = 2;
const MS_PER_SECOND = 1000;

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
}

export async function runTraceBench(): Promise<BenchFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'heapsim-trace-bench-'));
  try {
    const hst = join(dir, 'bench.hst');
    await writeSyntheticHst(hst, { events: HST_EVENTS });
    const mtrace = join(dir, 'bench.mtrace');
    const text = syntheticMtrace({ events: MTRACE_EVENTS });
    const mtraceLines = text.split('\n').length - 1;
    await writeFile(mtrace, text);

    const bench = new Bench({ iterations: ITERATIONS, warmupIterations: WARMUP_ITERATIONS, time: 0, warmupTime: 0 });
    let check = 0;
    bench.add('hst parse', async () => {
      check += (await readTrace(hst, null)).ledger.events;
    });
    bench.add('hst to op batches', async () => {
      for await (const ops of traceToOps(hst)) check += ops.length;
    });
    bench.add('mtrace parse', async () => {
      check += (await readTrace(mtrace, null)).ledger.events;
    });
    await bench.run();
    const rate = (name: string, units: number): number => {
      const r = bench.tasks.find((t) => t.name === name)!.result;
      if (r.state !== 'completed') throw new Error(`bench task ${name}: ${r.state}`);
      return Math.round(units / (r.latency.p50 / MS_PER_SECOND));
    };
    if (check === 0) throw new Error('bench read nothing');
    return [
      { name: 'trace: .hst parse', value: rate('hst parse', HST_EVENTS), unit: 'events/s' },
      { name: 'trace: .hst to op batches', value: rate('hst to op batches', HST_EVENTS), unit: 'events/s' },
      { name: 'trace: mtrace text parse', value: rate('mtrace parse', mtraceLines), unit: 'lines/s' },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatFigures(figures: BenchFigure[]): string {
  return figures.map((f) => `${f.name.padEnd(32)} ${(f.value / 1e6).toFixed(2).padStart(8)} M ${f.unit}`).join('\n') + '\n';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(formatFigures(await runTraceBench()));
}
