// Test harness for the ptmalloc policy: the real glibc (test/oracle/mallinfo-replay.c, compiled
// here with the system C compiler) and the engine replay the same calls; both report mallinfo2()
// at the same event numbers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { runOracleProcess } from '../../oracle/process.js';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine, type Sample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { arenasOf as arenaViewsOf } from '../../../src/policies/ptmalloc/diagnose.js';

export const MALLINFO_FIELDS = [
  'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost',
] as const;
export type MallinfoField = (typeof MALLINFO_FIELDS)[number];
export type Mallinfo = Record<MallinfoField, number>;

/** malloc_stats()'s figures for one arena. */
export interface ArenaFigures { systemBytes: number; inUseBytes: number }

export interface Checkpoint {
  /** Events replayed so far. */
  event: number;
  /** With `arenas`: malloc_stats()'s system and in-use bytes per arena, main arena first. */
  arenas?: ArenaFigures[];
  /** 'at' (periodic or requested), 'end', or around the oracle's --trim-at: 'before' / 'after'. */
  kind: 'at' | 'end' | 'before' | 'after';
  mallinfo: Mallinfo;
  /** Oracle with --resident: resident bytes of the break segment, and its size. */
  breakResidentBytes?: number;
  breakBytes?: number;
}

/** The glibc this machine runs, and why the oracle cannot be used when it cannot. */
export interface OracleInfo {
  binary?: string;
  skipReason?: string;
  glibcVersion?: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const ORACLE_SOURCE = join(HERE, '..', '..', 'oracle', 'mallinfo-replay.c');
/** The glibc release the policy models. */
export const MODELLED_GLIBC = '2.36';

let cached: OracleInfo | undefined;
let workDir: string | undefined;

export function scratchDir(): string {
  if (!workDir) {
    workDir = mkdtempSync(join(tmpdir(), 'heapsim-ptmalloc-'));
    process.once('exit', () => rmSync(workDir!, { recursive: true, force: true }));
  }
  return workDir;
}

/** Compiles the oracle once per test process; tells why not when this machine cannot run it. */
export function oracle(): OracleInfo {
  if (cached) return cached;
  const libc = spawnSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' });
  const m = /glibc\s+(\S+)/.exec(libc.stdout ?? '');
  if (libc.status !== 0 || !m) {
    cached = { skipReason: 'the C library is not glibc (getconf GNU_LIBC_VERSION failed): ptmalloc oracle tests skipped' };
    return cached;
  }
  const version = m[1]!;
  if (version !== MODELLED_GLIBC) {
    cached = { glibcVersion: version, skipReason: `glibc ${version} here, the policy models ${MODELLED_GLIBC}: ptmalloc oracle tests skipped` };
    return cached;
  }
  const cc = process.env.CC ?? 'cc';
  const binary = join(scratchDir(), 'mallinfo-replay');
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', binary, ORACLE_SOURCE], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    cached = { glibcVersion: version, skipReason: `no C compiler (${cc}: ${r.error?.message ?? r.stderr.trim()}): ptmalloc oracle tests skipped` };
    return cached;
  }
  cached = { binary, glibcVersion: version };
  return cached;
}

/** Runs the oracle on a file; `env` is the whole environment it gets (GLIBC_TUNABLES and such). */
export function runOracle(
  input: { text?: string; file?: string },
  options: { ops?: boolean; heapsimText?: boolean; arenas?: boolean; every?: number; env?: Record<string, string>; resident?: boolean; write?: boolean; trimAt?: number } = {},
): { checkpoints: Checkpoint[]; trims: { event: number; result: number }[]; cores?: number } {
  const info = oracle();
  if (!info.binary) throw new Error(info.skipReason);
  const args: string[] = [];
  if (options.ops) args.push('--ops');
  if (options.heapsimText) args.push('--text');
  if (options.arenas) args.push('--arenas');
  if (options.resident) args.push('--resident');
  if (options.write) args.push('--write');
  if (options.trimAt !== undefined) args.push('--trim-at', String(options.trimAt));
  if (options.every) args.push('--every', String(options.every));
  const stdout = runOracleProcess(info.binary, input, args, options.env ?? {}, scratchDir());
  const checkpoints: Checkpoint[] = [];
  const trims: { event: number; result: number }[] = [];
  let cores: number | undefined;
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    let f = line.split(' ');
    if (f[0] === 'trim') { trims.push({ event: Number(f[1]), result: Number(f[2]) }); continue; }
    if (f[0] === 'cores') { cores = Number(f[1]); continue; }
    let arenas: ArenaFigures[] | undefined;
    const at = f.indexOf('arenas');
    if (at >= 0) {
      const v = f.slice(at + 2).map(Number);
      arenas = [];
      for (let i = 0; i < Number(f[at + 1]); i++) arenas.push({ systemBytes: v[2 * i]!, inUseBytes: v[2 * i + 1]! });
      f = f.slice(0, at);
    }
    const nums = f.slice(1).map(Number);
    const mallinfo = {} as Mallinfo;
    MALLINFO_FIELDS.forEach((name, i) => { mallinfo[name] = nums[1 + i]!; });
    const cp: Checkpoint = { event: nums[0]!, kind: f[0] as Checkpoint['kind'], mallinfo };
    if (options.resident) { cp.breakResidentBytes = nums[11]; cp.breakBytes = nums[12]; }
    if (arenas) cp.arenas = arenas;
    checkpoints.push(cp);
  }
  return { checkpoints, trims, cores };
}

