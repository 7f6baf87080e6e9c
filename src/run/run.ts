// The run pipeline shared by `run`, `demo`, `sweep`, the worker and the browser page: build an
// engine for a workload, create the heap stack, apply every batch, turn samples into checkpoints,
// and gather what the verdict reads: the start, the exact peaks, the program's own figures and
// the trim what-ifs (made where they cannot change the run the verdict reads; see trim-at.ts).
import { createEngine, type Engine, type Sample } from '../engine/engine.js';
import type { ArchName } from '../engine/abi.js';
import type { BuildFlavour, EngineExports } from '../engine/load.js';
import { PROFILES } from '../engine/profiles.js';
import { getPolicy, type Platform, type PolicySpec } from '../policies/registry.js';
import { OpBuffer } from '../engine/ops.js';
import { UsageError } from '../errors.js';
import type { Workload } from '../workload/workload.js';
import type { Checkpoint, ProgramSummary, RunDocument, RunPeaks } from '../report/types.js';
import { toCheckpoint } from '../report/checkpoint.js';
import type { VerdictThresholds } from '../report/verdict.js';
import { diagnoseRun } from './diagnose-run.js';
import { END_MARK, TrimSplicer, checkTrimPoints, heapOf, trimLabels, trimResult, type TrimPoint, type TrimResult } from './trim-at.js';
import { ProgramEdits, allocationsFreedIn, checkEditPoints, type EditAction, type PrivateHeapWindow } from './edits.js';
import { MAX_HEAPS } from '../engine/abi.js';

export interface LayerSpec {
  policy: string;
  params?: Record<string, string | number>;
}

/** What a run is made of, as plain data (what a worker request carries too). */
export interface RunSettings {
  policy: string;
  params?: Record<string, string | number>;
  /** Heaps below the top one, nearest first: the top heap takes its memory from layers[0]. */
  layers?: LayerSpec[];
  arch?: ArchName;
  profile?: string;
  /** Periodic checkpoint every N events (0 = marks only). */
  every?: number;
  build?: BuildFlavour;
  /** Thresholds of the verdict (defaults: DEFAULT_VERDICT_THRESHOLDS). */
  thresholds?: Partial<VerdictThresholds>;
}

export interface RunOptions extends RunSettings {
  /** Called for each checkpoint as it is produced (live charts, progress). */
  onCheckpoint?: (cp: Checkpoint, sample: Sample) => void;
  /** Called after each batch with the events done so far. */
  onProgress?: (events: number) => void;
  signal?: AbortSignal;
  /** Trim what-ifs (malloc_trim, HeapCompact): at a mark, after an event, or at `end`. */
  trimAt?: TrimPoint[];
  /** Program changes made in the measured run (src/run/edits.ts): the library's trim call at these points… */
  trimInRun?: TrimPoint[];
  /** …and the peak's allocations on a private heap of the top heap's policy, destroyed at the window's end. */
  privateHeap?: PrivateHeapWindow;
  /** Opens the input again (a trace reads once): `privateHeap` reads it twice. */
  reopen?: () => Promise<Workload>;
}

/** The profile used when none is given: the workload's own if it fits the architecture, else bare. */
export function defaultProfile(workload: Workload, arch: ArchName): string {
  const p = workload.defaultProfile;
  return p && PROFILES[p]?.arch.includes(arch) ? p : 'bare';
}

/**
 * The report vocabulary of a run: WinDbg on a Windows profile or with a Windows policy in the
 * stack; Linux tools when a Linux policy runs on a profile that is not Windows; else 'any'.
 */
export function runPlatform(policies: readonly PolicySpec[], profilePlatform: Platform): Platform {
  if (profilePlatform === 'windows' || policies.some((p) => p.platform === 'windows')) return 'windows';
  if (profilePlatform === 'linux' || policies.some((p) => p.platform === 'linux')) return 'linux';
  return 'any';
}

/**
 * The heap `--trim-at` trims: the topmost whose library has a "give memory back" call (its spec's
 * trimName; a custom pool has none); -1 when none has. 0 = the top heap, i = layers[i - 1].
 */
