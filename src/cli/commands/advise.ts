// heapsim advise <workload|trace> [--json] [--jobs N] [run's settings]: the baseline's verdict,
// then the remedies of its platform's catalogue ranked by the memory they leave retained.
import { availableParallelism } from 'node:os';
import type { Command, Io } from '../io.js';
import { parse, intOption, keyValues } from '../options.js';
import { UsageError } from '../../errors.js';
import { isTraceFile, layerSettings, runOptionsFrom } from './run.js';
import { WORKLOADS, makeWorkload, workloadNames } from '../../workload/index.js';
import { getPolicy } from '../../policies/registry.js';
import { DEFAULT_TRACE_POLICY } from '../../advise/catalogue/linux.js';
import { advise } from '../../advise/advise.js';
import { formatAdviceJson, formatAdviceText } from '../../advise/report.js';

const OPTIONS = {
  policy: { type: 'string' },
  arch: { type: 'string' },
  profile: { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  'trim-at': { type: 'string', multiple: true },
  jobs: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const HELP = `usage: heapsim advise <workload|trace-file>... [options]

Runs the input as heapsim run would (the baseline), prints its verdict, then runs it once per
remedy of the catalogue that fits the baseline policy's platform (Linux: malloc_trim(0) at the
quiet points, glibc's MALLOC_*_ settings and tunables, MALLOC_ARENA_MAX, every other Linux
allocator by LD_PRELOAD; Windows: LFH, decommit thresholds, HeapCompact at the quiet points, the
custom pool's release policy) on a pool of worker threads, and ranks the runs by the memory the
heaps hold beyond what the program uses at the end (then at each mark): resident bytes on Linux,
committed bytes on Windows. Each remedy comes with the exact change to apply.

inputs: built-in workloads (${workloadNames().join(', ')}) or trace files; several inputs
are advised one after the other, with the same settings

options:
  --policy NAME    the baseline's allocator (default: the workload's, ${DEFAULT_TRACE_POLICY} for traces)
  --set, --env, --trim-at, --seed, --arch, --profile
                   as heapsim run takes them: they shape the baseline, and every remedy starts
                   from it (a remedy that swaps the allocator keeps the input, --arch and
                   --profile; the baseline library's settings do not apply to another library)
  --jobs N         worker threads (default: the number of cores, ${availableParallelism()} here)
  --json           { "advice": [one per input] }: every run's verdict, peaks, marks and curve, sizes in bytes
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
    const started = performance.now();
    const reports = [];
    let workers = 0;
    for (const p of plans) {
      for (const i of p.ignoredEnv) io.stderr.write(`heapsim advise: ${p.name}: --env ${i.setting} ignored: ${i.reason}\n`);
      const advice = await advise({
        input: p.trace ? { trace: p.name } : { workload: p.name, seed: p.seed },
        name: p.name,
        baseline: { policy: p.policy, set: { ...p.set }, layers: p.options.layers ?? [], env: (values.env as string[] | undefined) ?? [], trimAt: p.options.trimAt ?? [] },
        workloadParams: p.workload?.policyParams?.[p.policy] ?? {},
        arch: p.options.arch,
        profile: p.options.profile,
        jobs,
      });
      const { workers: w, ...report } = advice;
      workers = Math.max(workers, w);
      reports.push(report);
    }
    io.stdout.write(values.json ? formatAdviceJson(reports) : reports.map(formatAdviceText).join('\n'));
    const runs = reports.reduce((s, r) => s + r.runs.length, 0);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    io.stderr.write(`heapsim advise: ${runs - reports.length} remedies + ${reports.length} baseline${reports.length > 1 ? 's' : ''} on ${workers ? `${workers} worker threads` : 'the main thread'} in ${seconds} s\n`);
    return 0;
  },
};