// ------------------------------------------------------------------ op scripts

export type PtOp =
  | { op: 'm' | 'c'; id: number; size: number }
  | { op: 'a'; id: number; align: number; size: number }
  | { op: 'r'; id: number; size: number }
  | { op: 'f'; id: number }
  | { op: 't'; pad: number }
  | { op: 'p' }
  /** The following calls come from thread `tid`; thread `tid` exits. */
  | { op: 'T' | 'E'; tid: number };

/** The oracle's --ops script for a list of calls. */
export function opsScript(ops: PtOp[]): string {
  const out: string[] = [];
  for (const o of ops) {
    switch (o.op) {
      case 'm': case 'c': case 'r': out.push(`${o.op} ${o.id} ${o.size}`); break;
      case 'a': out.push(`a ${o.id} ${o.align} ${o.size}`); break;
      case 'f': out.push(`f ${o.id}`); break;
      case 't': out.push(`t ${o.pad}`); break;
      case 'p': out.push('p'); break;
      case 'T': case 'E': out.push(`${o.op} ${o.tid}`); break;
    }
  }
  return out.join('\n') + '\n';
}

/** Per-arena figures of a ptmalloc heap in a sample (what malloc_stats prints of each arena). */
export function arenasOf(s: Sample, heap = 0): ArenaFigures[] {
  const h = s.heaps.find((x) => x.heap === heap);
  return h ? arenaViewsOf(h).map((a) => ({ systemBytes: a.systemBytes, inUseBytes: a.inUseBytes })) : [];
}

export function mallinfoOf(s: Sample, heap = 0): Mallinfo {
  const h = s.heaps.find((x) => x.heap === heap);
  if (!h) throw new Error(`no heap ${heap} in sample`);
  const m = {} as Mallinfo;
  for (const name of MALLINFO_FIELDS) m[name] = h.policyCounters[name]!;
  return m;
}

/** A call of an oracle script: PtOp, or `s MS` (a clock step, in mimalloc's scripts). */
export type ScriptOp = PtOp | { op: 's'; ms: number };

export interface SimOptions { every?: number; params?: Record<string, string | number>; build?: 'debug' | 'release'; check?: boolean }

export interface ReplayedSim {
  engine: Engine;
  heap: number;
  /** The heap before the first call (the oracles that print a `start` checkpoint). */
  start: Sample;
  /** One sample per checkpoint the oracle prints (every `every` events, after each `p` and `t`), then the end. */
  samples: Sample[];
  trims: { event: number; residentBytesGiven: number }[];
}

function residentOf(s: Sample, heap: number): number {
  const h = s.heaps.find((x) => x.heap === heap);
  if (!h) throw new Error(`no heap ${heap} in sample`);
  return h.residentBytes;
}

/**
 * Replays an oracle script through one heap of `policy`, in batches, with the oracles' checkpoints.
 * `t` is the library's trim call in a batch of its own (what it gave back is kept in `trims`);
 * `trimPad: false` for libraries whose trim takes no pad. `check` runs the invariant check after
 * every batch, and with `checkAfterFrees` a batch also ends after each free and trim.
 */
