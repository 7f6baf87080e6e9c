// heapsim sweep <workload|trace>... --policy a,b,c [--set key=v1,v2] [--seed 1,2] [--jobs N]:
// the cross product of inputs, policies, settings and seeds, run on a pool of worker threads and
// printed in plan order (a table, --csv or --json).
import { availableParallelism } from 'node:os';
import type { Command, Io } from '../io.js';
import { parse, intOption, oneOf } from '../options.js';
import { ARCHS, type ArchName } from '../../engine/abi.js';
import { DEFAULT_POLICY, policyNames } from '../../policies/registry.js';
import { profileNames } from '../../engine/profiles.js';
import { workloadNames } from '../../workload/index.js';
import { UsageError } from '../../errors.js';
import { checkEnvLines, listOption, planSweep, requestFor, settingAxes } from '../../sweep/plan.js';
import { SHARD_FORMAT, inShard, parseShard, planFingerprint, writeShardFile } from '../../shard/shard.js';
import { parseTrimAt } from '../../run/trim-at.js';
import { executeSweep } from '../../sweep/execute.js';
import { formatSweepCsv, formatSweepJson, formatSweepTable, sweepRow } from '../../sweep/report.js';

const OPTIONS = {
  policy: { type: 'string', default: DEFAULT_POLICY },
  set: { type: 'string', multiple: true },
  seed: { type: 'string', default: '1' },
  jobs: { type: 'string' },
  arch: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  env: { type: 'string', multiple: true },
  'trim-at': { type: 'string', multiple: true },
  'trim-in-run': { type: 'string', multiple: true },
  shard: { type: 'string' },
  out: { type: 'string' },
} as const;

const HELP = `usage: heapsim sweep <workload|trace-file>... [options]

Runs every combination of inputs, policies, --set values and seeds, each run on its own engine,
on a pool of worker threads, and prints one result per run in a stable order: inputs as given,
then policies, then each --set key's values, then seeds. Results do not depend on --jobs.

inputs: built-in workloads (${workloadNames().join(', ')}) or trace files (any format
heapsim run reads; --seed does not apply to them)

options:
  --policy A,B,...     policies to compare: ${policyNames().join(', ')} (default ${DEFAULT_POLICY})
  --set KEY=V1,V2,...  a policy parameter and the values to try (sizes take K/M/G); repeatable,
                       one key per --set; several keys give their cross product. Each key must
                       be a parameter of every policy listed (--set parent=POLICY stacks layers)
  --seed S1,S2,...     seeds of synthetic workloads (default 1)
  --jobs N             worker threads (default: the number of cores, ${availableParallelism()} here);
                       1 runs everything in this thread
  --arch ARCH          x86 | x86-3gb | x64 (default: each workload's)
  --profile NAME       background regions: ${profileNames().join(', ')}
  --env TEXT           production settings, as run --env takes them; repeatable. Each job's topmost
                       heap whose policy reads settings gets the lines its reader takes (MALLOC_*_
                       and GLIBC_TUNABLES go to ptmalloc, MALLOC_CONF to jemalloc, ...); --set wins.
                       A line no swept policy reads is an error
  --trim-at MARK|N     the library's "give memory back now" call at a mark or after event N, in
                       every job (as run --trim-at; the marks before and after it are columns)
  --trim-in-run MARK|N that call made in the run itself, in every job (as run --trim-in-run)
  --shard I/N          run only slice I of N of the plan (runs whose position modulo N is I;
                       I from 0, like a Kubernetes JOB_COMPLETION_INDEX); needs --out
  --out FILE.jsonl     write the runs (of the slice) to FILE as JSON Lines instead of printing
                       them; heapsim merge FILES... prints the report of the whole plan
  --csv                one CSV line per run, mark figures in columns
  --json               { "runs": [...] }, sizes in bytes
  -h, --help           this text

Columns: input, policy, settings, seed, events, peak heap commit, the diagnosis over the marks
(first-order, second-order or none) and the bytes it names, then for each mark its event and the
heap's committed, reserved, busy and free bytes.
`;

export const command: Command = {
  summary: 'run inputs × policies × settings on a worker pool and tabulate the results',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('sweep', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other');
    const seeds = listOption('seed', values.seed as string).map((s) => intOption('seed', s)!);
    const jobs = planSweep({
      inputs: positionals,
      policies: listOption('policy', values.policy as string),
      settings: settingAxes((values.set as string[] | undefined) ?? []),
      seeds,
    });
    const env = (values.env as string[] | undefined) ?? [];
    checkEnvLines(jobs, env);
    const trimAt = ((values['trim-at'] as string[] | undefined) ?? []).map((t) => parseTrimAt(t));
    const trimInRun = ((values['trim-in-run'] as string[] | undefined) ?? []).map((t) => parseTrimAt(t));
    const slots = intOption('jobs', values.jobs as string | undefined, 1) ?? availableParallelism();
    const arch = oneOf('arch', values.arch as string | undefined, Object.keys(ARCHS) as ArchName[]);
    const profile = oneOf('profile', values.profile as string | undefined, profileNames());
    const shard = values.shard === undefined ? undefined : parseShard(values.shard as string);
    const outPath = values.out as string | undefined;
    if (shard && outPath === undefined) throw new UsageError('--shard needs --out FILE.jsonl (heapsim merge puts the slices together)');
    if (outPath !== undefined && (values.json || values.csv)) throw new UsageError('--out writes JSON Lines for heapsim merge; give --csv or --json to merge');
    const shared = { arch, profile, env, trimAt, trimInRun };
    const mine = jobs.filter((job) => inShard(job.index, shard));
    const started = performance.now();
    const { docs, workers } = await executeSweep(mine, { jobs: slots, ...shared });
    const rows = mine.map((job, i) => sweepRow(job, docs[i]!));
    if (outPath !== undefined) {
      const plan = planFingerprint(jobs.map((job) => requestFor(job, shared)));
      await writeShardFile(outPath, { format: SHARD_FORMAT, command: 'sweep', plan, shard: shard ?? { index: 0, count: 1 }, size: jobs.length, head: {} },
        rows.map((row, i) => ({ item: mine[i]!.index, data: row })));
    } else {
      io.stdout.write(values.json ? formatSweepJson(rows) : values.csv ? formatSweepCsv(rows) : formatSweepTable(rows));
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const slice = shard ? ` (slice ${shard.index}/${shard.count} of ${jobs.length})` : '';
    io.stderr.write(`heapsim sweep: ${mine.length} runs${slice} on ${workers ? `${workers} worker threads` : 'the main thread'} in ${seconds} s${outPath !== undefined ? `, written to ${outPath}` : ''}\n`);
    return 0;
  },
};
