// heapsim run <workload|trace> --policy <name> ...: run one workload on one policy, print a summary at
// each mark (or the checkpoint document with --json).
import type { Command, Io } from '../io.js';
import { parse, intOption, keyValues, oneOf } from '../options.js';
import { ARCHS, type ArchName } from '../../engine/abi.js';
import { DEFAULT_POLICY, getPolicy, policySpecs } from '../../policies/registry.js';
import { profileNames } from '../../engine/profiles.js';
import { runWorkload, type LayerSpec, type RunOptions } from '../../run/run.js';
import { UsageError } from '../../errors.js';
import { nameMap } from '../../names.js';
import type { Checkpoint, RunDocument } from '../../report/types.js';
import { formatRunReport } from '../../report/text.js';
import type { Verdict } from '../../report/verdict.js';
import { runDocumentJson } from '../../report/json.js';
import { parseTrimAt } from '../../run/trim-at.js';
import type { PrivateHeapWindow } from '../../run/edits.js';
import { GATE_HELP, GATE_OPTIONS, gateFailures, parseGate, parseThresholds } from '../gate.js';
import { progressBar } from '../progress.js';
import { parseFormatName } from '../../trace/read.js';
import { inputNotes } from '../../trace/summary.js';
import { traceWorkload } from '../../trace/workload.js';
import { engineModule } from '../../engine/load.js';
import { WASM_HST_BUILD } from '../../trace/formats/hst-wasm.js';
import { statSync } from 'node:fs';

/** A regular file: a trace (isTraceFile's first rule, decided here without the workloads' list). */
function isRegularFile(name: string): boolean {
  try {
    return statSync(name).isFile();
  } catch {
    return false; // isTraceFile says what a name that cannot be read is
  }
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
  'trim-in-run': { type: 'string', multiple: true },
  'private-heap': { type: 'string' },
  format: { type: 'string' },
  lenient: { type: 'boolean' },
  dumps: { type: 'boolean' },
  ...GATE_OPTIONS,
} as const;

// Built when asked for: the policy list and the workloads' names cost more than a whole small run.
async function help(): Promise<string> {
  const { workloadNames } = await import('../../workload/index.js');
  const { policyLines } = await import('../../policies/catalog.js');
  return `usage: heapsim run <workload|trace-file> [options]

Runs a built-in workload (${workloadNames().join(', ')}) or a recorded trace on one allocator
policy over a simulated address space and answers: is this the program's leak or the allocator's,
and what would give the memory back? It prints the verdict (out-of-memory, first-order,
second-order or none), what the library's trim call would give back at the end, a table of the
moments (start, marks, the exact peak, end), then the details in the platform's own terms: Linux
policies (ptmalloc) on a profile that is not Windows as Linux tools show a process (RSS and
committed, brk heap vs mmap, mallinfo2), Windows profiles and policies as WinDbg does
(!address -summary, !heap -s).

options:
  --policy NAME        allocator policy (default ${DEFAULT_POLICY}; heapsim policies lists their parameters):
${policyLines('                         ', 10)}
  --arch ARCH          x86 | x86-3gb | x64 (default: the workload's, x86 for peak-hour)
  --profile NAME       background regions: ${profileNames().join(', ')}
                       (default: the workload's profile when it fits the architecture, else bare)
  --seed N             seed of a synthetic workload (default 1)
  --every N            also take a checkpoint every N events (a row of the moments table)
  --dumps              the full platform view at every checkpoint, not only at the end
  --set KEY=VALUE      policy parameter (sizes accept K/M/G suffixes and 0x hex); repeatable.
                       --set parent=POLICY puts the heap on top of a heap of POLICY;
                       --set parent.KEY=VALUE sets that heap's parameters
  --env TEXT           the library's settings as set in production, for the topmost heap whose
                       policy reads them (--set overrides); repeatable:
${policySpecs().filter((p) => p.readEnv).map((p) => `                         ${p.name}: ${p.envNames ?? 'its environment'}`).join('\n')}
  --trim-at MARK|N|end what-if: the library's own "give memory back now" call at a mark, after
                       event N, or at the end, on the topmost heap that has one; prints resident and
                       committed bytes before and after; repeatable. The verdict reads the run
                       without the trims. The calls:
${policySpecs().filter((p) => p.trimName).map((p) => `                         ${p.name}: ${p.trimName}`).join('\n')}
  --trim-in-run MARK|N the same call made in the run itself, as if the program called it there (a
                       change to the program: the verdict reads the run with it); repeatable
  --private-heap A..B  the blocks the program allocates between the points A and B (marks or event
                       numbers) and frees before B go to a heap of their own (the top heap's
                       policy and settings), created at A and destroyed at B: HeapCreate/HeapDestroy
                       around the peak (heapsim advise offers it for Windows heaps)
  --json               print the checkpoint document as JSON
  --format NAME        trace files: read as this format instead of detecting it
                       (hst, text, mtrace, ltrace, logalloc, rep)
  --lenient            trace files: count and skip malformed lines instead of stopping
${GATE_HELP}  -h, --help           this text
`;
}

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
  const trimInRun = ((values['trim-in-run'] as string[] | undefined) ?? []).map((t) => parseTrimAt(t));
  const privateHeap = values['private-heap'] === undefined ? undefined : parsePrivateHeap(values['private-heap'] as string);
  const thresholds = parseThresholds(values.threshold as string[] | undefined);
  return {
    options: { policy, params, layers, arch, profile, every, trimAt, ...(trimInRun.length ? { trimInRun } : {}), ...(privateHeap ? { privateHeap } : {}), thresholds },
    seed, ignoredEnv: fromEnv?.ignored ?? [],
  };
}

