// Test harness for the mimalloc policy: the installed mimalloc (test/oracle/mimalloc-replay.c,
// compiled here against libmimalloc-dev) and the engine replay the same calls; both report the
// library's own numbers at the same event numbers. Op scripts, random workloads and the scratch
// directory come from the ptmalloc harness (the same script language).
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine, Sample } from '../../../src/engine/engine.js';
import { replaySim, scratchDir, Rng as RngOf, type PtOp, type SimOptions } from '../ptmalloc/harness.js';
import { runOracleProcess } from '../../oracle/process.js';

export { opsScript, workload, Rng, scratchDir, type PtOp, type WorkloadShape } from '../ptmalloc/harness.js';

/** The numbers compared, in the oracle's column order (mi_process_info, then the area sums). */
export const NATIVE_FIELDS = [
  'current_commit', 'peak_commit', 'area_reserved', 'area_committed', 'area_used_bytes', 'area_used_blocks', 'areas',
] as const;
export type NativeField = (typeof NATIVE_FIELDS)[number];
export type Native = Record<NativeField, number>;

export interface Checkpoint {
  event: number;
  /** 'start' (before any call), 'at' (periodic or requested), 'end', or 'before'/'after' an mi_collect(true). */
  kind: 'start' | 'at' | 'end' | 'before' | 'after';
  native: Native;
  /** Resident bytes of the heap's segments (the oracle with --write --resident: mincore). */
  residentBytes?: number;
}

export interface OracleInfo { binary?: string; skipReason?: string }

const HERE = dirname(fileURLToPath(import.meta.url));
export const ORACLE_SOURCE = join(HERE, '..', '..', 'oracle', 'mimalloc-replay.c');
/** mi_version() of the release the policy models. */
export const MODELLED_VERSION = 209;
/** The settings the recorded-program tests use: delays that need no clock. */
export const NO_DELAYS = { MIMALLOC_DECOMMIT_DELAY: '0', MIMALLOC_SEGMENT_DECOMMIT_DELAY: '0' } as const;
export const NO_DECOMMIT = { MIMALLOC_ALLOW_DECOMMIT: '0' } as const;

let cached: OracleInfo | undefined;

/**
 * Compiles the oracle once per test process. Where this machine cannot (no C compiler, no
 * libmimalloc-dev, another mimalloc version) it says why; under CI=true that is an error, since
 * .ci/run installs both.
 */
export function oracle(): OracleInfo {
  if (cached) return cached;
  const cc = process.env.CC ?? 'cc';
  const binary = join(scratchDir(), 'mimalloc-replay');
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', binary, ORACLE_SOURCE, '-lmimalloc'], { encoding: 'utf8' });
  let reason: string | undefined;
  if (r.error || r.status !== 0) {
    reason = `cannot build the mimalloc oracle (${cc} ... -lmimalloc: ${r.error?.message ?? r.stderr.trim()}); install gcc and libmimalloc-dev`;
  } else {
    const v = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    const version = Number(v.stdout.trim());
    if (version !== MODELLED_VERSION) reason = `mimalloc ${v.stdout.trim() || '?'} here, the policy models ${MODELLED_VERSION} (2.0.9)`;
  }
  if (reason) {
    if (process.env.CI === 'true') throw new Error(`mimalloc oracle unavailable under CI: ${reason}`);
    cached = { skipReason: `${reason}: mimalloc oracle tests skipped` };
  } else {
    cached = { binary };
  }
  return cached;
}

function parseLines(stdout: string, resident: boolean): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const nums = f.slice(1).map(Number);
    const native = {} as Native;
    NATIVE_FIELDS.forEach((name, i) => { native[name] = nums[1 + i]!; });
    const cp: Checkpoint = { event: nums[0]!, kind: f[0] as Checkpoint['kind'], native };
    if (resident) cp.residentBytes = nums[1 + NATIVE_FIELDS.length];
    out.push(cp);
  }
  return out;
}

/** Runs the oracle on a file or text; `env` is the whole environment it gets (MIMALLOC_*). */
export function runOracle(
  input: { text?: string; file?: string },
  options: { ops?: boolean; every?: number; env?: Record<string, string>; trimAt?: number; resident?: boolean } = {},
): Checkpoint[] {
  const info = oracle();
  if (!info.binary) throw new Error(info.skipReason);
  const args: string[] = [];
  if (options.ops) args.push('--ops');
  if (options.resident) args.push('--write', '--resident');
  if (options.every) args.push('--every', String(options.every));
  if (options.trimAt !== undefined) args.push('--trim-at', String(options.trimAt));
  return parseLines(runOracleProcess(info.binary, input, args, options.env ?? {}, scratchDir()), options.resident ?? false);
}

function heapOf(s: Sample, heap: number): Sample['heaps'][number] {
  const h = s.heaps.find((x) => x.heap === heap);
  if (!h) throw new Error(`no heap ${heap} in sample`);
  return h;
}

/** The native fields of heap `heap` in an engine sample. */
export function nativeOf(s: Sample, heap = 0): Native {
  const h = heapOf(s, heap);
  const n = {} as Native;
  for (const name of NATIVE_FIELDS) n[name] = h.policyCounters[name]!;
  return n;
}

export interface SimRun { engine: Engine; checkpoints: Checkpoint[]; samples: Sample[] }

