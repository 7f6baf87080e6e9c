// heapsim run <workload|trace> --policy <name> ...: run one workload on one policy, print a summary at
// each mark (or the checkpoint document with --json).
import type { Command, Io } from '../io.js';
import { parse, intOption, keyValues, oneOf } from '../options.js';
import { ARCHS, type ArchName } from '../../engine/abi.js';
import { DEFAULT_POLICY, getPolicy, policySpecs } from '../../policies/registry.js';
import { policyLines } from '../../policies/catalog.js';
import { profileNames } from '../../engine/profiles.js';
import { makeWorkload, workloadNames } from '../../workload/index.js';
import { runWorkload, trimTarget, type LayerSpec, type RunOptions } from '../../run/run.js';
import { InputError, UsageError, describeErrno, errnoCode, fileKind } from '../../errors.js';
import { nameMap } from '../../names.js';
import type { Checkpoint, RunDocument } from '../../report/types.js';
import { diagnosisText, formatRunText } from '../../report/text.js';
import { diagnoseRun } from '../../run/diagnose-run.js';
import { runDocumentJson } from '../../report/json.js';
import { parseTrimAt, type TrimResult } from '../../run/trim-at.js';
import { progressBar } from '../progress.js';
import { parseFormatName } from '../../trace/read.js';
import { inputNotes } from '../../trace/summary.js';
import { traceWorkload } from '../../trace/workload.js';
import { statSync } from 'node:fs';

/**
 * A positional naming an existing regular file is a trace; a name that is no path a built-in
 * workload. A path that exists but cannot be a trace (a directory, FIFO, device; a symlink loop;
 * no permission) is an error saying so, unless it is also a workload's name.
 */
export function isTraceFile(name: string): boolean {
  let stats;
  try {
    stats = statSync(name);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || workloadNames().includes(name)) return false;
    throw new InputError(`cannot read: ${describeErrno(err)}`, name);
  }
  if (stats.isFile()) return true;
  if (workloadNames().includes(name)) return false;
  throw new InputError(`cannot read: it is ${fileKind(stats)}, not a trace file`, name);
}

const OPTIONS = {
  policy: { type: 'string', default: DEFAULT_POLICY },
  arch: { type: 'string' },
  profile: { type: 'string' },
  seed: { type: 'string' },
  every: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  env: { type: 'string', multiple: true },
  'trim-at': { type: 'string', multiple: true },
  format: { type: 'string' },
  lenient: { type: 'boolean' },
} as const;

const HELP = `usage: heapsim run <workload|trace-file> [options]

Runs a built-in workload (${workloadNames().join(', ')}) or a recorded trace on one allocator
policy over a simulated address space, and prints the address space and the heap at each mark.

options:
  --policy NAME        allocator policy (default ${DEFAULT_POLICY}; heapsim policies lists their parameters):
${policyLines('                         ', 10)}
  --arch ARCH          x86 | x86-3gb | x64 (default: the workload's, x86 for peak-hour)
  --profile NAME       background regions: ${profileNames().join(', ')}
                       (default: the workload's profile when it fits the architecture, else bare)
  --seed N             seed of a synthetic workload (default 1)
  --every N            also take a checkpoint every N events
  --set KEY=VALUE      policy parameter (sizes accept K/M/G suffixes and 0x hex); repeatable.
                       --set parent=POLICY puts the heap on top of a heap of POLICY;
                       --set parent.KEY=VALUE sets that heap's parameters
  --env TEXT           the library's settings as set in production, for the topmost heap whose
                       policy reads them (--set overrides); repeatable:
${policySpecs().filter((p) => p.readEnv).map((p) => `                         ${p.name}: ${p.envNames ?? 'its environment'}`).join('\n')}
  --trim-at MARK|N     what-if: the library's own "give memory back now" call at a mark or after
                       event N, on the topmost heap that has one; prints the resident bytes before
                       and after; repeatable. The calls:
${policySpecs().filter((p) => p.trimName).map((p) => `                         ${p.name}: ${p.trimName}`).join('\n')}
  --json               print the checkpoint document as JSON
  --format NAME        trace files: read as this format instead of detecting it
                       (hst, text, mtrace, ltrace, logalloc, rep)
  --lenient            trace files: count and skip malformed lines instead of stopping
  -h, --help           this text
`;

/** Splits --set values into the top heap's params and the parent layer. */
export function layerSettings(sets: Record<string, string>): { params: Record<string, string>; layers: LayerSpec[] } {
  const params = nameMap<string>(); // null prototype: a key `__proto__` is a key, and then an unknown parameter
  const parentParams = nameMap<string>();
  let parent: string | undefined;
  for (const [k, v] of Object.entries(sets)) {
    if (k === 'parent') parent = v;
    else if (k.startsWith('parent.')) parentParams[k.slice('parent.'.length)] = v;
    else params[k] = v;
  }
  if (!parent && Object.keys(parentParams).length) throw new UsageError('--set parent.KEY given without --set parent=POLICY');
  if (parent) getPolicy(parent);
  return { params, layers: parent ? [{ policy: parent, params: parentParams }] : [] };
}