/** `--private-heap before..after`: the window of the private heap, two marks or event numbers. */
export function parsePrivateHeap(text: string): PrivateHeapWindow {
  const parts = text.split('..');
  if (parts.length !== 2 || !parts[0]!.trim() || !parts[1]!.trim()) throw new UsageError(`--private-heap '${text}': want FROM..TO (two marks or event numbers)`);
  return { from: parseTrimAt(parts[0]!), to: parseTrimAt(parts[1]!) };
}

export const command: Command = {
  summary: 'run a workload or trace on a policy and report each mark',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('run', args, OPTIONS);
    if (values.help) { io.stdout.write(await help()); return 0; }
    if (positionals.length !== 1) throw new UsageError('run wants exactly one workload name or trace file (see heapsim run --help)');
    const { options, seed, ignoredEnv } = await runOptionsFrom(values);
    const gate = parseGate(values);
    for (const i of ignoredEnv) io.stderr.write(`heapsim run: --env ${i.setting} ignored: ${i.reason}\n`);
    const write = (doc: RunDocument): number => {
      const verdict = doc.diagnosis as Verdict;
      io.stdout.write(values.json ? runDocumentJson(doc) : formatRunReport(doc, verdict, { dumps: values.dumps === true }));
      const failed = gateFailures(gate, doc, verdict);
      for (const f of failed) io.stderr.write(`heapsim run: limit failed: ${f}\n`);
      return failed.length ? EXIT_LIMIT_FAILED : 0;
    };
    const name = positionals[0]!;
    if (!isRegularFile(name) && !(await import('../inputs.js')).isTraceFile(name)) {
      if (values.format !== undefined || values.lenient) throw new UsageError('--format and --lenient apply to trace files only');
      const { makeWorkload } = await import('../../workload/index.js');
      return write(await runWorkload(makeWorkload(name, { seed }), options));
    }
    const bar = progressBar(io);
    const format = values.format === undefined ? undefined : parseFormatName(values.format as string);
    // The engine's module first: its file goes through the start buffer (io/start-buffer.ts) and
    // the compile's copy before the trace's first chunk takes that buffer for good. A failure shows
    // where the module is used.
    engineModule(WASM_HST_BUILD).catch(() => undefined);
    const workload = await traceWorkload(name, { format, lenient: values.lenient === true, onProgress: bar.update });
    const reopen = () => traceWorkload(name, { format, lenient: values.lenient === true });
    const doc = await runWorkload(workload, { ...options, reopen });
    bar.done();
    const stats = workload.replay.stats;
    io.stderr.write(`trace: ${stats.events} events (${stats.format}${stats.gzip ? ', gzip' : ''})\n`);
    for (const note of inputNotes(stats)) io.stderr.write(`  ${note}\n`);
    return write(doc);
  },
};

/** Exit code of a run whose verdict or peak failed a --fail-on / --max-* limit. */
export const EXIT_LIMIT_FAILED = 1;

export type { Checkpoint, RunDocument };
