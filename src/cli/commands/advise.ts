// heapsim advise <workload|trace> [--json] [--jobs N] [run's settings]: the baseline's verdict,
// then the remedies of its platform's catalogue ranked by the memory they leave retained.
import { availableParallelism } from 'node:os';
import type { Command, Io } from '../io.js';
import { parse, intOption, keyValues } from '../options.js';
import { UsageError } from '../../errors.js';
import { layerSettings, runOptionsFrom } from './run.js';
import { isTraceFile } from '../inputs.js';
import { WORKLOADS, makeWorkload, workloadNames } from '../../workload/index.js';
import { getPolicy } from '../../policies/registry.js';
import { DEFAULT_TRACE_POLICY } from '../../advise/catalogue/linux.js';
import { adviceHead, planAdvice, rankRuns, remedyRequest, remedyRun, type AdviceHead, type AdviseOptions, type Planned } from '../../advise/advise.js';
import { executeRequests } from '../../sweep/execute.js';
import { SHARD_FORMAT, inShard, parseShard, planFingerprint, writeShardFile, writeTextFile } from '../../shard/shard.js';
import { adviceHtml } from '../../advise/html.js';
import { formatAdviceJson, formatAdviceText } from '../../advise/report.js';

const OPTIONS = {
  policy: { type: 'string' },
  arch: { type: 'string' },
  profile: { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  'trim-at': { type: 'string', multiple: true },
  'trim-in-run': { type: 'string', multiple: true },
  jobs: { type: 'string' },
  json: { type: 'boolean' },
  shard: { type: 'string' },
  out: { type: 'string' },
  html: { type: 'string' },
} as const;

const HELP = `usage: heapsim advise <workload|trace-file>... [options]

Runs the input as heapsim run would (the baseline), prints its verdict, then runs it once per
remedy of the catalogue that fits the baseline policy's platform (Linux: malloc_trim(0) at the
quiet points, glibc's MALLOC_*_ settings and tunables, MALLOC_ARENA_MAX, every other Linux
allocator by LD_PRELOAD; Windows: LFH, decommit thresholds, HeapCompact at the quiet points, a
private heap for the peak's allocations, the custom pool's release policy) on a pool of worker
threads, and ranks the runs by the memory the heaps hold beyond what the program uses at the end
(then at each mark): resident bytes on Linux, committed bytes on Windows. Each remedy comes with
the exact change to apply. A remedy that is a call in the program (a trim at the quiet points, a
private heap) is made in the measured run itself, as run --trim-in-run / --private-heap do.

inputs: built-in workloads (${workloadNames().join(', ')}) or trace files; several inputs
are advised one after the other, with the same settings

options:
  --policy NAME    the baseline's allocator (default: the workload's, ${DEFAULT_TRACE_POLICY} for traces)
  --set, --env, --trim-at, --trim-in-run, --seed, --arch, --profile
                   as heapsim run takes them: they shape the baseline, and every remedy starts
                   from it (a remedy that swaps the allocator keeps the input, --arch and
                   --profile; the baseline library's settings do not apply to another library)
  --jobs N         worker threads (default: the number of cores, ${availableParallelism()} here)
  --json           { "advice": [one per input] }: every run's verdict, peaks, marks and curve, sizes in bytes
  --html FILE      also write one self-contained HTML page: the ranked table, the baseline's
                   verdict and mechanisms, the curves of the baseline and the best three remedies
  --shard I/N      run only slice I of N of the remedy runs (I from 0; every slice runs the
                   baselines); needs --out
  --out FILE.jsonl write the runs to FILE as JSON Lines; heapsim merge FILES... prints the advice
  -h, --help       this text
`;

export const command: Command = {
  summary: 'rank what would give the memory back (allocator settings, trim calls, other allocators)',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('advise', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (!positionals.length) throw new UsageError('advise wants at least one workload name or trace file (see heapsim advise --help)');
    const jobs = intOption('jobs', values.jobs as string | undefined, 1) ?? availableParallelism();
    const seedValue = intOption('seed', values.seed as string | undefined) ?? 1;
    // Every input is checked (and its settings read) before anything runs.
    const plans = [];
    for (const name of positionals) {
      const trace = isTraceFile(name);
      const workload = trace ? undefined : makeWorkload(name, { seed: seedValue });
      const policy = (values.policy as string | undefined) ?? (trace ? undefined : WORKLOADS[name]?.defaultPolicy) ?? DEFAULT_TRACE_POLICY;
      getPolicy(policy);
      const { options, seed, ignoredEnv } = await runOptionsFrom({ ...values, policy });
      const { params: set } = layerSettings(keyValues(values.set as string[] | undefined));
      plans.push({ name, trace, workload, policy, options, seed, ignoredEnv, set });
    }
    const shard = values.shard === undefined ? undefined : parseShard(values.shard as string);
    const outPath = values.out as string | undefined;
    if (shard && outPath === undefined) throw new UsageError('--shard needs --out FILE.jsonl (heapsim merge puts the slices together)');
    if (outPath !== undefined && (values.json || values.html !== undefined)) throw new UsageError('--out writes JSON Lines for heapsim merge; give --json or --html to merge');
    const started = performance.now();
    // Every shard runs every baseline (the remedies depend on it), then its slice of the remedies
    // of all inputs, numbered in input order then catalogue order.
    const prepared: { o: AdviseOptions; planned: Planned; head: AdviceHead }[] = [];
    for (const p of plans) {
      for (const i of p.ignoredEnv) io.stderr.write(`heapsim advise: ${p.name}: --env ${i.setting} ignored: ${i.reason}\n`);
      const o: AdviseOptions = {
        input: p.trace ? { trace: p.name } : { workload: p.name, seed: p.seed },
        name: p.name,
        baseline: { policy: p.policy, set: { ...p.set }, layers: p.options.layers ?? [], env: (values.env as string[] | undefined) ?? [], trimAt: p.options.trimAt ?? [], trimInRun: p.options.trimInRun ?? [] },
        workloadParams: p.workload?.policyParams?.[p.policy] ?? {},
        arch: p.options.arch,
        profile: p.options.profile,
        jobs,
      };
      const { planned, baselineDoc } = await planAdvice(o);
      prepared.push({ o, planned, head: adviceHead(o, planned, baselineDoc) });
    }
    const flat = prepared.flatMap((p, input) => p.planned.remedies.map((_, remedy) => ({ input, remedy })));
    const mine = flat.map((f, item) => ({ ...f, item })).filter((f) => inShard(f.item, shard));
    const requests = mine.map((f) => { const p = prepared[f.input]!; return remedyRequest(p.o, p.planned.remedies[f.remedy], p.planned.every); });
    const { docs, workers } = await executeRequests(requests, { jobs });
    const runs = mine.map((f, i) => ({ item: f.item, data: { input: f.input, remedy: f.remedy, run: remedyRun(prepared[f.input]!.planned, f.remedy, docs[i]!) } }));
    const heads = prepared.map((p) => p.head);
    if (outPath !== undefined) {
      const plan = planFingerprint({ heads, remedies: prepared.map((p) => p.planned.remedies.map((r) => remedyRequest(p.o, r, p.planned.every))) });
      await writeShardFile(outPath, { format: SHARD_FORMAT, command: 'advise', plan, shard: shard ?? { index: 0, count: 1 }, size: flat.length, head: { inputs: heads } }, runs);
    } else {
      const reports = heads.map((h, i) => rankRuns(h, runs.filter((r) => r.data.input === i).map((r) => r.data.run)));
      if (values.html !== undefined) await writeTextFile(values.html as string, adviceHtml(reports));
      io.stdout.write(values.json ? formatAdviceJson(reports) : reports.map(formatAdviceText).join('\n'));
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const slice = shard ? ` (slice ${shard.index}/${shard.count} of ${flat.length})` : '';
    io.stderr.write(`heapsim advise: ${mine.length} remedy runs${slice} + ${plans.length} baseline${plans.length > 1 ? 's' : ''} on ${workers ? `${workers} worker threads` : 'the main thread'} in ${seconds} s${outPath !== undefined ? `, written to ${outPath}` : ''}\n`);
    return 0;
  },
};