export function trimTarget(policy: string, layers: readonly LayerSpec[] = []): number {
  return [policy, ...layers.map((l) => l.policy)].findIndex((p) => getPolicy(p).trimName !== undefined);
}

export async function runWorkload(workload: Workload, o: RunOptions): Promise<RunDocument> {
  const arch = o.arch ?? workload.defaultArch ?? 'x86';
  const profile = o.profile ?? defaultProfile(workload, arch);
  const layers = o.layers ?? [];
  // The stack top-down: heap 0 is the top (the index workloads use), heap i + 1 is layers[i].
  const stack = [getPolicy(o.policy), ...layers.map((l) => getPolicy(l.policy))];
  const params = { ...workload.policyParams?.[o.policy], ...o.params };
  const paramsOf = (h: number): Record<string, string | number> => (h === 0 ? params : layers[h - 1]!.params ?? {});
  const trims = o.trimAt ?? [];
  const inRun = o.trimInRun ?? [];
  const trimHeap = trimTarget(o.policy, layers);
  if (trims.length && trimHeap < 0) {
    throw new UsageError(`--trim-at: no heap of this stack (${stack.map((s) => s.name).join(' on ')}) has a trim call`);
  }
  if (inRun.length && trimHeap < 0) {
    throw new UsageError(`--trim-in-run: no heap of this stack (${stack.map((s) => s.name).join(' on ')}) has a trim call`);
  }
  checkEditPoints(inRun, o.privateHeap);
  // The private heap: the first index above the stack.
  const privateIndex = layers.length + 1;
  if (o.privateHeap && privateIndex >= MAX_HEAPS) throw new UsageError(`--private-heap: the stack already has ${layers.length + 1} heaps`);
  if (!workload.streaming) {
    checkTrimPoints(trims, workload.labels, undefined);
    checkTrimPoints(inRun, workload.labels, undefined, '--trim-in-run');
    checkTrimPoints(o.privateHeap ? [o.privateHeap.from, o.privateHeap.to] : [], workload.labels, undefined, '--private-heap');
  }
  let transient: Set<number> | undefined;
  if (o.privateHeap) {
    // A first pass finds the window's blocks that are freed in it (a trace is read again).
    if (workload.streaming && !o.reopen) throw new UsageError('--private-heap needs an input that can be read twice');
    const again = o.reopen ? await o.reopen() : workload;
    transient = await allocationsFreedIn(again.batches(), o.privateHeap, again.labels);
  }

  // The one-instance path (a `.hst` decoded in the engine module) serves a run that needs no
  // batches: no trims at a point (a side engine is fed the same batches) and no program edits
  // (they split batches); its instance is of one build flavour.
  const direct = workload.direct && !trims.some((p) => p.mark !== END_MARK) && !inRun.length && !o.privateHeap
    && workload.direct.build === (o.build ?? 'release') ? workload.direct : undefined;

  const setup = async (sampleEvery: number, instance?: EngineExports): Promise<Engine> => {
    const engine = await createEngine({ arch, profile, sampleEvery, build: o.build, replay: true, instance });
    if (workload.sizeHint) engine.reserve(workload.sizeHint);
    let parent = -1;
    for (let i = layers.length - 1; i >= 0; i--) {
      parent = engine.createHeap(layers[i]!.policy, { params: layers[i]!.params, parent: parent >= 0 ? parent : undefined }, i + 1);
    }
    engine.createHeap(o.policy, { params, parent: parent >= 0 ? parent : undefined }, 0);
    return engine;
  };
  const engine = await setup(o.every ?? 0, direct?.instance);
  for (const l of workload.labels) engine.label(l);
  // Trims at a mark or an event run on a second engine fed the same batches; the main one stays untrimmed.
  const early = trims.filter((p) => p.mark !== END_MARK);
  const side = early.length ? await setup(0) : undefined;
  const splicer = side ? new TrimSplicer(early, workload.labels, (n) => side.label(n), trimHeap) : undefined;
  const sideMarks = new Map<string, Checkpoint>();
  // Program changes: both engines get them (the what-ifs are made on the changed program).
  const edits = inRun.length || o.privateHeap ? new ProgramEdits(inRun, o.privateHeap, workload.labels, privateIndex, transient) : undefined;
  const trimsInRun: TrimResult[] = [];
  const perform = (e: Engine, a: EditAction, record: boolean): void => {
    if (a.kind === 'private-heap-create') {
      // The top heap's library and settings, taking its memory where the top heap takes it.
      e.createHeap(o.policy, { params, parent: layers.length ? 1 : undefined }, privateIndex);
    } else if (a.kind === 'private-heap-destroy') {
      e.destroyHeap(privateIndex);
    } else {
      const before = record ? toCheckpoint(e.sample()) : undefined;
      const ops = new OpBuffer(1);
      ops.trim(trimHeap, a.point.padBytes);
      e.apply(ops);
      if (before) {
        const l = { before: `trim ${a.point.at}: before`, after: `trim ${a.point.at}: after` };
        trimsInRun.push(trimResult(a.point, stack[trimHeap]!.trimName!, trimHeap, { ...before, label: l.before }, { ...toCheckpoint(e.sample()), label: l.after }));
      }
    }
  };

  const start: Checkpoint = { ...toCheckpoint(engine.sample()), label: 'start' };
  const checkpoints: Checkpoint[] = [];
  // A program change made after the last checkpoint (at a mark on the last event) shows in an end checkpoint.
  let changedSinceCheckpoint = false;
  const take = (s: Sample): void => {
    changedSinceCheckpoint = false;
    const cp = toCheckpoint(s);
    checkpoints.push(cp);
    o.onCheckpoint?.(cp, s);
  };
  // Trace workloads discover labels while they are read: register the new ones before reading samples.
  const newLabels = (): void => {
    for (let i = engine.labels.length; i < workload.labels.length; i++) engine.label(workload.labels[i]!);
  };
  if (direct) {
    await direct.run({
      call: (fn) => engine.call(fn),
      applied: () => {
        if (o.signal?.aborted) throw new UsageError('run cancelled');
        newLabels();
        for (const s of engine.pendingSamples()) take(s);
        o.onProgress?.(engine.events);
      },
    });
  }
  for await (const batch of (direct ? [] : workload.batches()) as AsyncIterable<OpBuffer>) {
    if (o.signal?.aborted) throw new UsageError('run cancelled');
    newLabels();
    const segments = edits && !edits.finished ? edits.split(batch) : [{ ops: batch, actions: [] as EditAction[] }];
    for (const seg of segments) {
      if (side && splicer && !splicer.finished) {
        for (const s of side.apply(splicer.transform(seg.ops)).samples) if (s.label?.startsWith('trim-at ')) sideMarks.set(s.label, toCheckpoint(s));
      }
      const r = engine.apply(seg.ops);
      for (const s of r.samples) take(s);
      for (const a of seg.actions) {
        perform(engine, a, true);
        changedSinceCheckpoint = true;
        if (side && splicer && !splicer.finished) perform(side, a, false);
      }
    }
    o.onProgress?.(engine.events);
  }
  if (!checkpoints.length || checkpoints[checkpoints.length - 1]!.event < engine.events || changedSinceCheckpoint) take(engine.sample(END_MARK));
  checkTrimPoints(trims, workload.labels, engine.events);
  if (edits) {
    checkTrimPoints(inRun, workload.labels, engine.events, '--trim-in-run');
    checkTrimPoints(o.privateHeap ? [o.privateHeap.from, o.privateHeap.to] : [], workload.labels, engine.events, '--private-heap');
    for (const p of inRun) if (!trimsInRun.some((t) => t.at === p.at)) throw new UsageError(`--trim-in-run ${p.at}: the run never reached it`);
  }
  const final = engine.sample();
  const last = checkpoints[checkpoints.length - 1]!;

  // Each policy's own end-of-run analysis, under its name (the topmost heap of that policy), before
  // any trim at the end changes the heap.
  const sections: Record<string, unknown> = {};
  stack.forEach((spec, h) => {
    if (spec.endOfRun && !(spec.name in sections)) sections[spec.name] = spec.endOfRun.analyse(engine, h, heapOf(last, h), paramsOf(h));
  });

  // Trims at the end: on the main engine, whose run is over.
  const trimAt = (p: TrimPoint): TrimResult => {
    const before = toCheckpoint(engine.sample());
    const ops = new OpBuffer(1);
    ops.trim(trimHeap, p.padBytes);
    engine.apply(ops);
    const after = toCheckpoint(engine.sample());
    const l = trimLabels(p);
    return trimResult(p, stack[trimHeap]!.trimName!, trimHeap, { ...before, label: l.before }, { ...after, label: l.after });
  };
  const trimResults: TrimResult[] = [];
  for (const p of trims) {
    if (p.mark !== END_MARK) {
      const l = trimLabels(p);
      const before = sideMarks.get(l.before), after = sideMarks.get(l.after);
      if (!before || !after) throw new UsageError(`--trim-at ${p.at}: the run never reached it`);
      trimResults.push(trimResult(p, stack[trimHeap]!.trimName!, trimHeap, before, after));
    }
  }
  const userEnd = trims.filter((p) => p.mark === END_MARK);
  // The what-if beside the verdict: the trim call at the end of the run (the user's `--trim-at end` when given).
  const endTrims = trimHeap >= 0 ? (userEnd.length ? userEnd : [{ at: END_MARK, mark: END_MARK, padBytes: 0 }]).map(trimAt) : [];
  if (userEnd.length) trimResults.push(...endTrims);
  const order = new Map(trims.map((p, i) => [p.at, i]));
  trimResults.sort((a, b) => order.get(a.at)! - order.get(b.at)!);

  const input = workload.inputSummary?.();
  const doc: RunDocument = {
    policy: o.policy,
    ...(layers.length ? { layers: layers.map((l) => l.policy) } : {}),
    arch,
    profile,
    platform: runPlatform(stack, PROFILES[profile]?.platform ?? 'any'),
    workload: workload.name,
    ...(workload.seed !== undefined ? { seed: workload.seed } : {}),
    events: engine.events,
    failedOps: engine.failedOps,
    start,
    checkpoints,
    peaks: runPeaks(final),
    program: programSummary(final),
    ...(input ? { input } : {}),
    ...(trimResults.length ? { trims: trimResults } : {}),
    ...(trimsInRun.length ? { trimsInRun } : {}),
    ...(edits && o.privateHeap ? { privateHeap: { heap: privateIndex, from: o.privateHeap.from.at, to: o.privateHeap.to.at, ...edits.privateHeapLog } } : {}),
    ...(endTrims.length ? { trimAtEnd: endTrims[0] } : {}),
    ...sections,
  };
  doc.diagnosis = diagnoseRun(doc, o.thresholds);
  // The run is over and its document holds plain values: the engines this run created give their
  // memory to the next run in this process (a direct instance belongs to its decoder).
  if (!direct) engine.release();
  side?.release();
  return doc;
}

function runPeaks(s: Sample): RunPeaks {
  const p = s.program.peaks;
  return {
    committedBytes: p.heapsCommittedBytes,
    residentBytes: p.heapsResidentBytes,
    requestedBytes: p.liveBytes,
    processCommittedBytes: p.processCommittedBytes,
    processResidentBytes: p.processResidentBytes,
  };
}

function programSummary(s: Sample): ProgramSummary {
  const p = s.program;
  return {
    liveBytes: p.liveBytes,
    liveBlocks: p.liveBlocks,
    failedAllocs: p.failedAllocs,
    failedBytes: p.failedBytes,
    firstFailure: p.firstFailure,
    implicitFrees: p.implicitFrees,
    atCommittedPeak: { liveBytes: p.atCommittedPeak.liveBytes, residentBytes: p.atCommittedPeak.heapsResidentBytes },
  };
}
