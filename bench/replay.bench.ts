// Replay speed against the real allocator (issue 16): a recording of a real program (CPython with
// PYTHONMALLOC=malloc, so every object goes through malloc) made by this bench with
// `heapsim record`, replayed
//   - natively: bench/native/replay.c, built here with the machine's C compiler and linked with its
//     glibc, replays the same pre-parsed calls: cold (pass 1 of a fresh process) and warm (best of
//     three later passes);
//   - by `heapsim run X.hst --policy P` as a whole process (node start included), every policy;
//   - in this process, warm (the module compiled, the code hot): the same replay through the API,
//     and the engine alone on the trace's op batches decoded beforehand (the issue's "in-process
//     warm engine", which its targets name);
//   - gzipped mtrace end to end: `heapsim run X.mtrace.gz` against `gzip -dc X.mtrace.gz |
//     replay-native mtrace`;
//   - peak RSS of `heapsim run` on a 20 M-event trace.
// Every figure is a median of repetitions interleaved in this one run, reported as a ratio: the
// machine is shared, so absolute times move with its load (printed with the figures). Times are
// wall clock and CPU time (user + system of every thread and child): under load the CPU times are
// the steadier comparison, and both are printed.
//
//   npx tsx bench/replay.bench.ts         runs on its own (builds nothing: run `npm run build` first)
//   HEAPSIM_BENCH_POLICIES=pool,nt        only these policies
//   HEAPSIM_BENCH_REPS=5                  repetitions of each process (default 5)
//   HEAPSIM_BENCH_ONLY=text               only the text part: gzipped mtrace end to end and the
//                                         mtrace.gz read, on the event path (readTrace) and on
//                                         the replay path (openReplay's batches: what `heapsim
//                                         run` reads) (with a baseline: all also for it)
//   HEAPSIM_BENCH_ONLY=warm               only the native warm replay and the in-process warm
//                                         engine lines (with a baseline: its engine alternating
//                                         with this one's in this process)
//   HEAPSIM_BENCH_ONLY=stats              only `heapsim stats` of the .hst and of the mtrace.gz,
//                                         whole processes (with a baseline: interleaved with its)
//   HEAPSIM_BENCH_BASELINE=/path/to/clone another built checkout (e.g. main before a change): its
//                                         `heapsim run` runs interleaved with this one's, and the
//                                         whole-process figures give this one / baseline
//   HEAPSIM_BENCH_BASELINE_HST=path.hst   the .hst the baseline runs (default: the bench's own):
//                                         the same recording in a version the baseline reads
//                                         (e.g. version 2 for a build before version 3)
//
// The recording, its .hst and .gz forms, the native binary and the 20 M-event trace are kept in
// node_modules/.cache/heapsim-bench (rebuilt when their inputs change).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, createReadStream, createWriteStream } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { policyNames } from '../dist/policies/registry.js';
import { runWorkload } from '../dist/run/run.js';
import { traceWorkload } from '../dist/trace/workload.js';
import { readTrace } from '../dist/trace/read.js';
import { openReplay } from '../dist/trace/replay.js';
import { writeSyntheticHst } from '../dist/trace/synthetic.js';
import type { BenchFigure } from './engine.bench.js';
import { warmBuild, warmEngineFigures, type NativeWarm } from './warm.js';

const REPO = join(import.meta.dirname, '..');
/** A checkout's installed command (package.json "bin"): what `heapsim` runs. */
function cliOf(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { heapsim: string } };
  return join(root, pkg.bin.heapsim);
}
const CLI = cliOf(REPO);
const NATIVE_SOURCE = join(REPO, 'bench', 'native', 'replay.c');
const CACHE = join(REPO, 'node_modules', '.cache', 'heapsim-bench');
const TIME = '/usr/bin/time';