export async function replaySim(
  policy: string, ops: readonly ScriptOp[],
  options: SimOptions & { trimPad?: boolean; checkAfterFrees?: boolean; checkAfterEach?: boolean } = {},
): Promise<ReplayedSim> {
  const engine = await createEngine({ arch: 'x64', sampleEvery: options.every ?? 0, build: options.build ?? 'release' });
  const heap = engine.createHeap(policy, { params: options.params ?? {} });
  const start = engine.sample();
  const samples: Sample[] = [];
  const trims: { event: number; residentBytesGiven: number }[] = [];
  const mark = engine.label('checkpoint');
  let buf = new OpBuffer(4096);
  const flush = (): void => {
    if (!buf.length) return;
    const r = engine.apply(buf);
    if (r.failedOps) throw new Error(`engine op failed: ${JSON.stringify(r.firstFailure)}`);
    samples.push(...r.samples);
    if (options.check) {
      const bad = engine.check();
      if (bad !== 0) throw new Error(`invariant ${bad} failed after event ${engine.events}`);
    }
    buf = new OpBuffer(4096);
  };
  for (const o of ops) {
    if (buf.full) flush();
    switch (o.op) {
      case 'm': buf.alloc(heap, o.id, o.size); break;
      case 'c': buf.calloc(heap, o.id, o.size); break;
      case 'a': buf.alignedAlloc(heap, o.id, o.size, o.align); break;
      case 'r': buf.realloc(heap, o.id, o.size); break;
      case 'f': buf.free(heap, o.id); break;
      case 't': {
        flush();
        const before = residentOf(engine.sample(), heap);
        buf.trim(heap, options.trimPad === false ? 0 : o.pad);
        buf.mark(mark); // the oracle prints a checkpoint after its trim
        flush();
        trims.push({ event: engine.events, residentBytesGiven: before - residentOf(samples[samples.length - 1]!, heap) });
        break;
      }
      case 's': buf.tick(o.ms * 1e6); break;
      case 'p': buf.mark(mark); break;
      case 'T': buf.thread(o.tid); break;
      case 'E': buf.threadEnd(o.tid); break;
    }
    if (options.check && (options.checkAfterEach || (options.checkAfterFrees && o.op === 'f'))) flush();
  }
  flush();
  samples.push(engine.sample());
  return { engine, heap, start, samples, trims };
}

export interface SimRun {
  engine: Engine;
  checkpoints: Checkpoint[];
  trims: { event: number; residentBytesGiven: number }[];
  samples: Sample[];
}

/** Replays calls through the engine's ptmalloc heap with the same checkpoints as the oracle. */
export async function runSim(ops: PtOp[], options: SimOptions & { checkAfterEach?: boolean } = {}): Promise<SimRun> {
  const { engine, heap, samples, trims } = await replaySim('ptmalloc', ops, options);
  const checkpoints = samples.map((s, i): Checkpoint =>
    ({ event: s.event, kind: i === samples.length - 1 ? 'end' : 'at', mallinfo: mallinfoOf(s, heap), arenas: arenasOf(s, heap) }));
  return { engine, checkpoints, trims, samples };
}

/** First checkpoint where the two lists differ, or undefined when they agree everywhere. */
export function firstDifference(oracleCps: Checkpoint[], simCps: Checkpoint[]): string | undefined {
  if (oracleCps.length !== simCps.length) {
    return `checkpoint count differs: oracle ${oracleCps.length}, sim ${simCps.length}` +
      (firstDifferenceIn(oracleCps, simCps, Math.min(oracleCps.length, simCps.length)) ?? '');
  }
  return firstDifferenceIn(oracleCps, simCps, oracleCps.length);
}

function firstDifferenceIn(a: Checkpoint[], b: Checkpoint[], n: number): string | undefined {
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.event !== y.event || x.kind !== y.kind) return `checkpoint ${i}: oracle ${x.kind} ${x.event}, sim ${y.kind} ${y.event}`;
    const diffs = MALLINFO_FIELDS.filter((f) => x.mallinfo[f] !== y.mallinfo[f]);
    if (diffs.length) {
      return `checkpoint ${i} (event ${x.event}): ` + diffs.map((f) => `${f} oracle ${x.mallinfo[f]} sim ${y.mallinfo[f]}`).join(', ');
    }
    if (x.arenas && y.arenas && JSON.stringify(x.arenas) !== JSON.stringify(y.arenas)) {
      return `checkpoint ${i} (event ${x.event}): arenas oracle ${JSON.stringify(x.arenas)} sim ${JSON.stringify(y.arenas)}`;
    }
  }
  return undefined;
}

/** Number of checkpoints whose ten fields differ (same positions compared). */
export function countDifferences(a: Checkpoint[], b: Checkpoint[]): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!, y = b[i]!;
    if (x.event !== y.event || MALLINFO_FIELDS.some((f) => x.mallinfo[f] !== y.mallinfo[f])) n++;
  }
  return n;
}

// ------------------------------------------------------------------ deterministic workloads

/** xorshift32: the same seed gives the same workload on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 0x9e3779b9; }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  below(n: number): number { return this.next() % n; }
  chance(p: number): boolean { return this.next() / 4294967296 < p; }
}

export interface WorkloadShape {
  ops: number;
  /** Probability weights of request size classes. */
  tiny?: number; small?: number; medium?: number; large?: number; huge?: number;
  /** Cap on live blocks (frees are forced above it). */
  maxLive?: number;
  realloc?: number; calloc?: number; memalign?: number; trim?: number; free?: number;
}

