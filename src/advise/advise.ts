// `heapsim advise`: runs the baseline (the input as `run` would), finds its quiet points, asks the
// catalogue of the baseline policy's platform for remedies, runs the input once per remedy on the
// worker pool, and ranks the runs by the memory the process holds beyond what the program uses at
// the end (then at each mark). Deterministic: every run is, and the ranking breaks ties by
// catalogue order.
import { getPolicy, type PolicySpec } from '../policies/registry.js';
import { diagnoseRun } from '../run/diagnose-run.js';
import { executeRequests } from '../sweep/execute.js';
import type { Checkpoint, Diagnosis, RunDocument } from '../report/types.js';
import type { RunRequest, RunInput, TraceInputSpec } from '../worker/protocol.js';
import { callersAt } from './callers.js';
import type { ArchName } from '../engine/abi.js';
import { linux } from './catalogue/linux.js';
import { windows } from './catalogue/windows.js';
import type { AdviseContext, BaselineSettings, Catalogue, QuietPoint, Remedy } from './remedy.js';

/** Periodic checkpoints per run (curves, peak resident, quiet points of traces without marks). */
export const SAMPLES_PER_RUN = 100;
/** A sample holding at least this share of the program's most counts as part of its peak. */
const PEAK_SHARE = 0.9;

export interface AdviseOptions {
  input: RunInput;
  /** The input's display name. */
  name: string;
  baseline: BaselineSettings;
  /** The top heap's parameters the workload itself sets (Workload.policyParams). */
  workloadParams: Record<string, string | number>;
  arch?: ArchName;
  profile?: string;
  jobs: number;
}

/** Figures of one run at one mark. */
export interface MarkFigures {
  label: string;
  event: number;
  /** What the process holds of the heaps: resident bytes on Linux, committed bytes on Windows. */
  heldBytes: number;
  /** What the program holds: live requested bytes of the top heap. */
  liveBytes: number;
  /** heldBytes − liveBytes. */
  retainedBytes: number;
}

export interface AdviceRun {
  rank: number;
  /** 'baseline' or the remedy's catalogue id. */
  id: string;
  title: string;
  parameters: Record<string, string | number>;
  explain: string;
  change: string;
  policy: string;
  events: number;
  failedAllocs: number;
  peakCommittedBytes: number;
  /** The exact peak of the heaps' resident bytes over the run. */
  peakResidentBytes: number;
  /** At the end of the run. */
  retainedBytes: number;
  /** retainedBytes minus the baseline's (negative: gives memory back). */
  changeBytes: number;
  marks: MarkFigures[];
  verdict: Diagnosis;
  /** Held (see Advice.held) and live bytes at every checkpoint (charts). */
  curve: { event: number; heldBytes: number; liveBytes: number }[];
}

export interface Advice {
  input: string;
  platform: Catalogue['platform'];
  policy: string;
  /** What `held` means on this platform. */
  held: 'resident' | 'committed';
  quietPoints: QuietPoint[];
  baselineVerdict: Diagnosis;
  runs: AdviceRun[];
  notApplicable: { id: string; reason: string }[];
}

/** The catalogue of the stack's platform: its topmost heap whose policy has one (a custom pool on the NT heap is Windows). */
export function catalogueFor(stack: readonly PolicySpec[]): Catalogue {
  return stack.find((s) => s.platform !== 'any')?.platform === 'windows' ? windows : linux;
}

/** Heaps that take their memory from the VM (the bottom of each stack): what the process holds. */
function vmHeaps(cp: Checkpoint): Checkpoint['heap'][] {
  return (cp.heaps ?? [cp.heap]).filter((h) => h.parent === undefined || h.parent === -1);
}

function heldOf(cp: Checkpoint, c: Catalogue): number {
  return vmHeaps(cp).reduce((s, h) => s + c.heldBytes(h), 0);
}

/** What the program holds: its live requested bytes, whichever heaps they are on. */
function liveOf(cp: Checkpoint): number {
  return cp.program?.liveBytes ?? Number(cp.heap.requestedBytes ?? cp.heap.busyBytes);
}

