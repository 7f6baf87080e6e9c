// The run pipeline shared by `run`, `demo`, `sweep`, the worker and the browser page: build an
// engine for a workload, create the heap stack, apply every batch, turn samples into checkpoints.
import { createEngine, type Sample } from '../engine/engine.js';
import type { ArchName } from '../engine/abi.js';
import type { BuildFlavour } from '../engine/load.js';
import { PROFILES } from '../engine/profiles.js';
import { getPolicy } from '../policies/registry.js';
import { UsageError } from '../errors.js';
import type { Workload } from '../workload/workload.js';
import type { Checkpoint, RunDocument } from '../report/types.js';
import { toCheckpoint } from '../report/checkpoint.js';
import { withTrims, trimResults, heapOf, type TrimPoint } from './trim-at.js';

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
}

export interface RunOptions extends RunSettings {
  /** Called for each checkpoint as it is produced (live charts, progress). */
  onCheckpoint?: (cp: Checkpoint, sample: Sample) => void;
  /** Called after each batch with the events done so far. */
  onProgress?: (events: number) => void;
  signal?: AbortSignal;
  /** malloc_trim what-ifs: a TRIM of heap 0 at each point, between a before and an after mark. */
  trimAt?: TrimPoint[];
}

/** The profile used when none is given: the workload's own if it fits the architecture, else bare. */
export function defaultProfile(workload: Workload, arch: ArchName): string {
  const p = workload.defaultProfile;
  return p && PROFILES[p]?.arch.includes(arch) ? p : 'bare';
}

/**
 * The heap `--trim-at` trims: the topmost whose library has a "give memory back" call (its spec's
 * trimName; a custom pool has none), else the top one. 0 = the top heap, i = layers[i - 1].
 */
export function trimTarget(policy: string, layers: readonly LayerSpec[] = []): number {
  return Math.max(0, [policy, ...layers.map((l) => l.policy)].findIndex((p) => getPolicy(p).trimName !== undefined));
}

export async function runWorkload(workload: Workload, o: RunOptions): Promise<RunDocument> {
  const arch = o.arch ?? workload.defaultArch ?? 'x86';
  const profile = o.profile ?? defaultProfile(workload, arch);
  getPolicy(o.policy);
  const engine = await createEngine({ arch, profile, sampleEvery: o.every ?? 0, build: o.build });
  for (const l of workload.labels) engine.label(l);
  // Layers from the bottom up; the top heap is always heap 0 (the index workloads use).
  const layers = o.layers ?? [];
  let parent = -1;
  for (let i = layers.length - 1; i >= 0; i--) {
    parent = engine.createHeap(layers[i]!.policy, { params: layers[i]!.params, parent: parent >= 0 ? parent : undefined }, i + 1);
  }
  const params = { ...workload.policyParams?.[o.policy], ...o.params };
  engine.createHeap(o.policy, { params, parent: parent >= 0 ? parent : undefined }, 0);
  const checkpoints: Checkpoint[] = [];
  const take = (s: Sample): void => {
    const cp = toCheckpoint(s);
    checkpoints.push(cp);
    o.onCheckpoint?.(cp, s);
  };
  // Heap i is the top (0) or layers[i - 1].
  const stack = [{ policy: o.policy, params: o.params }, ...layers];
  const trims = o.trimAt ?? [];
  const trimHeap = trimTarget(o.policy, layers);
  // withTrims renumbers marks by label name, so its own labels may sit anywhere in the engine's table.
  const source = trims.length
    ? withTrims(workload.batches(), trims, workload.labels, (n) => engine.label(n), trimHeap)
    : workload.batches();
  for await (const batch of source as AsyncIterable<import('../engine/ops.js').OpBuffer>) {
    if (o.signal?.aborted) throw new UsageError('run cancelled');
    // Trace workloads discover labels while they are read: register the new ones first.
    for (let i = engine.labels.length; i < workload.labels.length; i++) engine.label(workload.labels[i]!);
    const r = engine.apply(batch);
    for (const s of r.samples) take(s);
    o.onProgress?.(engine.events);
  }
  if (!checkpoints.length || checkpoints[checkpoints.length - 1]!.event < engine.events) take(engine.sample('end'));
  // Each policy's own end-of-run analysis, under its name (the topmost heap of that policy).
  const last = checkpoints[checkpoints.length - 1]!;
  const ownAnalyses: Record<string, unknown> = {};
  stack.forEach((l, heap) => {
    const spec = getPolicy(l.policy);
    if (spec.endOfRun && !(spec.name in ownAnalyses)) {
      ownAnalyses[spec.name] = spec.endOfRun.analyse(engine, heap, heapOf(last, heap), l.params ?? {});
    }
  });
  return {
    policy: o.policy,
    ...(layers.length ? { layers: layers.map((l) => l.policy) } : {}),
    arch,
    profile,
    workload: workload.name,
    ...(workload.seed !== undefined ? { seed: workload.seed } : {}),
    events: engine.events,
    failedOps: engine.failedOps,
    checkpoints,
    ...(trims.length ? { trims: trimResults(trims, checkpoints, trimHeap) } : {}),
    ...ownAnalyses,
  };
}
