// The in-process warm engine line of the replay bench (issue 16's "in-process warm engine"): the
// engine alone over a trace's op batches decoded beforehand, timed pass by pass in this process.
//
// What makes this line steady on a shared two-core machine:
//   - each pass is timed by the CPU time of this process's main thread, the thread that runs the
//     WASM (Linux: /proc/self/task/<pid>/schedstat, nanoseconds), not by the process's CPU time,
//     which also counts V8's garbage-collection and compiler threads, so what ran before a pass
//     moved the figure; the native replay it is compared with is single-threaded and timed by its
//     process's CPU time, i.e. its one thread;
//   - a full garbage collection before each timed pass (outside the timing), so no pass pays for
//     the garbage of the one before it;
//   - WARM_ENGINE_PASSES timed passes after WARM_UP_PASSES untimed ones; the best pass is judged
//     (the native warm figure is its best pass too), the median is printed beside it;
//   - the native replay's warm figure is its best pass of the whole run: it runs (one process, 3
//     warm passes) right before and right after each policy's passes too, so its samples spread
//     over the same minutes as the engine's; under load the best pass on each side is the one a
//     co-runner on the other core slowed least (with more native samples than engine passes, the
//     native side gets the better chance: the ratio errs against heapsim);
//   - with a baseline checkout, its engine runs the same passes in this process, alternating with
//     this build's (A B, B A, ...), so "this build / baseline" comes from one run.
// Process CPU and wall time are printed beside the main-thread figure.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchFigure } from './engine.bench.js';
import { preDecodedWith } from './decoded.js';
import type { Workload } from '../dist/workload/workload.js';
import type { RunDocument } from '../dist/report/types.js';

/** Untimed passes per policy and build before the timed ones (code compiled by the optimising tier). */
export const WARM_UP_PASSES = 2;
/** Timed passes per policy and build. */
export const WARM_ENGINE_PASSES = 9;
const NS_PER_S = 1e9;
const US_PER_S = 1e6;

/** One timed pass: the main thread's CPU, the whole process's CPU, and wall time, in seconds. */
export interface PassTimes { threadCpuS: number; cpuS: number; wallS: number }

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** CPU nanoseconds the main thread has run (the first field of its schedstat), or undefined where there is none. */
export function mainThreadCpuNs(): number | undefined {
  try {
    return Number(readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]);
  } catch {
    return undefined;
  }
}