/** The policies the issue's per-policy targets name; the others are reported too. */
const TARGET_POLICIES = ['pool', 'nt', 'ptmalloc', 'first-fit'];
const WHOLE_PROCESS_TARGET = 1.0;
const WARM_TARGET: Record<string, number> = { pool: 1.0, nt: 1.0, ptmalloc: 1.0, 'first-fit': 0.6 };
const GZIP_TARGET = 1.5;
const MTRACE_LINES_TARGET = 5e6;
const RSS_TARGET_BYTES = 150 * 1024 * 1024;
const BIG_TRACE_EVENTS = 20_000_000;
const WARM_PASSES = 3;
/** Timed runs of the in-process replay with decoding (median). */
const IN_PROCESS_RUNS = 3;
const NS_PER_S = 1e9;
const KIB = 1024;
/** Node's environment variable naming extra CA certificates, read (and parsed) by every node process at start. */
const EXTRA_CA_CERTS_VAR = 'NODE_EXTRA_CA_CERTS';

/** The recorded program: builds and drops dicts, JSON, bytes and strings (about 6 M allocator calls). */
const PROGRAM = `import json
d = {}
for i in range(120000):
    d[str(i)] = [i, str(i) * 3, (i, i + 1)]
s = json.dumps({k: v for k, v in list(d.items())[:40000]})
o = json.loads(s)
del d
l = [bytes(i % 3000) for i in range(20000)]
del l[::2]
words = ' '.join(str(i) for i in range(200000)).split()
del words
`;

