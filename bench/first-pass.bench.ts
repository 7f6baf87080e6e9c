// First pass against warm pass of the engine, per policy (issue 16 point 4): in a fresh process,
// the bench recording's op batches are decoded once, then the engine alone replays them
// (runWorkload, a new engine instance each time) FIRST_PASSES + WARM_PASSES times. The first pass
// pays what a `heapsim run` pays once: WASM code still in its baseline tier, fresh engine memory,
// tables grown from empty; the warm passes run hot code (median of them). Every policy runs in
// `reps` fresh processes, interleaved; the figure is the median of their first / warm ratios.
//
//   npx tsx bench/first-pass.bench.ts     (run `npx tsx bench/replay.bench.ts` once first: it
//                                          records the program and writes the .hst this reads)
//   HEAPSIM_BENCH_POLICIES=first-fit,nt   only these policies
//   HEAPSIM_BENCH_REPS=5                  fresh processes per policy (default 5)
//   HEAPSIM_BENCH_TRACE=path.hst          another trace
//   HEAPSIM_BENCH_NODE_FLAGS="--no-liftoff"  flags for the child processes (e.g. to take the
//                                          baseline tier out of the first pass)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { policyNames } from '../dist/policies/registry.js';
import { runWorkload } from '../dist/run/run.js';
import { preDecoded } from './decoded.js';
import type { Workload } from '../dist/workload/workload.js';

const REPO = join(import.meta.dirname, '..');
const DEFAULT_TRACE = join(REPO, 'node_modules', '.cache', 'heapsim-bench', 'python.hst');
const WARM_PASSES = 3;
/** The issue's threshold: a policy whose first pass is slower than this times its warm pass gets a look. */
const FIRST_OVER_WARM_LIMIT = 1.3;
const CHILD_FLAG = '--child';

interface Passes { first: number; warm: number[]; events: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** CPU seconds of one engine pass over the batches. */
async function pass(workload: Workload, policy: string): Promise<{ cpuS: number; events: number }> {
  const c0 = process.cpuUsage();
  const doc = await runWorkload(workload, { policy });
  const c = process.cpuUsage(c0);
  return { cpuS: (c.user + c.system) / 1e6, events: doc.events };
}

/** In the child: decode, then the first and the warm passes; prints the CPU seconds as JSON. */
async function child(trace: string, policy: string): Promise<void> {
  const workload = await preDecoded(trace);
  const first = await pass(workload, policy);
  const warm: number[] = [];
  for (let i = 0; i < WARM_PASSES; i++) {
    const w = await pass(workload, policy);
    if (w.events !== first.events) throw new Error(`first-pass bench: pass gave ${w.events} events, the first ${first.events}`);
    warm.push(w.cpuS);
  }
  const out: Passes = { first: first.cpuS, warm, events: first.events };
  process.stdout.write(JSON.stringify(out) + '\n');
}

export async function runFirstPassBench(): Promise<string[]> {
  const trace = process.env.HEAPSIM_BENCH_TRACE ?? DEFAULT_TRACE;
  if (!existsSync(trace)) throw new Error(`first-pass bench: ${trace} is missing (run npx tsx bench/replay.bench.ts once)`);
  const reps = Number(process.env.HEAPSIM_BENCH_REPS ?? 5);
  const policies = process.env.HEAPSIM_BENCH_POLICIES?.split(',').filter(Boolean) ?? policyNames();
  const nodeFlags = process.env.HEAPSIM_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const results = new Map<string, Passes[]>(policies.map((p) => [p, []]));
  const load = loadavg()[0]!;
  for (let r = 0; r < reps; r++) {
    for (const p of policies) {
      const c = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', import.meta.filename, CHILD_FLAG, trace, p], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (c.status !== 0) throw new Error(`first-pass bench: ${p} failed (${c.status}): ${c.stderr.slice(-2000)}`);
      const passes = JSON.parse(c.stdout.trim().split('\n').pop()!) as Passes;
      results.get(p)!.push(passes);
      process.stderr.write(`first-pass bench: ${p} (process ${r + 1} of ${reps}): first ${passes.first.toFixed(3)} s, warm ${passes.warm.map((w) => w.toFixed(3)).join(' ')} s CPU\n`);
    }
  }
  const lines: string[] = [];
  for (const p of policies) {
    const rs = results.get(p)!;
    const ratios = rs.map((x) => x.first / median(x.warm));
    const r = median(ratios);
    lines.push(`first / warm engine pass: ${p}: ${r.toFixed(2)}×  (first ${median(rs.map((x) => x.first)).toFixed(3)} s CPU, ` +
      `warm ${median(rs.map((x) => median(x.warm))).toFixed(3)} s CPU; ${rs[0]!.events} events; median of ${reps} processes` +
      `${r > FIRST_OVER_WARM_LIMIT ? `; above ${FIRST_OVER_WARM_LIMIT}` : ''})`);
  }
  lines.push(`load average ${load.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end${nodeFlags.length ? `; node flags ${nodeFlags.join(' ')}` : ''}`);
  return lines;
}

if (process.argv[2] === CHILD_FLAG) {
  await child(process.argv[3]!, process.argv[4]!);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const l of await runFirstPassBench()) console.log(l);
}