export async function runOptionsFrom(values: Record<string, unknown>): Promise<{
  options: RunOptions; seed: number; ignoredEnv: { setting: string; reason: string }[];
}> {
  const policy = values.policy as string;
  getPolicy(policy);
  const arch = oneOf('arch', values.arch as string | undefined, Object.keys(ARCHS) as ArchName[]);
  const profile = oneOf('profile', values.profile as string | undefined, profileNames());
  const seed = intOption('seed', values.seed as string | undefined) ?? 1;
  const every = intOption('every', values.every as string | undefined, 1);
  const { params: setParams, layers } = layerSettings(keyValues(values.set as string[] | undefined));
  const envTexts = (values.env as string[] | undefined) ?? [];
  // Production settings go to the topmost heap whose policy reads them: the top one or a layer.
  const readsEnv = (name: string): boolean => getPolicy(name).readEnv !== undefined;
  const envLayer = readsEnv(policy) ? undefined : layers.find((l) => readsEnv(l.policy));
  if (envTexts.length && !readsEnv(policy) && !envLayer) {
    const readers = policySpecs().filter((p) => p.readEnv).map((p) => p.name);
    throw new UsageError(`--env applies to a heap whose policy reads production settings (${readers.join(', ')}: --policy NAME or --set parent=NAME)`);
  }
  const fromEnv = envTexts.length ? getPolicy(envLayer?.policy ?? policy).readEnv!(envTexts.join('\n')) : undefined;
  const params: Record<string, string | number> = !envLayer ? { ...(fromEnv?.params ?? {}), ...setParams } : setParams;
  if (fromEnv && envLayer) envLayer.params = { ...fromEnv.params, ...(envLayer.params ?? {}) };
  const trimAt = ((values['trim-at'] as string[] | undefined) ?? []).map((t) => parseTrimAt(t));
  return { options: { policy, params, layers, arch, profile, every, trimAt }, seed, ignoredEnv: fromEnv?.ignored ?? [] };
}

export const command: Command = {
  summary: 'run a workload or trace on a policy and report each mark',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('run', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length !== 1) throw new UsageError('run wants exactly one workload name or trace file (see heapsim run --help)');
    const { options, seed, ignoredEnv } = await runOptionsFrom(values);
    for (const i of ignoredEnv) io.stderr.write(`heapsim run: --env ${i.setting} ignored: ${i.reason}\n`);
    const write = (doc: RunDocument): void => {
      const diagnosis = diagnoseRun(doc);
      if (values.json) { io.stdout.write(runDocumentJson(doc)); return; }
      io.stdout.write(formatRunText(doc) + formatTrims(doc, options) + formatOwnAnalyses(doc) + '\n' + diagnosisText(diagnosis));
    };
    const name = positionals[0]!;
    if (!isTraceFile(name)) {
      if (values.format !== undefined || values.lenient) throw new UsageError('--format and --lenient apply to trace files only');
      write(await runWorkload(makeWorkload(name, { seed }), options));
      return 0;
    }
    const bar = progressBar(io);
    const format = values.format === undefined ? undefined : parseFormatName(values.format as string);
    const workload = await traceWorkload(name, { format, lenient: values.lenient === true, onProgress: bar.update });
    const doc = await runWorkload(workload, options);
    bar.done();
    write(doc);
    const stats = workload.replay.stats;
    io.stderr.write(`trace: ${stats.events} events (${stats.format}${stats.gzip ? ', gzip' : ''})\n`);
    for (const note of inputNotes(stats)) io.stderr.write(`  ${note}\n`);
    return 0;
  },
};

/** The --trim-at results, named as the trimmed heap's library names its call. */
function formatTrims(doc: RunDocument, o: RunOptions): string {
  const trims = doc.trims as TrimResult[] | undefined;
  if (!trims?.length) return '';
  const heap = trimTarget(o.policy, o.layers);
  const trimName = getPolicy(heap ? o.layers![heap - 1]!.policy : o.policy).trimName;
  const lines = ['', `${trimName ?? 'TRIM'} what-if:`];
  for (const t of trims) {
    if (t.event === undefined) { lines.push(`  at ${t.at}: not reached`); continue; }
    lines.push(`  at ${t.at} (event ${t.event}): resident ${t.residentBeforeBytes} -> ${t.residentAfterBytes} bytes, ` +
      `${t.releasedBytes} bytes given back; committed ${t.committedBeforeBytes} -> ${t.committedAfterBytes}`);
  }
  return lines.join('\n') + '\n';
}

/** Each policy's own end-of-run analysis, as the policy prints it. */
function formatOwnAnalyses(doc: RunDocument): string {
  return policySpecs().map((p) => (p.endOfRun && doc[p.name] !== undefined ? p.endOfRun.text(doc[p.name]) : '')).join('');
}

export type { Checkpoint, RunDocument };