let gcFunction: (() => void) | undefined;
/** A full garbage collection (V8's `gc`, exposed once for this process). */
export function fullGc(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** Times one call of `run` (after a full collection, outside the timing). */
export async function timedPass<T>(run: () => Promise<T>): Promise<{ times: PassTimes; result: T }> {
  fullGc();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const th0 = mainThreadCpuNs();
  const result = await run();
  const th1 = mainThreadCpuNs();
  const wallS = Number(process.hrtime.bigint() - t0) / NS_PER_S;
  const c = process.cpuUsage(c0);
  const cpuS = (c.user + c.system) / US_PER_S;
  // Without a per-thread clock the process's CPU stands in (the note says which was used).
  const threadCpuS = th0 !== undefined && th1 !== undefined ? (th1 - th0) / NS_PER_S : cpuS;
  return { times: { threadCpuS, cpuS, wallS }, result };
}

/** The engine of one built checkout: its own modules run its own decoded copy of the trace. */
export interface WarmBuild { name: string; run: (policy: string) => Promise<RunDocument> }

/** A built checkout's engine over `hst`'s op batches decoded once by that checkout's own reader. */
export async function warmBuild(root: string, hst: string, name: string): Promise<WarmBuild> {
  const dist = (p: string): string => pathToFileURL(join(root, 'dist', p)).href;
  const { openReplay } = await import(dist('trace/replay.js')) as typeof import('../dist/trace/replay.js');
  const { OpBuffer } = await import(dist('engine/ops.js')) as typeof import('../dist/engine/ops.js');
  const { OP_WORDS } = await import(dist('engine/abi.js')) as typeof import('../dist/engine/abi.js');
  const { runWorkload } = await import(dist('run/run.js')) as typeof import('../dist/run/run.js');
  const workload: Workload = await preDecodedWith({ openReplay, OpBuffer, OP_WORDS }, hst);
  return { name, run: (policy) => runWorkload(workload, { policy }) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ratio = (x: number): number => Math.round(x * 100) / 100;

export interface NativeWarm { cpuS: number; wallS: number }

/**
 * The warm engine figures for `policies`: this build's passes (and the baseline's, alternating),
 * against the native replay's best warm pass in the run: `nativeWarm` runs one native process and
 * gives its best warm pass; `nativeSoFar` are those the caller already ran. `events` is the trace's
 * event count (each pass's document must say the same).
 */
export async function warmEngineFigures(
  self: WarmBuild, baseline: WarmBuild | undefined, policies: readonly string[], events: number,
  nativeWarm: () => NativeWarm, nativeSoFar: readonly NativeWarm[], targets: Readonly<Record<string, number>>,
): Promise<BenchFigure[]> {
  const perThread = mainThreadCpuNs() !== undefined;
  const clock = perThread ? 'main-thread CPU' : 'process CPU (no per-thread clock here)';
  const eps = (s: number): number => Math.round(events / s);
  const met = (r: number, t: number): string => (r >= t ? 'met' : 'NOT met');
  const natives: NativeWarm[] = [...nativeSoFar];
  const measured: Array<{ policy: string; mine: PassTimes[]; theirs?: PassTimes[] }> = [];
  for (const p of policies) {
    const builds = baseline ? [self, baseline] : [self];
    const passes = new Map<WarmBuild, PassTimes[]>(builds.map((b) => [b, []]));
    for (const b of builds) for (let i = 0; i < WARM_UP_PASSES; i++) await b.run(p);
    natives.push(nativeWarm());
    for (let i = 0; i < WARM_ENGINE_PASSES; i++) {
      const order = i % 2 === 0 ? builds : [...builds].reverse();
      for (const b of order) {
        const { times, result } = await timedPass(() => b.run(p));
        if (result.events !== events) throw new Error(`replay bench: ${b.name}'s pre-decoded batches gave ${result.events} events, not ${events}`);
        passes.get(b)!.push(times);
      }
    }
    natives.push(nativeWarm());
    measured.push({ policy: p, mine: passes.get(self)!, ...(baseline ? { theirs: passes.get(baseline)! } : {}) });
  }
  const native = { cpuS: Math.min(...natives.map((n) => n.cpuS)), wallS: Math.min(...natives.map((n) => n.wallS)) };
  const figures: BenchFigure[] = [{
    name: 'native glibc replay, warm, best pass of the run', value: eps(native.cpuS), unit: 'events/s (CPU)',
    note: `wall ${eps(native.wallS)} events/s; best of ${natives.length} processes × 3 warm passes (median process ${eps(median(natives.map((n) => n.cpuS)))}); the warm engine lines below are against this`,
  }];
  for (const { policy: p, mine, theirs } of measured) {
    const best = (k: keyof PassTimes, ts: PassTimes[] = mine): number => Math.min(...ts.map((t) => t[k]));
    const med = (k: keyof PassTimes, ts: PassTimes[] = mine): number => median(ts.map((t) => t[k]));
    const t = targets[p];
    const judged = native.cpuS / best('threadCpuS');
    figures.push({
      name: `in-process warm engine (pre-decoded batches, best of ${WARM_ENGINE_PASSES}) / native warm (best pass of the run): ${p}`,
      value: ratio(judged), unit: `× (${clock})`,
      note: `median pass ${ratio(native.cpuS / med('threadCpuS'))}×; process CPU best ${ratio(native.cpuS / best('cpuS'))}× ` +
        `(median ${ratio(native.cpuS / med('cpuS'))}×); wall best ${ratio(native.wallS / best('wallS'))}× (median ${ratio(native.wallS / med('wallS'))}×); ` +
        `${eps(best('threadCpuS'))} events/s` +
        (t !== undefined ? `; target ≥ ${t}: ${met(judged, t)} (best pass), ${met(native.cpuS / med('threadCpuS'), t)} (median pass)` : ''),
    });
    if (theirs) {
      figures.push({
        name: `in-process warm engine, this build / baseline: ${p}`, value: ratio(med('threadCpuS', theirs) / med('threadCpuS')), unit: `× faster (${clock}, median pass)`,
        note: `best pass ${ratio(best('threadCpuS', theirs) / best('threadCpuS'))}×; wall median ${ratio(med('wallS', theirs) / med('wallS'))}×; ` +
          `baseline / native warm ${ratio(native.cpuS / best('threadCpuS', theirs))}× best pass (${WARM_ENGINE_PASSES} passes each, alternating)`,
      });
    }
  }
  return figures;
}
