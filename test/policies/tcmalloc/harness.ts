// Test harness for the tcmalloc policy: the real gperftools tcmalloc (test/oracle/tcmalloc-replay.c,
// compiled here against the installed libtcmalloc_minimal) and the engine replay the same calls;
// both report the library's eight statistics at the same event numbers.
// The op scripts, workloads and scratch directory are the ptmalloc harness's (same oracle script
// format; `t` is ReleaseFreeMemory() here).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runOracleProcess } from '../../oracle/process.js';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine, Sample } from '../../../src/engine/engine.js';
import { replaySim, scratchDir, type PtOp, type SimOptions } from '../ptmalloc/harness.js';
import { TCMALLOC_PROPERTY_NAMES, tcmallocNative, type TcmallocProperty } from '../../../src/policies/tcmalloc/view.js';

export { opsScript, workload, Rng, scratchDir, type PtOp as TcOp, type WorkloadShape } from '../ptmalloc/harness.js';
export { TCMALLOC_PROPERTY_NAMES, type TcmallocProperty };

export type Props = Record<TcmallocProperty, number>;

export interface Checkpoint {
  event: number;
  kind: 'at' | 'end' | 'before' | 'after';
  props: Props;
  /** Oracle with --resident: resident bytes of the break segment, and its size. */
  residentBytes?: number;
  segmentBytes?: number;
}

export interface OracleInfo { binary?: string; skipReason?: string }

const HERE = dirname(fileURLToPath(import.meta.url));
export const ORACLE_SOURCE = join(HERE, '..', '..', 'oracle', 'tcmalloc-replay.c');
/** The library the policy models (Debian 12's package). */
export const MODELLED_LIBRARY = 'libtcmalloc_minimal.so.4 (gperftools 2.10)';
const LIBRARY_FILE = 'libtcmalloc_minimal.so.4.5.10';

let cached: OracleInfo | undefined;

/**
 * Compiles the oracle once per test process. Where it cannot run, says why: the tests skip with that
 * message, except under CI=true, where a missing compiler or library is a failure.
 */
export function oracle(): OracleInfo {
  if (cached) return cached;
  const cc = process.env.CC ?? 'cc';
  const binary = join(scratchDir(), 'tcmalloc-replay');
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', binary, ORACLE_SOURCE, '-ltcmalloc_minimal'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    cached = { skipReason: `cannot build the tcmalloc oracle (${cc}: ${r.error?.message ?? r.stderr.trim()}); install gcc and libgoogle-perftools-dev` };
  } else {
    const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' });
    const m = /libtcmalloc_minimal\.so\.4 => (\S+)/.exec(ldd.stdout ?? '');
    const lib = m ? m[1]! : '';
    const real = lib ? spawnSync('readlink', ['-f', lib], { encoding: 'utf8' }).stdout.trim() : '';
    cached = real.endsWith(LIBRARY_FILE) && existsSync(real)
      ? { binary }
      : { skipReason: `the oracle links ${real || 'no libtcmalloc_minimal'}, the policy models ${MODELLED_LIBRARY}` };
  }
  if (cached.skipReason && process.env.CI === 'true') throw new Error(`[tcmalloc oracle] ${cached.skipReason} (CI=true: required)`);
  return cached;
}

export function parseOracleOutput(stdout: string): { checkpoints: Checkpoint[]; trims: number[] } {
  const checkpoints: Checkpoint[] = [];
  const trims: number[] = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    if (f[0] === 'trim') { trims.push(Number(f[1])); continue; }
    const props = {} as Props;
    TCMALLOC_PROPERTY_NAMES.forEach((name, i) => { props[name] = Number(f[2 + i]); });
    const cp: Checkpoint = { event: Number(f[1]), kind: f[0] as Checkpoint['kind'], props };
    const extra = 2 + TCMALLOC_PROPERTY_NAMES.length;
    if (f.length >= extra + 2) { cp.residentBytes = Number(f[extra]); cp.segmentBytes = Number(f[extra + 1]); }
    checkpoints.push(cp);
  }
  return { checkpoints, trims };
}

/** Runs the oracle on a file or text; `env` is the whole environment it gets (TCMALLOC_* settings). */
export function runOracle(
  input: { text?: string; file?: string },
  options: { ops?: boolean; every?: number; env?: Record<string, string>; write?: boolean; resident?: boolean; trimAt?: number } = {},
): { checkpoints: Checkpoint[]; trims: number[] } {
  const info = oracle();
  if (!info.binary) throw new Error(info.skipReason);
  const args: string[] = [];
  if (options.ops) args.push('--ops');
  if (options.write) args.push('--write');
  if (options.resident) args.push('--resident');
  if (options.trimAt !== undefined) args.push('--trim-at', String(options.trimAt));
  if (options.every) args.push('--every', String(options.every));
  return parseOracleOutput(runOracleProcess(info.binary, input, args, options.env ?? {}, scratchDir()));
}

export function propsOf(s: Sample, heap = 0): Props {
  const h = s.heaps.find((x) => x.heap === heap);
  if (!h) throw new Error(`no heap ${heap} in sample`);
  return tcmallocNative(h.policyCounters);
}

export interface SimRun {
  engine: Engine;
  checkpoints: Checkpoint[];
  samples: Sample[];
}

/** Replays calls through the engine's tcmalloc heap with the same checkpoints as the oracle. */
export async function runSim(ops: PtOp[], options: SimOptions = {}): Promise<SimRun> {
  const { engine, heap, samples } = await replaySim('tcmalloc', ops, { ...options, trimPad: false });
  const checkpoints = samples.map((s, i): Checkpoint =>
    ({ event: s.event, kind: i === samples.length - 1 ? 'end' : 'at', props: propsOf(s, heap) }));
  return { engine, checkpoints, samples };
}

/** Describes the first checkpoint where the two lists differ, or undefined when they agree everywhere. */
export function firstDifference(real: Checkpoint[], sim: Checkpoint[]): string | undefined {
  const n = Math.min(real.length, sim.length);
  for (let i = 0; i < n; i++) {
    const x = real[i]!, y = sim[i]!;
    if (x.event !== y.event || x.kind !== y.kind) return `checkpoint ${i}: oracle ${x.kind} ${x.event}, sim ${y.kind} ${y.event}`;
    const diffs = TCMALLOC_PROPERTY_NAMES.filter((f) => x.props[f] !== y.props[f]);
    if (diffs.length) return `checkpoint ${i} (event ${x.event}): ` + diffs.map((f) => `${f} real ${x.props[f]} sim ${y.props[f]}`).join(', ');
  }
  if (real.length !== sim.length) return `checkpoint count differs: oracle ${real.length}, sim ${sim.length}`;
  return undefined;
}

export function propsEqual(a: Props, b: Props): boolean {
  return TCMALLOC_PROPERTY_NAMES.every((f) => a[f] === b[f]);
}