/** A timed run: wall and CPU seconds; a whole process's peak RSS and minor page faults (first touches of pages, mostly). */
interface Times { wallS: number; cpuS: number; maxRssBytes?: number; minorFaults?: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function digest(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

/** Runs `make` unless `file` exists with the same stamp (a digest of what it is made from). */
async function cached(file: string, stamp: string, make: () => Promise<void> | void): Promise<string> {
  const stampFile = `${file}.stamp`;
  if (existsSync(file) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return file;
  await make();
  writeFileSync(stampFile, stamp);
  return file;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A whole process, timed from here (wall) and by /usr/bin/time (CPU of it and its children, peak
 * RSS, minor page faults of it and its children).
 */
function timedProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Times {
  const useTime = existsSync(TIME);
  const t0 = process.hrtime.bigint();
  const r = useTime
    ? spawnSync(TIME, ['-f', '@times %U %S %M %R', cmd, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 })
    : spawnSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const wallS = Number(process.hrtime.bigint() - t0) / NS_PER_S;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = /@times ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(r.stderr ?? '');
  if (!m) return { wallS, cpuS: NaN };
  return { wallS, cpuS: Number(m[1]) + Number(m[2]), maxRssBytes: Number(m[3]) * KIB, minorFaults: Number(m[4]) };
}

interface Inputs { mtrace: string; gz: string; hst: string; lines: number; native: string; big: string }

async function prepare(): Promise<Inputs> {
  mkdirSync(CACHE, { recursive: true });
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0);
  if (!python) throw new Error('replay bench: python3 is needed for the recorded program');
  const pyVersion = run(python, ['-c', 'import sys; print(sys.version)']);
  const script = join(CACHE, 'program.py');
  writeFileSync(script, PROGRAM);
  const mtrace = await cached(join(CACHE, 'python.mtrace'), digest(PROGRAM, pyVersion), () => {
    process.stderr.write('replay bench: recording the program (once; kept in the cache)…\n');
    run(process.execPath, [CLI, 'record', '-o', join(CACHE, 'python.mtrace'), '--', python, script], { ...process.env, PYTHONMALLOC: 'malloc' });
  });
  const mtraceStamp = digest(String(statSync(mtrace).mtimeMs), String(statSync(mtrace).size));
  const hstWriter = readFileSync(join(REPO, 'dist', 'trace', 'formats', 'hst.js'));
  const hst = await cached(join(CACHE, 'python.hst'), digest(mtraceStamp, hstWriter), () => {
    run(process.execPath, [CLI, 'convert', mtrace, '-o', join(CACHE, 'python.hst')]);
  });
  const gz = await cached(join(CACHE, 'python.mtrace.gz'), mtraceStamp, () =>
    pipeline(createReadStream(mtrace), createGzip(), createWriteStream(join(CACHE, 'python.mtrace.gz'))));
  const native = await cached(join(CACHE, 'replay-native'), digest(readFileSync(NATIVE_SOURCE)), () => {
    run(process.env.CC ?? 'cc', ['-O2', '-o', join(CACHE, 'replay-native'), NATIVE_SOURCE]);
  });
  const big = await cached(join(CACHE, 'synthetic-20m.hst'), digest(String(BIG_TRACE_EVENTS), hstWriter), () =>
    writeSyntheticHst(join(CACHE, 'synthetic-20m.hst'), { events: BIG_TRACE_EVENTS }));
  let lines = 0;
  const text = readFileSync(mtrace);
  for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) lines++;
  return { mtrace, gz, hst, lines, native, big };
}

interface NativePasses { events: number; passes: { wallNs: number; cpuNs: number; minorFaults: number }[] }

/** The native replay: its cold pass (with the minor page faults taken during it) and its best warm pass. */
function nativeHst(inputs: Inputs): { events: number; cold: Times; warm: Times } {
  const out = JSON.parse(run(inputs.native, ['hst', inputs.hst, String(WARM_PASSES)])) as NativePasses;
  const [cold, ...warm] = out.passes;
  return {
    events: out.events,
    cold: { wallS: cold!.wallNs / NS_PER_S, cpuS: cold!.cpuNs / NS_PER_S, minorFaults: cold!.minorFaults },
    warm: { wallS: Math.min(...warm.map((p) => p.wallNs)) / NS_PER_S, cpuS: Math.min(...warm.map((p) => p.cpuNs)) / NS_PER_S },
  };
}

/** One replay in this process through the API `heapsim run` uses; wall and CPU seconds. */
async function inProcess(path: string, policy: string, hstDecoder: 'wasm' | 'js' = 'wasm'): Promise<Times & { events: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const workload = await traceWorkload(path, { hstDecoder });
  const doc = await runWorkload(workload, { policy });
  const wallS = Number(process.hrtime.bigint() - t0) / NS_PER_S;
  const c = process.cpuUsage(c0);
  return { wallS, cpuS: (c.user + c.system) / 1e6, events: doc.events };
}

const ratio = (x: number): number => Math.round(x * 100) / 100;
const met = (r: number, target: number): string => (r >= target ? 'met' : 'NOT met');

/**
 * Gzipped mtrace end to end, against gzip -dc | the native text replay (the four named policies),
 * and the mtrace.gz read alone (gunzip, parse, ids, ledger; no engine) in this process, on the
 * event path and on the replay path; with a baseline, its runs and reads interleaved with this build's.
 */
async function textFigures(inputs: Inputs, policies: string[], reps: number, baselineCli: string | undefined): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const med = (ts: Times[], k: 'wallS' | 'cpuS'): number => median(ts.map((t) => t[k]));
  const gzPolicies = policies.filter((p) => TARGET_POLICIES.includes(p));
  const nativeText: Times[] = [];
  const heapsimText = new Map<string, Times[]>(gzPolicies.map((p) => [p, []]));
  const baselineText = new Map<string, Times[]>(gzPolicies.map((p) => [p, []]));
  for (let r = 0; r < reps; r++) {
    nativeText.push(timedProcess('sh', ['-c', `gzip -dc '${inputs.gz}' | '${inputs.native}' mtrace`]));
    for (const p of gzPolicies) {
      heapsimText.get(p)!.push(timedProcess(process.execPath, [CLI, 'run', inputs.gz, '--policy', p]));
      if (baselineCli) baselineText.get(p)!.push(timedProcess(process.execPath, [baselineCli, 'run', inputs.gz, '--policy', p]));
    }
  }
  const ntCpu = med(nativeText, 'cpuS'), ntWall = med(nativeText, 'wallS');
  const faults = (ts: Times[]): number => Math.round(median(ts.map((t) => t.minorFaults ?? NaN)));
  figures.push({ name: 'gzip -dc | native mtrace replay', value: Math.round(inputs.lines / ntWall), unit: 'lines/s (wall)', note: `CPU ${Math.round(inputs.lines / ntCpu)} lines/s; ${faults(nativeText)} minor page faults (the shell, gzip and the replay); median of ${reps}` });
  for (const p of gzPolicies) {
    const ts = heapsimText.get(p)!;
    const cpu = med(ts, 'cpuS'), wall = med(ts, 'wallS');
    figures.push({
      name: `whole \`heapsim run X.mtrace.gz\` / gzip -dc | native: ${p}`, value: ratio(ntWall / wall), unit: '× (wall)',
      note: `CPU ratio ${ratio(ntCpu / cpu)}; ${Math.round(inputs.lines / wall)} lines/s wall, ${Math.round(inputs.lines / cpu)} CPU; ${faults(ts)} minor page faults; target ≥ ${GZIP_TARGET}: ${met(ntWall / wall, GZIP_TARGET)} (wall)`,
    });
    if (baselineCli) {
      const b = baselineText.get(p)!;
      figures.push({
        name: `whole \`heapsim run X.mtrace.gz\`, this build / baseline: ${p}`, value: ratio(med(b, 'wallS') / wall), unit: '× faster (wall)',
        note: `CPU ${ratio(med(b, 'cpuS') / cpu)}×; baseline / native: ${ratio(ntWall / med(b, 'wallS'))} (wall), ${ratio(ntCpu / med(b, 'cpuS'))} (CPU)`,
      });
    }
  }
  // The reader alone, in this process, on both paths: readTrace (id events to a host Ledger: what
  // stats, convert and advise read) and openReplay's batches (op records written in WASM straight
  // into the batches: what `heapsim run X.mtrace.gz` reads before its engine runs them). One read
  // of each to warm up, then interleaved timed ones.
  type ReadTrace = typeof readTrace;
  type OpenReplay = typeof openReplay;
  const baselineDist = process.env.HEAPSIM_BENCH_BASELINE ? join(process.env.HEAPSIM_BENCH_BASELINE, 'dist', 'trace') : undefined;
  const baselineRead = baselineDist
    ? (await import(pathToFileURL(join(baselineDist, 'read.js')).href) as { readTrace: ReadTrace }).readTrace
    : undefined;
  const baselineReplay = baselineDist
    ? (await import(pathToFileURL(join(baselineDist, 'replay.js')).href) as { openReplay: OpenReplay }).openReplay
    : undefined;
  const timed = async (read: () => Promise<unknown>): Promise<Times> => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await read();
    const c = process.cpuUsage(c0);
    return { wallS: Number(process.hrtime.bigint() - t0) / NS_PER_S, cpuS: (c.user + c.system) / 1e6 };
  };
  const eventRead = (read: ReadTrace) => () => read(inputs.gz, null);
  /** The replay's read: every batch taken (its ops counted, checked against the trace's events). */
  const replayRead = (open: OpenReplay, inflate?: 'thread') => async (): Promise<void> => {
    const replay = await open(inputs.gz, inflate === undefined ? {} : { inflate });
    let ops = 0;
    for await (const batch of replay.batches()) ops += batch.length;
    if (ops < replay.stats.events) throw new Error(`replay read: ${ops} ops for ${replay.stats.events} events`);
  };
  const paths: Array<{ name: string; note: string; run: () => Promise<unknown>; base?: () => Promise<unknown>; ratioName?: string; times: Times[]; baseTimes: Times[] }> = [
    {
      name: 'mtrace.gz read (gunzip + parse + ids), in process', note: 'readTrace: id events to a host Ledger',
      run: eventRead(readTrace), ...(baselineRead ? { base: eventRead(baselineRead) } : {}), times: [], baseTimes: [],
    },
    {
      name: 'mtrace.gz read on the replay path (gunzip + parse + ids + op batches), in process', note: 'openReplay batches, no engine: what `heapsim run` reads',
      run: replayRead(openReplay), ...(baselineReplay ? { base: replayRead(baselineReplay) } : {}), times: [], baseTimes: [],
    },
    {
      // The same read with the gzip inflated on a second thread (src/trace/inflate-thread.ts; not
      // the default: it costs CPU and pays only while a core is free), against this build's default.
      name: 'mtrace.gz read on the replay path, inflate on a second thread (gunzip + parse + ids + op batches), in process',
      note: "openReplay batches with { inflate: 'thread' }; the baseline is this build's one-thread read",
      run: replayRead(openReplay, 'thread'), base: replayRead(openReplay), ratioName: 'mtrace.gz read on the replay path, second thread / one thread',
      times: [], baseTimes: [],
    },
  ];
  for (const p of paths) {
    await timed(p.run);
    if (p.base) await timed(p.base);
  }
  for (let i = 0; i < Math.max(IN_PROCESS_RUNS, reps); i++) {
    for (const p of paths) {
      p.times.push(await timed(p.run));
      if (p.base) p.baseTimes.push(await timed(p.base));
    }
  }
  for (const p of paths) {
    const rate = inputs.lines / med(p.times, 'wallS');
    const cpuRate = inputs.lines / med(p.times, 'cpuS');
    figures.push({
      name: p.name, value: Math.round(rate), unit: 'lines/s (wall)',
      note: `${p.note}; CPU ${Math.round(cpuRate)} lines/s; median of ${p.times.length}; target ≥ ${MTRACE_LINES_TARGET / 1e6} M: ${met(rate, MTRACE_LINES_TARGET)} (wall), ${met(cpuRate, MTRACE_LINES_TARGET)} (CPU)`,
    });
    if (p.base) {
      const b = p.baseTimes;
      figures.push({
        name: p.ratioName ?? `${p.name.replace(/ \(.*/, '')}, this build / baseline`, value: ratio(med(b, 'wallS') / med(p.times, 'wallS')), unit: '× faster (wall)',
        note: `CPU ${ratio(med(b, 'cpuS') / med(p.times, 'cpuS'))}×; baseline ${Math.round(inputs.lines / med(b, 'wallS'))} lines/s wall, ${Math.round(inputs.lines / med(b, 'cpuS'))} CPU (median of ${b.length} interleaved)`,
      });
    }
  }
  return figures;
}