/**
 * Replays an op script through the engine's mimalloc heap with the oracle's checkpoints:
 * `start`, one per `p` and `t` and every `every` events, `end`. `s MS` advances the clock by MS ms
 * (a TICK), `t` runs mi_collect(true). `params` are the policy's (`--set` names).
 */
export async function runSim(ops: MiOp[], options: SimOptions = {}): Promise<SimRun> {
  const { engine, heap, start, samples } = await replaySim('mimalloc', ops, { ...options, trimPad: false, checkAfterFrees: true });
  const checkpoint = (s: Sample, kind: Checkpoint['kind']): Checkpoint =>
    ({ event: s.event, kind, native: nativeOf(s, heap), residentBytes: heapOf(s, heap).residentBytes });
  const checkpoints = [checkpoint(start, 'start')];
  samples.forEach((s, i) => checkpoints.push(checkpoint(s, i === samples.length - 1 ? 'end' : 'at')));
  return { engine, checkpoints, samples };
}

/** The oracle's op script, with `s MS` lines for clock steps. */
export function script(ops: MiOp[]): string {
  return ops.map((o) => {
    switch (o.op) {
      case 'm': case 'c': case 'r': return `${o.op} ${o.id} ${o.size}`;
      case 'a': return `a ${o.id} ${o.align} ${o.size}`;
      case 'f': return `f ${o.id}`;
      case 't': return 't';
      case 's': return `s ${o.ms}`;
      case 'p': return 'p';
    }
    return '';
  }).join('\n') + '\n';
}

/** First checkpoint where the lists differ (same positions; resident bytes where the oracle has them), or undefined. */
export function firstDifference(real: Checkpoint[], sim: Checkpoint[]): string | undefined {
  const n = Math.min(real.length, sim.length);
  for (let i = 0; i < n; i++) {
    const x = real[i]!, y = sim[i]!;
    if (x.event !== y.event || x.kind !== y.kind) return `checkpoint ${i}: oracle ${x.kind} ${x.event}, sim ${y.kind} ${y.event}`;
    const bad = NATIVE_FIELDS.filter((f) => x.native[f] !== y.native[f]);
    if (bad.length) return `checkpoint ${i} (${x.kind} ${x.event}): ` + bad.map((f) => `${f} mimalloc ${x.native[f]} sim ${y.native[f]}`).join(', ');
    if (x.residentBytes !== undefined && x.residentBytes !== y.residentBytes) {
      return `checkpoint ${i} (${x.kind} ${x.event}): resident mimalloc ${x.residentBytes} sim ${y.residentBytes}`;
    }
  }
  if (real.length !== sim.length) return `checkpoint count differs: oracle ${real.length}, sim ${sim.length}`;
  return undefined;
}

export type MiOp = PtOp | { op: 's'; ms: number };

/** Parses the oracle's op-script language (m, c, a, r, f, t, s, p; `#` comments) into ops. */
export function parseOps(text: string): MiOp[] {
  const ops: MiOp[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [op, ...rest] = line.split(/\s+/);
    const n = rest.map(Number);
    switch (op) {
      case 'm': case 'c': case 'r': ops.push({ op, id: n[0]!, size: n[1]! }); break;
      case 'a': ops.push({ op: 'a', id: n[0]!, align: n[1]!, size: n[2]! }); break;
      case 'f': ops.push({ op: 'f', id: n[0]! }); break;
      case 't': ops.push({ op: 't', pad: 0 }); break;
      case 's': ops.push({ op: 's', ms: n[0]! }); break;
      case 'p': ops.push({ op: 'p' }); break;
      default: throw new Error(`bad op line: ${raw}`);
    }
  }
  return ops;
}

/**
 * A reproducible mix for mimalloc: sizes over every page kind (small, medium, large, huge, some
 * above 16 MiB), frees, reallocs, callocs, aligned allocations up to 32 MiB alignment and the
 * odd mi_collect(true).
 */
export function mixedWorkload(seed: number, count: number): MiOp[] {
  const rng = new RngOf(seed);
  const ops: MiOp[] = [];
  const live: number[] = [];
  const freeIds: number[] = [];
  let nextId = 0;
  const size = (): number => {
    const r = rng.below(100);
    if (r < 40) return rng.below(200);
    if (r < 60) return 200 + rng.below(2000);
    if (r < 75) return 2000 + rng.below(30000);
    if (r < 85) return 32000 + rng.below(200000);
    if (r < 95) return 200000 + rng.below(4_000_000);
    if (r < 98) return 4_000_000 + rng.below(30_000_000);
    return 16_000_000 + rng.below(80_000_000);
  };
  while (ops.length < count) {
    const r = rng.below(1000);
    if (live.length && (r < 470 || live.length > 3000)) {
      const i = rng.below(live.length);
      const id = live[i]!;
      live[i] = live[live.length - 1]!;
      live.pop();
      freeIds.push(id);
      ops.push({ op: 'f', id });
    } else if (live.length && r < 560) {
      ops.push({ op: 'r', id: live[rng.below(live.length)]!, size: size() });
    } else if (r < 563) {
      ops.push({ op: 't', pad: 0 });
    } else {
      const id = freeIds.length ? freeIds.pop()! : nextId++;
      live.push(id);
      const k = rng.below(100);
      if (k < 5) ops.push({ op: 'a', id, align: 1 << (3 + rng.below(23)), size: size() });
      else if (k < 10) ops.push({ op: 'c', id, size: size() });
      else ops.push({ op: 'm', id, size: size() });
    }
  }
  return ops;
}
