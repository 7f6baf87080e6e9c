// Test harness for the jemalloc policy: the installed jemalloc (test/oracle/jemalloc-replay.c,
// compiled here against libjemalloc) and the engine replay the same calls; both report jemalloc's
// statistics at the same event numbers. The oracle runs under `setarch -R` (no address
// randomisation), so the one address-dependent figure (radix-tree leaves) is repeatable.
// The random workloads come from the ptmalloc harness; the oracle runs through test/oracle/process.ts.
import { spawnSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it, type TestContext } from 'vitest';
import type { Engine, Sample } from '../../../src/engine/engine.js';
import { replaySim, scratchDir, type PtOp } from '../ptmalloc/harness.js';
import { readJemallocEnv } from '../../../src/policies/jemalloc/index.js';
import { runOracleProcess } from '../../oracle/process.js';

export { scratchDir, opsScript, workload, Rng, type PtOp, type WorkloadShape } from '../ptmalloc/harness.js';

/** The statistics compared, in the oracle's column order (mallctl names; pages as bytes). */
export const JE_FIELDS = ['allocated', 'active', 'metadata', 'resident', 'mapped', 'retained', 'dirtyBytes', 'muzzyBytes'] as const;
export type JeField = (typeof JE_FIELDS)[number];
export type JeStats = Record<JeField, number>;
/** mallctl name of each field (dirty and muzzy: stats.arenas.4096.p{dirty,muzzy} × page size). */
export const JE_MALLCTL: Record<JeField, string> = {
  allocated: 'stats.allocated', active: 'stats.active', metadata: 'stats.metadata', resident: 'stats.resident',
  mapped: 'stats.mapped', retained: 'stats.retained', dirtyBytes: 'dirtyBytes', muzzyBytes: 'muzzyBytes',
};

export interface JeCheckpoint {
  event: number;
  kind: 'start' | 'at' | 'end' | 'before' | 'after';
  stats: JeStats;
}

/** The settings the fidelity tests run (MALLOC_CONF strings). */
export const SETTINGS: Record<string, string> = {
  'decay 0': 'narenas:1,tcache:false,background_thread:false,dirty_decay_ms:0,muzzy_decay_ms:0',
  'decay -1': 'narenas:1,tcache:false,background_thread:false,dirty_decay_ms:-1,muzzy_decay_ms:-1',
  'tcache, decay 0': 'narenas:1,tcache:true,background_thread:false,dirty_decay_ms:0,muzzy_decay_ms:0',
  'tcache, decay -1': 'narenas:1,tcache:true,background_thread:false,dirty_decay_ms:-1,muzzy_decay_ms:-1',
};

const HERE = dirname(fileURLToPath(import.meta.url));
export const ORACLE_SOURCE = join(HERE, '..', '..', 'oracle', 'jemalloc-replay.c');
/** The jemalloc release the policy models (checked against the library's `version` string). */
export const MODELLED_VERSION = '5.3.0';

export interface JeOracleInfo { binary?: string; setarch?: string[]; problem?: string }
let cached: JeOracleInfo | undefined;

/** Compiles the oracle once per test process; says why not when this machine cannot run it. */
export function jemallocOracle(): JeOracleInfo {
  if (cached) return cached;
  const cc = process.env.CC ?? 'cc';
  const binary = join(scratchDir(), 'jemalloc-replay');
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', binary, ORACLE_SOURCE, '-ljemalloc'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    cached = { problem: `cannot build the jemalloc oracle (${cc} ... -ljemalloc: ${r.error?.message ?? r.stderr.trim()}); install gcc and libjemalloc-dev` };
    return cached;
  }
  const arch = spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim();
  const probe = spawnSync('setarch', [arch, '-R', 'true'], { encoding: 'utf8' });
  const setarch = probe.status === 0 ? ['setarch', arch, '-R'] : undefined;
  if (!setarch) {
    cached = { problem: `setarch ${arch} -R does not work here (${probe.error?.message ?? probe.stderr.trim()}): the oracle needs repeatable addresses` };
    return cached;
  }
  // The library's version, from a tiny program that asks mallctl.
  const vsrc = join(scratchDir(), 'jemalloc-version.c');
  writeFileSync(vsrc, '#include <jemalloc/jemalloc.h>\n#include <stdio.h>\nint main(void){const char*v;size_t n=sizeof v;' +
    'if(mallctl("version",&v,&n,NULL,0))return 1;printf("%s\\n",v);return 0;}\n');
  const vbin = join(scratchDir(), 'jemalloc-version');
  const vb = spawnSync(cc, ['-o', vbin, vsrc, '-ljemalloc'], { encoding: 'utf8' });
  const version = vb.status === 0 ? spawnSync(vbin, [], { encoding: 'utf8' }).stdout.trim() : '';
  if (!version.startsWith(MODELLED_VERSION)) {
    cached = { problem: `installed jemalloc is '${version || 'unknown'}', the policy models ${MODELLED_VERSION}` };
    return cached;
  }
  cached = { binary, setarch };
  return cached;
}

