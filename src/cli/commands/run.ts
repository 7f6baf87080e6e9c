// heapsim run <workload|trace> --policy <name> ...: run one workload on one policy, print a summary at
// each mark (or the checkpoint document with --json).
import type { Command, Io } from '../io.js';
import { parse, intOption, keyValues, oneOf } from '../options.js';
import { ARCHS, type ArchName } from '../../engine/abi.js';
import { getPolicy, POLICIES } from '../../engine/policies.js';
import { profileNames } from '../../engine/profiles.js';
import { makeWorkload, workloadNames } from '../../workload/index.js';
import { runWorkload, type LayerSpec, type RunOptions } from '../../run/run.js';
import { UsageError } from '../../errors.js';
import type { Checkpoint, RunDocument } from '../../report/types.js';
import { formatRunText } from '../../report/text.js';

const OPTIONS = {
  policy: { type: 'string', default: 'first-fit' },
  arch: { type: 'string' },
  profile: { type: 'string' },
  seed: { type: 'string' },
  every: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

const HELP = `usage: heapsim run <workload|trace-file> [options]

Runs a built-in workload (${workloadNames().join(', ')}) or a recorded trace on one allocator
policy over a simulated address space, and prints the address space and the heap at each mark.

options:
  --policy NAME        allocator policy: ${Object.keys(POLICIES).sort().join(', ')} (default first-fit)
  --arch ARCH          x86 | x86-3gb | x64 (default: the workload's, x86 for peak-hour)
  --profile NAME       background regions: ${profileNames().join(', ')}
                       (default: the workload's profile when it fits the architecture, else bare)
  --seed N             seed of a synthetic workload (default 1)
  --every N            also take a checkpoint every N events
  --set KEY=VALUE      policy parameter (sizes accept K/M/G suffixes and 0x hex); repeatable.
                       --set parent=POLICY puts the heap on top of a heap of POLICY;
                       --set parent.KEY=VALUE sets that heap's parameters
  --json               print the checkpoint document as JSON
  -h, --help           this text
`;

/** Splits --set values into the top heap's params and the parent layer. */
export function layerSettings(sets: Record<string, string>): { params: Record<string, string>; layers: LayerSpec[] } {
  const params: Record<string, string> = {};
  const parentParams: Record<string, string> = {};
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

export async function runOptionsFrom(values: Record<string, unknown>): Promise<{ options: RunOptions; seed: number }> {
  const policy = values.policy as string;
  getPolicy(policy);
  const arch = oneOf('arch', values.arch as string | undefined, Object.keys(ARCHS) as ArchName[]);
  const profile = oneOf('profile', values.profile as string | undefined, profileNames());
  const seed = intOption('seed', values.seed as string | undefined) ?? 1;
  const every = intOption('every', values.every as string | undefined, 1);
  const { params, layers } = layerSettings(keyValues(values.set as string[] | undefined));
  return { options: { policy, params, layers, arch, profile, every }, seed };
}

export const command: Command = {
  summary: 'run a workload or trace on a policy and report each mark',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('run', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length !== 1) throw new UsageError('run wants exactly one workload name or trace file (see heapsim run --help)');
    const { options, seed } = await runOptionsFrom(values);
    const workload = makeWorkload(positionals[0]!, { seed });
    const doc = await runWorkload(workload, options);
    io.stdout.write(values.json ? JSON.stringify(doc, null, 2) + '\n' : formatRunText(doc));
    return 0;
  },
};

export type { Checkpoint, RunDocument };