/**
 * `heapsim stats` of the recording's .hst and mtrace.gz as whole processes: CPU and wall time and
 * peak RSS, medians of `reps`; with a baseline, its runs interleaved and this build / baseline.
 */
function statsFigures(inputs: Inputs, reps: number, baselineCli: string | undefined, baselineHst: string): BenchFigure[] {
  const med = (ts: Times[], k: 'wallS' | 'cpuS'): number => median(ts.map((t) => t[k]));
  const mib = (ts: Times[]): number => Math.round(median(ts.map((t) => t.maxRssBytes ?? NaN)) / KIB / KIB);
  const figures: BenchFigure[] = [];
  for (const [name, file, baseFile] of [['X.hst', inputs.hst, baselineHst], ['X.mtrace.gz', inputs.gz, inputs.gz]] as const) {
    const ts: Times[] = [];
    const b: Times[] = [];
    for (let r = 0; r < reps; r++) {
      ts.push(timedProcess(process.execPath, [CLI, 'stats', file]));
      if (baselineCli) b.push(timedProcess(process.execPath, [baselineCli, 'stats', baseFile]));
    }
    figures.push({
      name: `whole \`heapsim stats ${name}\``, value: ratio(med(ts, 'cpuS')), unit: 's (CPU)',
      note: `wall ${ratio(med(ts, 'wallS'))} s; peak RSS ${mib(ts)} MiB; median of ${reps}`,
    });
    if (baselineCli) {
      figures.push({
        name: `whole \`heapsim stats ${name}\`, this build / baseline`, value: ratio(med(b, 'cpuS') / med(ts, 'cpuS')), unit: '× faster (CPU)',
        note: `wall ${ratio(med(b, 'wallS') / med(ts, 'wallS'))}×; baseline ${ratio(med(b, 'cpuS'))} s CPU, peak RSS ${mib(b)} MiB (median of ${reps} interleaved)`,
      });
    }
  }
  return figures;
}