function figuresAt(cp: Checkpoint, held: Catalogue): MarkFigures {
  const heldBytes = heldOf(cp, held);
  const liveBytes = liveOf(cp);
  return { label: cp.label, event: cp.event, heldBytes, liveBytes, retainedBytes: heldBytes - liveBytes };
}

/** The program's own marks (no periodic samples). */
function ownMarks(doc: RunDocument): Checkpoint[] {
  return doc.checkpoints.filter((cp) => !cp.label.startsWith('#'));
}

/**
 * Quiet points: marks after the one where the program held the most, where it holds less; when
 * the input has no such mark, the periodic checkpoint after the peak where the program holds the
 * least (before the end, so a trim there still counts).
 */
export function quietPoints(doc: RunDocument): QuietPoint[] {
  const marks = ownMarks(doc).filter((cp) => cp.label !== 'end' || cp.event < doc.events);
  const peakOf = (cps: Checkpoint[]): number => cps.reduce((best, cp, i) => (liveOf(cp) > liveOf(cps[best]!) ? i : best), 0);
  if (marks.length >= 2) {
    const p = peakOf(marks);
    const after = marks.slice(p + 1).filter((cp) => liveOf(cp) < liveOf(marks[p]!));
    if (after.length) return after.map((cp) => ({ at: cp.label, event: cp.event, liveBytes: liveOf(cp), how: `the program holds ${liveOf(cp)} bytes, ${liveOf(marks[p]!)} at '${marks[p]!.label}'` }));
  }
  const periodic = doc.checkpoints.filter((cp) => cp.label.startsWith('#') && cp.event < doc.events);
  if (periodic.length < 2) return [];
  // The last peak: the last sample within PEAK_SHARE of the most the program held; the quiet
  // point is the sample after it where the program holds the least (the latest of equals).
  const most = Math.max(...periodic.map(liveOf));
  const p = periodic.reduce((last, cp, i) => (liveOf(cp) >= most * PEAK_SHARE ? i : last), 0);
  const after = periodic.slice(p + 1);
  if (!after.length) return [];
  const q = after.reduce((best, cp) => (liveOf(cp) <= liveOf(best) ? cp : best));
  if (liveOf(q) >= liveOf(periodic[p]!)) return [];
  return [{ at: String(q.event), event: q.event, liveBytes: liveOf(q), how: `the program holds ${liveOf(q)} bytes, the least after its last peak of ${liveOf(periodic[p]!)} at event ${periodic[p]!.event}` }];
}

/**
 * The private heap's window: the quiet point before the peak (the mark before the program's
 * fullest mark where it holds the least, the latest of equals; without marks, the periodic
 * checkpoint before the last peak where it holds the least) and the first quiet point after it.
 */
export function peakWindow(doc: RunDocument, after: readonly QuietPoint[]): { from: QuietPoint; to: QuietPoint } | undefined {
  const to = after[0];
  if (!to) return undefined;
  const marks = ownMarks(doc).filter((cp) => cp.label !== 'end' || cp.event < doc.events);
  const fromMarks = !/^\d+$/.test(to.at);
  const cps = fromMarks ? marks : doc.checkpoints.filter((cp) => cp.label.startsWith('#') && cp.event < doc.events);
  const upto = cps.filter((cp) => cp.event < to.event);
  if (upto.length < 2) return undefined;
  const most = Math.max(...upto.map(liveOf));
  // The last checkpoint before the window's end that is part of the peak, then the least before it.
  const p = upto.reduce((last, cp, i) => (liveOf(cp) >= most * (fromMarks ? 1 : PEAK_SHARE) ? i : last), 0);
  const before = upto.slice(0, p);
  if (!before.length) return undefined;
  const q = before.reduce((best, cp) => (liveOf(cp) <= liveOf(best) ? cp : best));
  if (liveOf(q) >= liveOf(upto[p]!)) return undefined;
  const at = fromMarks ? q.label : String(q.event);
  const how = fromMarks ? `the program holds ${liveOf(q)} bytes, ${liveOf(upto[p]!)} at '${upto[p]!.label}'` : `the program holds ${liveOf(q)} bytes, the least before its peak of ${liveOf(upto[p]!)} at event ${upto[p]!.event}`;
  return { from: { at, event: q.event, liveBytes: liveOf(q), how }, to };
}

