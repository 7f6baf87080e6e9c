// A sweep's plan: the cross product inputs × policies × settings × seeds, in a fixed order (inputs
// outermost, then policies, then each --set key in the order given, then seeds), each job
// validated before anything runs so a bad value fails in one line and no run starts. An input
// naming an existing file is a trace (seeds do not apply to it: one job per combination).
import { getPolicy, policySpecs, resolveParams } from '../policies/registry.js';
import type { TrimPoint } from '../run/trim-at.js';
import { UsageError } from '../errors.js';
import { layerSettings } from '../cli/commands/run.js';
import { isTraceFile } from '../cli/inputs.js';
import { makeWorkload } from '../workload/index.js';
import type { RunRequest } from '../worker/protocol.js';

/** One --set axis: a key and the values it takes, in the order given. */
export interface SettingAxis {
  key: string;
  values: string[];
}

export interface SweepAxes {
  inputs: string[];
  policies: string[];
  settings: SettingAxis[];
  seeds: number[];
}

export interface SweepJob {
  /** Position in the plan; results are reported in this order whatever order they finish in. */
  index: number;
  input: string;
  policy: string;
  /** This job's value of each axis, in axis order. */
  settings: [key: string, value: string][];
  /** Seed of a built-in workload; undefined for a trace. */
  seed: number | undefined;
  /** The input is a trace file. */
  trace: boolean;
}


/** Parses repeated `--set key=v1,v2,...` values into axes (a key may appear once). */
export function settingAxes(sets: readonly string[]): SettingAxis[] {
  const axes: SettingAxis[] = [];
  for (const text of sets) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set wants key=value[,value...], got '${text}'`);
    const key = text.slice(0, eq).trim();
    const values = text.slice(eq + 1).split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) throw new UsageError(`--set ${key}: empty value in '${text}'`);
    if (axes.some((a) => a.key === key)) throw new UsageError(`--set ${key} given twice; list its values once, comma-separated`);
    axes.push({ key, values });
  }
  return axes;
}

/** Splits a comma-separated list option, rejecting empty items. */
export function listOption(name: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${name}: empty item in '${text}'`);
  return items;
}

export function planSweep(axes: SweepAxes): SweepJob[] {
  if (!axes.inputs.length) throw new UsageError('sweep wants at least one workload name or trace file');
  if (!axes.policies.length) throw new UsageError('sweep wants at least one policy (--policy a,b,c)');
  for (const p of axes.policies) getPolicy(p);
  const traces = axes.inputs.map(isTraceFile);
  axes.inputs.forEach((input, i) => { if (!traces[i]) makeWorkload(input); });
  let combos: [string, string][][] = [[]];
  for (const axis of axes.settings) {
    combos = combos.flatMap((c) => axis.values.map((v) => [...c, [axis.key, v] as [string, string]]));
  }
  const jobs: SweepJob[] = [];
  axes.inputs.forEach((input, i) => {
    const trace = traces[i]!;
    for (const policy of axes.policies) {
      for (const settings of combos) {
        for (const seed of trace ? [undefined] : axes.seeds) {
          jobs.push({ index: jobs.length, input, policy, settings, seed, trace });
        }
      }
    }
  });
  for (const job of jobs) requestFor(job, {});
  return jobs;
}

/** Options every job of a sweep shares. */
export interface SweepRunOptions {
  arch?: RunRequest['arch'];
  profile?: string;
  /**
   * `--env` lines: each job's topmost heap whose policy reads production settings gets the lines
   * its reader takes (a line another library's reader takes is not for this one); --set wins.
   */
  env?: string[];
  /** `--trim-at` points, the same in every job (on the heap `run --trim-at` would trim). */
  trimAt?: TrimPoint[];
  /** `--trim-in-run` points, the same in every job (a program change in the measured run). */
  trimInRun?: TrimPoint[];
}

/** The lines of `env` that `policy`'s production settings reader takes (sets a parameter with them). */
export function envLinesFor(policy: string, env: readonly string[]): string[] {
  const read = getPolicy(policy).readEnv;
  if (!read) return [];
  return env.filter((line) => {
    try { return Object.keys(read(line).params).length > 0; } catch { return false; }
  });
}

/** Every --env line must be read by some job's policy (or layer), else it is a usage error naming it. */
export function checkEnvLines(jobs: readonly SweepJob[], env: readonly string[]): void {
  const used = new Set<string>();
  for (const job of jobs) {
    const { layers } = layerSettings(Object.fromEntries(job.settings));
    for (const p of [job.policy, ...layers.map((l) => l.policy)]) for (const l of envLinesFor(p, env)) used.add(l);
  }
  const unused = env.filter((l) => !used.has(l));
  if (unused.length) {
    // One line: the readers' names (their settings are in `heapsim run --help`, over several lines).
    const readers = policySpecs().filter((p) => p.readEnv).map((p) => p.name);
    throw new UsageError(`--env ${unused[0]}: no swept policy reads it (policies that read --env: ${readers.join(', ')}; their settings: heapsim run --help)`);
  }
}

/** The run request of one job; throws UsageError for a setting the policy does not know. */
export function requestFor(job: SweepJob, shared: SweepRunOptions): RunRequest {
  const { params: setParams, layers } = layerSettings(Object.fromEntries(job.settings));
  const spec = getPolicy(job.policy);
  let params: Record<string, string | number> = setParams;
  const env = shared.env ?? [];
  if (env.length) {
    // As `run --env`: the topmost heap whose policy reads production settings; --set wins.
    const reader = spec.readEnv ? undefined : layers.find((l) => getPolicy(l.policy).readEnv);
    const target = reader?.policy ?? job.policy;
    const lines = envLinesFor(target, env);
    const fromEnv = lines.length ? getPolicy(target).readEnv!(lines.join('\n')).params : {};
    if (reader) reader.params = { ...fromEnv, ...(reader.params ?? {}) };
    else params = { ...fromEnv, ...setParams };
  }
  resolveParams(spec, params);
  for (const l of layers) resolveParams(getPolicy(l.policy), l.params ?? {});
  return {
    input: job.trace ? { trace: job.input } : { workload: job.input, seed: job.seed },
    policy: job.policy,
    params,
    layers,
    ...(shared.trimAt?.length ? { trimAt: shared.trimAt } : {}),
    ...(shared.trimInRun?.length ? { trimInRun: shared.trimInRun } : {}),
    ...(shared.arch ? { arch: shared.arch } : {}),
    ...(shared.profile ? { profile: shared.profile } : {}),
  };
}

/** `key=value` pairs of a job, space-separated ('' when the sweep has no --set). */
export function settingsText(job: SweepJob): string {
  return job.settings.map(([k, v]) => `${k}=${v}`).join(' ');
}