function pickSize(rng: Rng, w: Required<Pick<WorkloadShape, 'tiny' | 'small' | 'medium' | 'large' | 'huge'>>): number {
  const total = w.tiny + w.small + w.medium + w.large + w.huge;
  let r = rng.below(total);
  if ((r -= w.tiny) < 0) return rng.below(25);                       // tcache/fastbin, incl. 0
  if ((r -= w.small) < 0) return 25 + rng.below(1000);               // small bins
  if ((r -= w.medium) < 0) return 1025 + rng.below(30000);           // large bins
  if ((r -= w.large) < 0) return 31025 + rng.below(200000);          // around the thresholds
  return 200000 + rng.below(3_000_000);                              // mmapped / big top use
}

/** A random but reproducible mix of malloc, free, realloc, calloc, memalign and malloc_trim. */
export function workload(seed: number, shape: WorkloadShape): PtOp[] {
  const rng = new Rng(seed);
  const w = { tiny: shape.tiny ?? 40, small: shape.small ?? 35, medium: shape.medium ?? 15, large: shape.large ?? 7, huge: shape.huge ?? 3 };
  const maxLive = shape.maxLive ?? 2000;
  const pRealloc = shape.realloc ?? 0.1, pCalloc = shape.calloc ?? 0.05, pAlign = shape.memalign ?? 0.03;
  const pTrim = shape.trim ?? 0.002, pFree = shape.free ?? 0.45;
  const live: number[] = [];
  const freeIds: number[] = [];
  let nextId = 0;
  const ops: PtOp[] = [];
  while (ops.length < shape.ops) {
    const r = rng.next() / 4294967296;
    if (live.length && (live.length >= maxLive || r < pFree)) {
      const i = rng.below(live.length);
      const id = live[i]!;
      live[i] = live[live.length - 1]!;
      live.pop();
      freeIds.push(id);
      ops.push({ op: 'f', id });
    } else if (live.length && r < pFree + pRealloc) {
      const id = live[rng.below(live.length)]!;
      ops.push({ op: 'r', id, size: Math.max(1, pickSize(rng, w)) });
    } else if (r < pFree + pRealloc + pTrim) {
      ops.push({ op: 't', pad: rng.chance(0.5) ? 0 : rng.below(300000) });
    } else {
      const id = freeIds.length ? freeIds.pop()! : nextId++;
      live.push(id);
      const size = pickSize(rng, w);
      const k = rng.next() / 4294967296;
      if (k < pCalloc) ops.push({ op: 'c', id, size });
      else if (k < pCalloc + pAlign) ops.push({ op: 'a', id, align: 1 << (5 + rng.below(8)), size });
      else ops.push({ op: 'm', id, size });
    }
  }
  return ops;
}

export interface ThreadedShape extends WorkloadShape {
  /** Threads alive at most at once (the first is the process's first thread). */
  maxThreads?: number;
  /** Per call: chance to switch to another live thread, to start a thread, to end one. */
  switchRate?: number; spawnRate?: number; endRate?: number;
}

/**
 * A reproducible multi-threaded mix: the calls of `workload` spread over threads that start and
 * exit (thread ids are never reused), frees of any live block whichever thread allocated it.
 */
export function threadedWorkload(seed: number, shape: ThreadedShape): PtOp[] {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const calls = workload(seed, shape);
  const maxThreads = shape.maxThreads ?? 6;
  const pSwitch = shape.switchRate ?? 0.08, pSpawn = shape.spawnRate ?? 0.01, pEnd = shape.endRate ?? 0.006;
  const live = [1];
  let current = 1;
  let nextTid = 2;
  const out: PtOp[] = [{ op: 'T', tid: 1 }];
  for (const c of calls) {
    const r = rng.next() / 4294967296;
    if (r < pSpawn && live.length < maxThreads) {
      live.push(nextTid);
      current = nextTid++;
      out.push({ op: 'T', tid: current });
    } else if (r < pSpawn + pEnd && live.length > 1) {
      // any thread but the first (the process's main thread outlives the others)
      const i = 1 + rng.below(live.length - 1);
      const tid = live[i]!;
      live.splice(i, 1);
      out.push({ op: 'E', tid });
      if (tid === current) { current = live[rng.below(live.length)]!; out.push({ op: 'T', tid: current }); }
    } else if (r < pSpawn + pEnd + pSwitch && live.length > 1) {
      current = live[rng.below(live.length)]!;
      out.push({ op: 'T', tid: current });
    }
    out.push(c);
  }
  return out;
}
