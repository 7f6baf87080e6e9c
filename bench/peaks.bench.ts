// The cost of exact peaks: the same engine source built twice, as shipped and with the per-op peak
// tracking compiled out (`--use HEAPSIM_NO_PEAKS=1`), timed in one process with the builds
// interleaved round by round (a shared machine makes separate runs incomparable). Two replays of
// pre-built op batches, only the engine timed: first-fit on peak-hour (650 000 ops) and ptmalloc on
// a 1 500 000-event synthetic mtrace. Target: peaks cost under 5 % of replay time.
//
//   npm run bench                                   (this suite among the others)
//   npx tsx bench/peaks.bench.ts                    this suite alone
//   npx tsx bench/peaks.bench.ts A.wasm B.wasm      any two builds, e.g. main's build/release.wasm
//                                                   against this one (the raw harness needs no ABI match)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { instantiate } from '@assemblyscript/loader';
import { OpBuffer } from '../src/engine/ops.js';
import { getPolicy } from '../src/policies/registry.js';
import { peakHour } from '../src/workload/peak-hour.js';
import { openReplay } from '../src/trace/replay.js';
import { syntheticMtrace } from '../src/trace/synthetic.js';
import type { BenchFigure } from './engine.bench.js';

const ROOT = resolve(import.meta.dirname, '..');
const SHIPPED = join(ROOT, 'build', 'release.wasm');
const NO_PEAKS = join(ROOT, 'build', 'release-nopeaks.wasm');
const ROUNDS = 15;
const TRACE_EVENTS = 1_500_000;
const ARCH_X86 = 0;
const ARCH_X64 = 2;
const OP_WORDS = 4;
const PARAM_SLOTS = 64;

interface Raw {
  memory: WebAssembly.Memory;
  engineInit(arch: number, every: number): number;
  opsPtr(capacity: number): number;
  paramsPtr(): number;
  runBatch(count: number): number;
}

/**
 * Builds the variant without peaks when it is missing or older than the engine sources or the
 * shipped build: a variant kept from an older engine (copied with build/, say) compares two
 * different engines, and did once make peaks look like 60 % of replay time.
 */
function buildNoPeaks(): void {
  const newest = (dir: string): number => Math.max(...readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => statSync(join(e.parentPath, e.name)).mtimeMs));
  if (existsSync(NO_PEAKS) && statSync(NO_PEAKS).mtimeMs > Math.max(newest(join(ROOT, 'assembly')), statSync(SHIPPED).mtimeMs)) return;
  execFileSync(join(ROOT, 'node_modules', '.bin', 'asc'), ['assembly/index.ts', '--target', 'release', '--use', 'HEAPSIM_NO_PEAKS=1', '--outFile', NO_PEAKS],
    { cwd: ROOT, stdio: 'inherit' });
}

interface Job { name: string; arch: number; policy: string; batches: OpBuffer[]; ops: number }

async function jobs(): Promise<Job[]> {
  const peak = [...(peakHour({ seed: 1 }).batches() as Iterable<OpBuffer>)];
  const dir = mkdtempSync(join(tmpdir(), 'heapsim-peaks-'));
  const file = join(dir, 'synthetic.mtrace');
  writeFileSync(file, syntheticMtrace({ events: TRACE_EVENTS, seed: 3 }));
  const replay = await openReplay(file);
  const trace: OpBuffer[] = [];
  for await (const b of replay.batches()) {
    const copy = new OpBuffer(b.length);
    copy.words.set(b.words.subarray(0, b.length * OP_WORDS));
    copy.length = b.length;
    trace.push(copy);
  }
  rmSync(dir, { recursive: true, force: true });
  const count = (bs: OpBuffer[]): number => bs.reduce((s, b) => s + b.length, 0);
  return [
    { name: 'first-fit, peak-hour', arch: ARCH_X86, policy: 'first-fit', batches: peak, ops: count(peak) },
    { name: `ptmalloc, ${TRACE_EVENTS}-event mtrace`, arch: ARCH_X64, policy: 'ptmalloc', batches: trace, ops: count(trace) },
  ];
}

/**
 * One fresh instance, one heap, every batch through runBatch; returns milliseconds of CPU time of
 * this process (user + system) spent in the replay: on a shared machine the process is descheduled
 * for long stretches, which wall time would count and CPU time does not.
 */
async function time(module: WebAssembly.Module, job: Job): Promise<number> {
  const x = (await instantiate<Record<string, unknown>>(module, { env: { seed: () => 0 } })).exports as unknown as Raw;
  if (x.engineInit(job.arch, 0) !== 0) throw new Error('engineInit failed');
  const spec = getPolicy(job.policy);
  new Float64Array(x.memory.buffer, x.paramsPtr(), PARAM_SLOTS).fill(NaN);
  const create = new OpBuffer(1);
  create.heapCreate(0, spec.id, -1, 0, spec.params.length);
  const run = (b: OpBuffer): number => {
    const ptr = x.opsPtr(Math.max(b.length, 4096));
    new Uint32Array(x.memory.buffer, ptr, b.length * OP_WORDS).set(b.words.subarray(0, b.length * OP_WORDS));
    return x.runBatch(b.length);
  };
  if (run(create)) throw new Error('heap create failed');
  let failed = 0;
  const c0 = process.cpuUsage();
  for (const b of job.batches) failed += run(b);
  const c = process.cpuUsage(c0);
  if (failed) throw new Error(`${job.name}: ${failed} ops failed: the build does not run these ops`);
  return (c.user + c.system) / 1000;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

/** Interleaved A/B: medians per build and job, and B's extra time over A in percent. */
export async function comparePeaks(pathA: string, pathB: string, rounds = ROUNDS): Promise<{ job: string; ops: number; aMs: number; bMs: number; costPct: number }[]> {
  const mods = [pathA, pathB].map((p) => new WebAssembly.Module(readFileSync(p)));
  const all = await jobs();
  const out = [];
  for (const job of all) {
    const t: number[][] = [[], []];
    for (const m of mods) await time(m, job); // warm-up
    for (let r = 0; r < rounds; r++) for (const k of r & 1 ? [1, 0] : [0, 1]) t[k]!.push(await time(mods[k]!, job));
    const a = median(t[0]!), b = median(t[1]!);
    out.push({ job: job.name, ops: job.ops, aMs: a, bMs: b, costPct: ((b - a) / a) * 100 });
  }
  return out;
}

export async function runPeaksBench(): Promise<BenchFigure[]> {
  buildNoPeaks();
  const rows = await comparePeaks(NO_PEAKS, SHIPPED);
  return rows.map((r) => ({
    name: `exact peaks cost (${r.job})`, value: Math.round(r.costPct * 10) / 10, unit: '% of replay time',
    note: `${r.ops} ops, CPU time, median of ${ROUNDS} interleaved rounds: without peaks ${r.aMs.toFixed(1)} ms, with ${r.bMs.toFixed(1)} ms; target < 5 %: ${r.costPct < 5 ? 'met' : 'NOT met'}`,
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const [a, b] = process.argv.slice(2);
  if (a && b) {
    for (const r of await comparePeaks(a, b)) {
      console.log(`${r.job}: A ${r.aMs.toFixed(1)} ms, B ${r.bMs.toFixed(1)} ms (${r.ops} ops), B costs ${r.costPct.toFixed(1)} % more than A`);
    }
  } else {
    for (const f of await runPeaksBench()) console.log(`${f.name}: ${f.value} ${f.unit} (${f.note})`);
  }
}