/** The run request of the baseline with a remedy applied. */
export function remedyRequest(o: AdviseOptions, remedy: Remedy | undefined, every: number): RunRequest {
  const b = o.baseline;
  const r = remedy?.run ?? {};
  const policy = r.policy ?? b.policy;
  const spec = getPolicy(policy);
  const own = policy === b.policy;
  const envLines = own ? [...b.env, ...(r.env ?? [])] : [...(r.env ?? [])];
  const fromEnv = envLines.length && spec.readEnv ? spec.readEnv(envLines.join('\n')).params : {};
  const params = own ? { ...fromEnv, ...b.set, ...(r.set ?? {}) } : { ...fromEnv, ...(r.set ?? {}) };
  const layers = own ? b.layers.map((l) => ({ ...l, params: { ...(l.params ?? {}) } })) : [];
  for (const ls of r.layerSet ?? []) Object.assign(layers[ls.layer]!.params!, ls.set);
  const trimAt = own ? b.trimAt : [];
  const trimInRun = [...(own ? b.trimInRun ?? [] : []), ...(r.trimInRun ?? [])];
  return {
    input: o.input,
    policy,
    params,
    layers,
    every,
    ...(trimAt.length ? { trimAt } : {}),
    ...(trimInRun.length ? { trimInRun } : {}),
    ...(r.privateHeap ? { privateHeap: r.privateHeap } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
  };
}

function adviceRun(id: string, head: Pick<AdviceRun, 'title' | 'parameters' | 'explain' | 'change'>, doc: RunDocument, held: Catalogue, labels: string[]): UnrankedRun {
  const last = doc.checkpoints[doc.checkpoints.length - 1]!;
  const byLabel = new Map(doc.checkpoints.map((cp) => [cp.label, cp] as const));
  return {
    id,
    ...head,
    policy: doc.policy,
    events: doc.events,
    failedAllocs: typeof doc.failedOps === 'number' ? doc.failedOps : 0,
    // The exact peak of the heaps' commit over the run (a heap destroyed before the end included).
    peakCommittedBytes: doc.peaks?.committedBytes.bytes ?? vmHeaps(last).reduce((s, h) => s + Number(h.peakCommittedBytes ?? h.committedBytes), 0),
    peakResidentBytes: doc.peaks?.residentBytes.bytes ?? Math.max(...doc.checkpoints.map((cp) => vmHeaps(cp).reduce((s, h) => s + (h.residentBytes ?? 0), 0))),
    retainedBytes: figuresAt(last, held).retainedBytes,
    marks: labels.map((l) => byLabel.get(l)).filter((cp): cp is Checkpoint => cp !== undefined).map((cp) => figuresAt(cp, held)),
    verdict: diagnoseRun(doc),
    curve: doc.checkpoints.map((cp) => ({ event: cp.event, heldBytes: heldOf(cp, held), liveBytes: liveOf(cp) })),
  };
}

export interface Planned {
  ctx: AdviseContext;
  catalogue: Catalogue;
  remedies: Remedy[];
  notApplicable: Advice['notApplicable'];
  every: number;
}

/** Runs the baseline and asks the catalogue what to try. */
export async function planAdvice(o: AdviseOptions): Promise<{ planned: Planned; baselineDoc: RunDocument }> {
  const spec = getPolicy(o.baseline.policy);
  // A first pass gives the event count, so every run samples the same SAMPLES_PER_RUN points.
  const probe = (await executeRequests([remedyRequest(o, undefined, 0)], { jobs: 1 })).docs[0]!;
  const every = Math.max(1, Math.ceil(probe.events / SAMPLES_PER_RUN));
  const baselineDoc = (await executeRequests([remedyRequest(o, undefined, every)], { jobs: 1 })).docs[0]!;
  const envParams = o.baseline.env.length && spec.readEnv ? spec.readEnv(o.baseline.env.join('\n')).params : {};
  const ctx: AdviseContext = {
    baseline: o.baseline,
    spec,
    params: { ...o.workloadParams, ...envParams, ...o.baseline.set },
    doc: baselineDoc,
    diagnosis: diagnoseRun(baselineDoc),
    quietPoints: quietPoints(baselineDoc),
  };
  const window = peakWindow(baselineDoc, ctx.quietPoints);
  if (window) ctx.peakWindow = window;
  // A trace that records callers says where in the program each point is.
  const input = o.input as Partial<TraceInputSpec>;
  if (typeof input.trace === 'string') {
    const points = [...ctx.quietPoints, ...(window ? [window.from] : [])];
    const callers = await callersAt(input.trace, points.map((q) => q.event), { format: input.format, lenient: input.lenient });
    for (const q of points) { const c = callers.get(q.event); if (c !== undefined) q.caller = c; }
  }
  const catalogue = catalogueFor([spec, ...o.baseline.layers.map((l) => getPolicy(l.policy))]);
  const remedies: Remedy[] = [];
  const notApplicable: Advice['notApplicable'] = [];
  for (const entry of catalogue.entries) {
    const offered = entry.offer(ctx);
    if (Array.isArray(offered)) remedies.push(...offered);
    else notApplicable.push({ id: entry.id, reason: offered.notApplicable });
  }
  return { planned: { ctx, catalogue, remedies, notApplicable, every }, baselineDoc };
}

export const BASELINE_HEAD = {
  title: 'baseline (as run)', parameters: {}, explain: 'the input as given, nothing changed', change: '-',
} as const;

export type UnrankedRun = Omit<AdviceRun, 'rank' | 'changeBytes'>;

/** What the ranking needs beside the remedy runs: the same in every shard of an advice. */
export interface AdviceHead extends Omit<Advice, 'runs'> {
  baseline: UnrankedRun;
  /** Remedies planned (runs to come). */
  remedies: number;
}

export function adviceHead(o: AdviseOptions, planned: Planned, baselineDoc: RunDocument): AdviceHead {
  const c = planned.catalogue;
  return {
    input: o.name,
    platform: c.platform,
    policy: o.baseline.policy,
    held: c.held,
    quietPoints: planned.ctx.quietPoints,
    baselineVerdict: planned.ctx.diagnosis,
    notApplicable: planned.notApplicable,
    baseline: adviceRun('baseline', { ...BASELINE_HEAD, parameters: {} }, baselineDoc, c, markLabels(baselineDoc)),
    remedies: planned.remedies.length,
  };
}

function markLabels(doc: RunDocument): string[] {
  return ownMarks(doc).map((cp) => cp.label);
}

/** One remedy's run, figured as the ranking reads it. */
export function remedyRun(planned: Planned, index: number, doc: RunDocument): UnrankedRun {
  const r = planned.remedies[index]!;
  return adviceRun(r.id, { title: r.title, parameters: r.parameters, explain: r.explain, change: r.change }, doc, planned.catalogue, markLabels(planned.ctx.doc));
}

/** Ranks the baseline and the remedy runs (in catalogue order). */
export function rankRuns(head: AdviceHead, remedyRuns: readonly UnrankedRun[]): Advice {
  const runs = [head.baseline, ...remedyRuns];
  const base = head.baseline.retainedBytes;
  const order = runs.map((r, i) => ({ r, i })).sort((a, b) =>
    a.r.retainedBytes - b.r.retainedBytes
    || compareMarks(a.r.marks, b.r.marks)
    || a.r.peakCommittedBytes - b.r.peakCommittedBytes
    || a.i - b.i);
  const { baseline: _b, remedies: _n, ...advice } = head;
  return { ...advice, runs: order.map(({ r }, k) => ({ rank: k + 1, ...r, changeBytes: r.retainedBytes - base })) };
}

function compareMarks(a: MarkFigures[], b: MarkFigures[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a[i]!.retainedBytes - b[i]!.retainedBytes;
    if (d) return d;
  }
  return 0;
}

/** The whole advice of one input: baseline, remedies on the pool, ranking. */
export async function advise(o: AdviseOptions): Promise<Advice & { workers: number }> {
  const { planned, baselineDoc } = await planAdvice(o);
  const requests = planned.remedies.map((r) => remedyRequest(o, r, planned.every));
  const { docs, workers } = await executeRequests(requests, { jobs: o.jobs });
  return { ...rankRuns(adviceHead(o, planned, baselineDoc), docs.map((d, i) => remedyRun(planned, i, d))), workers };
}