/** The warm engine lines (bench/warm.ts): this build, and the baseline's engine alternating with it when one is named. */
async function warmFigures(inputs: Inputs, policies: string[], events: number, nativeSoFar: NativeWarm[]): Promise<BenchFigure[]> {
  const self = await warmBuild(REPO, inputs.hst, 'this build');
  const baseRoot = process.env.HEAPSIM_BENCH_BASELINE;
  const baseline = baseRoot ? await warmBuild(baseRoot, process.env.HEAPSIM_BENCH_BASELINE_HST ?? inputs.hst, `baseline ${baseRoot}`) : undefined;
  const nativeWarm = (): NativeWarm => nativeHst(inputs).warm;
  return warmEngineFigures(self, baseline, policies, events, nativeWarm, nativeSoFar, WARM_TARGET);
}

export async function runReplayBench(): Promise<BenchFigure[]> {
  const inputs = await prepare();
  const reps = Number(process.env.HEAPSIM_BENCH_REPS ?? 5);
  const wanted = process.env.HEAPSIM_BENCH_POLICIES?.split(',').filter(Boolean);
  const policies = wanted ?? policyNames();
  const loadBefore = loadavg()[0]!;
  const textBaselineCli = process.env.HEAPSIM_BENCH_BASELINE ? cliOf(process.env.HEAPSIM_BENCH_BASELINE) : undefined;
  if (process.env.HEAPSIM_BENCH_ONLY === 'stats') {
    return [
      { name: 'recorded program', value: inputs.lines, unit: 'mtrace lines', note: `CPython (PYTHONMALLOC=malloc); load average ${loadBefore.toFixed(1)} at the start` },
      ...statsFigures(inputs, reps, textBaselineCli, process.env.HEAPSIM_BENCH_BASELINE_HST ?? inputs.hst),
      { name: 'load average at the end', value: Math.round(loadavg()[0]! * 10) / 10, unit: '' },
    ];
  }
  if (process.env.HEAPSIM_BENCH_ONLY === 'warm') {
    const warm = Array.from({ length: reps }, () => nativeHst(inputs));
    const native = { cpuS: median(warm.map((n) => n.warm.cpuS)), wallS: median(warm.map((n) => n.warm.wallS)) };
    const events = warm[0]!.events;
    return [
      { name: 'native glibc replay, warm (best of 3 passes)', value: Math.round(events / native.cpuS), unit: 'events/s (CPU)', note: `wall ${Math.round(events / native.wallS)} events/s; median of ${reps} processes; load average ${loadBefore.toFixed(1)} at the start` },
      ...await warmFigures(inputs, policies, events, warm.map((n) => n.warm)),
      { name: 'load average at the end', value: Math.round(loadavg()[0]! * 10) / 10, unit: '' },
    ];
  }
  if (process.env.HEAPSIM_BENCH_ONLY === 'text') {
    return [
      { name: 'recorded program', value: inputs.lines, unit: 'mtrace lines', note: `CPython (PYTHONMALLOC=malloc); load average ${loadBefore.toFixed(1)} at the start` },
      ...await textFigures(inputs, policies, reps, textBaselineCli),
    ];
  }

  // 1. Whole processes, interleaved: the native replay, then heapsim on each policy, `reps` times.
  const nativeCold: Times[] = [];
  const nativeWarm: Times[] = [];
  let events = 0;
  const whole = new Map<string, Times[]>(policies.map((p) => [p, []]));
  const baselineCli = process.env.HEAPSIM_BENCH_BASELINE ? cliOf(process.env.HEAPSIM_BENCH_BASELINE) : undefined;
  const baseline = new Map<string, Times[]>(policies.map((p) => [p, []]));
  const baselineHst = process.env.HEAPSIM_BENCH_BASELINE_HST ?? inputs.hst;
  // Node's own start (an empty script), timed with the whole processes: every whole-run line pays it
  // and the native replay does not. An environment that names extra CA certificates
  // (NODE_EXTRA_CA_CERTS) makes every node process parse that file at start, before any script runs;
  // where it is set, node's start without it is timed too, so the reader sees that share.
  const emptyStart: Times[] = [];
  const extraCerts = process.env[EXTRA_CA_CERTS_VAR];
  const bareEnv: NodeJS.ProcessEnv = { ...process.env };
  delete bareEnv[EXTRA_CA_CERTS_VAR];
  const bareStart: Times[] = [];
  for (let r = 0; r < reps; r++) {
    const n = nativeHst(inputs);
    events = n.events;
    nativeCold.push(n.cold);
    nativeWarm.push(n.warm);
    emptyStart.push(timedProcess(process.execPath, ['-e', '0']));
    if (extraCerts) bareStart.push(timedProcess(process.execPath, ['-e', '0'], bareEnv));
    for (const p of policies) {
      whole.get(p)!.push(timedProcess(process.execPath, [CLI, 'run', inputs.hst, '--policy', p]));
      if (baselineCli) baseline.get(p)!.push(timedProcess(process.execPath, [baselineCli, 'run', baselineHst, '--policy', p]));
    }
  }
  const med = (ts: Times[], k: 'wallS' | 'cpuS'): number => median(ts.map((t) => t[k]));
  const faults = (ts: Times[]): number => Math.round(median(ts.map((t) => t.minorFaults ?? NaN)));
  const coldWall = med(nativeCold, 'wallS'), coldCpu = med(nativeCold, 'cpuS');
  const warmWall = med(nativeWarm, 'wallS'), warmCpu = med(nativeWarm, 'cpuS');
  const eps = (s: number): number => Math.round(events / s);
  const figures: BenchFigure[] = [
    { name: 'recorded program', value: events, unit: 'events', note: `CPython (PYTHONMALLOC=malloc), ${inputs.lines} mtrace lines; load average ${loadBefore.toFixed(1)} at the start` },
    { name: 'native glibc replay, cold (pass 1)', value: eps(coldCpu), unit: 'events/s (CPU)',
      note: `wall ${eps(coldWall)} events/s; median of ${reps} processes; ${faults(nativeCold)} minor page faults during the pass (its pages touched for the first time)` },
    { name: 'native glibc replay, warm (best of 3 passes)', value: eps(warmCpu), unit: 'events/s (CPU)', note: `wall ${eps(warmWall)} events/s` },
    { name: 'node start alone (`node -e 0`), in every whole run below', value: ratio(med(emptyStart, 'cpuS')), unit: 's (CPU)',
      note: `wall ${ratio(med(emptyStart, 'wallS'))} s; ${faults(emptyStart)} minor page faults; the native replay has no such start` + (extraCerts ? `; ${EXTRA_CA_CERTS_VAR} is set in this environment (${extraCerts})` : '') },
  ];
  if (extraCerts) {
    figures.push({ name: `node start alone without ${EXTRA_CA_CERTS_VAR}`, value: ratio(med(bareStart, 'cpuS')), unit: 's (CPU)',
      note: `wall ${ratio(med(bareStart, 'wallS'))} s: the difference is node parsing that certificate file at start; heapsim runs in the environment as given` });
  }
  for (const p of policies) {
    const ts = whole.get(p)!;
    const cpu = med(ts, 'cpuS'), wall = med(ts, 'wallS');
    const target = TARGET_POLICIES.includes(p) ? `; target ≥ ${WHOLE_PROCESS_TARGET}: ${met(coldCpu / cpu, WHOLE_PROCESS_TARGET)} (CPU)` : '';
    figures.push({
      name: `whole \`heapsim run X.hst\` / native cold: ${p}`, value: ratio(coldCpu / cpu), unit: '× (CPU)',
      note: `wall ratio ${ratio(coldWall / wall)}; ${eps(cpu)} events/s CPU, ${eps(wall)} wall; ${ratio(cpu - med(emptyStart, 'cpuS'))} s CPU above node's start; ` +
        `minor page faults ${faults(ts)} (${faults(ts) - faults(emptyStart)} above node's start; native cold pass ${faults(nativeCold)}); peak RSS ${Math.round(median(ts.map((t) => t.maxRssBytes ?? NaN)) / KIB / KIB)} MiB${target}`,
    });
    if (baselineCli) {
      const b = baseline.get(p)!;
      figures.push({
        name: `whole \`heapsim run X.hst\`, this build / baseline: ${p}`, value: ratio(med(b, 'cpuS') / cpu), unit: '× faster (CPU)',
        note: `wall ${ratio(med(b, 'wallS') / wall)}×; baseline ${eps(med(b, 'cpuS'))} events/s CPU, ${faults(b)} minor page faults, peak RSS ${Math.round(median(b.map((t) => t.maxRssBytes ?? NaN)) / KIB / KIB)} MiB (${process.env.HEAPSIM_BENCH_BASELINE})`,
      });
    }
  }

  // 2. In this process, warm: the engine alone on pre-decoded batches (the target; bench/warm.ts
  //    says how its passes are timed), then the whole replay with decoding. The native warm figure
  //    there is its best pass of the run (it runs again around each policy's passes), so the
  //    engine's is its best pass too (like for like: the same statistic on both sides); the median
  //    of its passes is printed beside it.
  figures.push(...await warmFigures(inputs, policies, events, nativeWarm));
  for (const p of policies) {
    await inProcess(inputs.hst, p);
    await inProcess(inputs.hst, p, 'js');
    const ts: Times[] = [];
    const js: Times[] = [];
    // Interleaved: the WASM record loop (what `heapsim run` uses) and the JavaScript reference reader.
    for (let i = 0; i < IN_PROCESS_RUNS; i++) {
      ts.push(await inProcess(inputs.hst, p));
      js.push(await inProcess(inputs.hst, p, 'js'));
    }
    const cpu = med(ts, 'cpuS'), wall = med(ts, 'wallS');
    figures.push({
      name: `in-process warm replay with decoding / native warm: ${p}`, value: ratio(warmCpu / cpu), unit: '× (CPU)',
      note: `wall ratio ${ratio(warmWall / wall)}; ${eps(cpu)} events/s CPU, ${eps(wall)} wall (median of ${IN_PROCESS_RUNS}; .hst records decoded in WASM)`,
    });
    figures.push({
      name: `in-process warm replay, .hst decoded in WASM / in JavaScript: ${p}`, value: ratio(med(js, 'cpuS') / cpu), unit: '× (CPU)',
      note: `wall ratio ${ratio(med(js, 'wallS') / wall)} (median of ${IN_PROCESS_RUNS} interleaved pairs)`,
    });
  }

  // 3. The text part.
  figures.push(...await textFigures(inputs, policies, reps, baselineCli));

  // 4. Peak RSS of a 20 M-event replay.
  const rss = timedProcess(process.execPath, [CLI, 'run', inputs.big, '--policy', 'first-fit']).maxRssBytes ?? NaN;
  figures.push({
    name: `peak RSS, heapsim run of a ${BIG_TRACE_EVENTS / 1e6} M-event .hst (first-fit)`, value: Math.round(rss / KIB / KIB), unit: 'MiB',
    note: `target < ${RSS_TARGET_BYTES / KIB / KIB} MiB: ${rss < RSS_TARGET_BYTES ? 'met' : 'NOT met'}; load average ${loadavg()[0]!.toFixed(1)} at the end`,
  });
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const f of await runReplayBench()) console.log(`${f.name}: ${f.value.toLocaleString('en-US')} ${f.unit}${f.note ? `  (${f.note})` : ''}`);
}