/**
 * `it` for tests that need the oracle: skipped with a message where there is no C compiler or no
 * jemalloc, but under CI=true (the CI installs both) a missing oracle fails the test.
 */
export function oracleIt(name: string, fn: (ctx: TestContext) => Promise<void> | void, timeout?: number): void {
  const info = jemallocOracle();
  if (!info.problem) { it(name, fn, timeout); return; }
  if (process.env.CI === 'true') {
    it(name, () => { throw new Error(`jemalloc oracle unavailable under CI: ${info.problem}`); });
    return;
  }
  console.warn(`[jemalloc oracle] ${name}: skipped: ${info.problem}`);
  it.skip(name, fn);
}

/** Runs the oracle; `conf` is MALLOC_CONF (the whole environment besides PATH). */
export function runJemallocOracle(
  input: { text?: string; file?: string },
  options: { conf: string; ops?: boolean; every?: number; trimAt?: number; write?: boolean },
): JeCheckpoint[] {
  const info = jemallocOracle();
  if (!info.binary) throw new Error(info.problem);
  const args: string[] = [...info.setarch!.slice(1), info.binary];
  if (options.ops) args.push('--ops');
  if (options.write) args.push('--write');
  if (options.trimAt !== undefined) args.push('--trim-at', String(options.trimAt));
  if (options.every) args.push('--every', String(options.every));
  const stdout = runOracleProcess(info.setarch![0]!, input, args, { MALLOC_CONF: options.conf }, scratchDir());
  const out: JeCheckpoint[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.split(' ');
    if (!line || f[0] === 'trim') continue;
    const nums = f.slice(1).map(Number);
    const stats = {} as JeStats;
    JE_FIELDS.forEach((name, i) => { stats[name] = nums[1 + i]!; });
    out.push({ event: nums[0]!, kind: f[0] as JeCheckpoint['kind'], stats });
  }
  return out;
}

/** Model parameters for a MALLOC_CONF string, read by the policy's own settings reader. */
export function paramsFor(conf: string, extra: Record<string, number> = {}): Record<string, number> {
  const params = { ...readJemallocEnv(`MALLOC_CONF=${conf}`).params, ...extra };
  if (params.narenas === undefined) {
    // jemalloc's default: 4 arenas per CPU (only its statistics tables depend on it)
    const ncpu = Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim()) || 1;
    params.narenas = ncpu > 1 ? 4 * ncpu : 1;
  }
  return params;
}

export function statsOf(s: Sample, heap = 0): JeStats {
  const h = s.heaps.find((x) => x.heap === heap);
  if (!h) throw new Error(`no heap ${heap} in sample`);
  const stats = {} as JeStats;
  for (const name of JE_FIELDS) stats[name] = h.policyCounters[name]!;
  return stats;
}

export interface JeSimRun { engine: Engine; checkpoints: JeCheckpoint[]; samples: Sample[] }

/** Replays an op script through a jemalloc heap with the oracle's checkpoints (`start` first). */
export async function runJemallocSim(
  ops: PtOp[], options: { params: Record<string, number>; every?: number; check?: boolean; build?: 'debug' | 'release' },
): Promise<JeSimRun> {
  const { engine, heap, start, samples } = await replaySim('jemalloc', ops, options);
  const checkpoints: JeCheckpoint[] = [{ event: 0, kind: 'start', stats: statsOf(start, heap) }];
  samples.forEach((s, i) => checkpoints.push({ event: s.event, kind: i === samples.length - 1 ? 'end' : 'at', stats: statsOf(s, heap) }));
  return { engine, checkpoints, samples };
}

/** Fields that differ between two stats records. */
export function differingFields(a: JeStats, b: JeStats, fields: readonly JeField[] = JE_FIELDS): JeField[] {
  return fields.filter((f) => a[f] !== b[f]);
}

/** First checkpoint (same position in both lists) whose statistics differ, described; or undefined. */
export function firstDifference(real: JeCheckpoint[], sim: JeCheckpoint[], fields: readonly JeField[] = JE_FIELDS): string | undefined {
  const n = Math.min(real.length, sim.length);
  for (let i = 0; i < n; i++) {
    const x = real[i]!, y = sim[i]!;
    if (x.event !== y.event) return `checkpoint ${i}: oracle ${x.kind} ${x.event}, sim ${y.kind} ${y.event}`;
    const d = differingFields(x.stats, y.stats, fields);
    if (d.length) return `checkpoint ${i} (${x.kind} ${x.event}): ` + d.map((f) => `${f} jemalloc ${x.stats[f]} sim ${y.stats[f]}`).join(', ');
  }
  if (real.length !== sim.length) return `checkpoint count differs: oracle ${real.length}, sim ${sim.length}`;
  return undefined;
}

export function libraryPath(): string | undefined {
  for (const p of ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2', '/usr/lib/libjemalloc.so.2']) {
    if (existsSync(p)) return p;
  }
  return undefined;
}
