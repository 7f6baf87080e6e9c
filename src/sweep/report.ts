// A sweep's results as rows: one per run, with its verdict, the exact committed peak, failed
// allocations, and the heap's committed / reserved / busy / free bytes at each mark (the end of
// the run counts as a mark when the input has none there), printed as a text table, CSV or JSON.
// All sizes are integer bytes; the text table shows MiB.
import type { Checkpoint, Diagnosis, RunDocument, TrimResult } from '../report/types.js';
import { END_MARK } from '../report/moments.js';
import { diagnoseRun } from '../run/diagnose-run.js';
import { settingsText, type SweepJob } from './plan.js';

export interface MarkFigures {
  label: string;
  event: number;
  committedBytes: number;
  reservedBytes: number;
  busyBytes: number;
  freeBytes: number;
}

export interface SweepRow {
  input: string;
  policy: string;
  /** `key=value` pairs of the job's --set axes, space-separated. */
  settings: string;
  /** Seed of a built-in workload; null for a trace. */
  seed: number | null;
  events: number;
  failedOps: number;
  /** Allocations the policy refused (the program's failures), and the first one's event (null: none). */
  failedAllocs: number;
  firstFailedEvent: number | null;
  marks: MarkFigures[];
  /** The exact peak of the heaps' committed bytes (the maximum after every op) and its event. */
  peakCommittedBytes: number;
  peakEvent: number;
  /** The run's verdict. */
  diagnosis: Diagnosis['kind'];
  /** The verdict's bytes: retained at the end (second-order), live growth (first-order). */
  retainedBytes: number;
}

/**
 * The run's checkpoints with the trims' moments in event order: `--trim-at` what-ifs (labels
 * `trim-at X: before` / `after`, from the side run the verdict does not read) and `--trim-in-run`
 * calls (`trim X: before` / `after`), each after the checkpoint of its own event.
 */
function momentsOf(doc: RunDocument): Checkpoint[] {
  const trims = [...((doc.trims as TrimResult[] | undefined) ?? []), ...((doc.trimsInRun as TrimResult[] | undefined) ?? [])]
    .filter((t) => t.at !== END_MARK)
    .flatMap((t) => [t.before, t.after]);
  if (!trims.length) return doc.checkpoints;
  const all = [...doc.checkpoints.map((cp, i) => ({ cp, key: 0, i })), ...trims.map((cp, i) => ({ cp, key: 1, i }))];
  return all.sort((a, b) => a.cp.event - b.cp.event || a.key - b.key || a.i - b.i).map((x) => x.cp);
}

export function sweepRow(job: SweepJob, doc: RunDocument): SweepRow {
  const marks = momentsOf(doc).map((cp) => ({
    label: cp.label,
    event: cp.event,
    committedBytes: cp.heap.committedBytes,
    reservedBytes: cp.heap.reservedBytes,
    busyBytes: cp.heap.busyBytes,
    freeBytes: cp.heap.freeBytes,
  }));
  const diagnosis = doc.diagnosis ?? diagnoseRun(doc);
  const peak = doc.peaks?.committedBytes;
  return {
    input: job.input,
    policy: job.policy,
    settings: settingsText(job),
    seed: job.seed ?? null,
    events: doc.events,
    failedOps: typeof doc.failedOps === 'number' ? doc.failedOps : 0,
    failedAllocs: doc.program?.failedAllocs ?? 0,
    firstFailedEvent: doc.program?.firstFailure?.event ?? null,
    marks,
    peakCommittedBytes: peak?.bytes ?? Math.max(0, ...marks.map((m) => m.committedBytes)),
    peakEvent: peak?.event ?? 0,
    diagnosis: diagnosis.kind,
    retainedBytes: diagnosis.retainedBytes,
  };
}

const MiB = 1024 * 1024;
const mb = (bytes: number): string => (bytes / MiB).toFixed(1);

/** A fixed-width table: the run's columns on its first line, then one line per mark. */
export function formatSweepTable(rows: readonly SweepRow[]): string {
  const head = ['input', 'policy', 'settings', 'seed', 'events', 'failed allocs', 'peak commit MiB', 'peak event', 'verdict', 'retained MiB', 'mark', 'event', 'commit MiB', 'reserve MiB', 'busy MiB', 'free MiB'];
  const right = new Set([3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 15]);
  const lines: string[][] = [];
  for (const r of rows) {
    r.marks.forEach((m, i) => {
      const run = i === 0
        ? [r.input, r.policy, r.settings || '-', r.seed === null ? '-' : String(r.seed), String(r.events), String(r.failedAllocs),
          mb(r.peakCommittedBytes), String(r.peakEvent), r.diagnosis, mb(r.retainedBytes)]
        : ['', '', '', '', '', '', '', '', '', ''];
      lines.push([...run, m.label, String(m.event), mb(m.committedBytes), mb(m.reservedBytes), mb(m.busyBytes), mb(m.freeBytes)]);
    });
  }
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]): string =>
    cells.map((s, c) => (right.has(c) ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join('  ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n') + '\n';
}

/**
 * The CSV name of each mark of a row: its label, with `_2`, `_3`… on a label's later occurrences
 * in the same run (a trace may mark `tick` many times), so no two columns share a name.
 */
function markKeys(r: SweepRow): string[] {
  const seen = new Map<string, number>();
  return r.marks.map((m) => {
    const n = (seen.get(m.label) ?? 0) + 1;
    seen.set(m.label, n);
    return n === 1 ? m.label : `${m.label}_${n}`;
  });
}

/** Mark keys of all rows, in order of first appearance. */
function markLabels(rows: readonly SweepRow[]): string[] {
  const labels: string[] = [];
  for (const r of rows) for (const k of markKeys(r)) if (!labels.includes(k)) labels.push(k);
  return labels;
}

function csvField(value: string | number): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One line per run; per-mark columns are named `<mark>_committed_bytes` and so on. */
export function formatSweepCsv(rows: readonly SweepRow[]): string {
  const labels = markLabels(rows);
  const figures = ['committed', 'reserved', 'busy', 'free'] as const;
  const head = ['input', 'policy', 'settings', 'seed', 'events', 'failed_ops', 'failed_allocs', 'first_failed_event',
    'peak_committed_bytes', 'peak_event', 'diagnosis', 'retained_bytes'];
  const taken = new Set(head);
  // A mark whose columns would repeat a name (a mark labelled `peak` gives `peak_event`, which is
  // also a run column) gets a `mark_` prefix on all its columns, as often as needed to be unique.
  const suffixes = ['event', ...figures.map((f) => `${f}_bytes`)];
  for (const l of labels) {
    let prefix = l;
    while (suffixes.some((x) => taken.has(`${prefix}_${x}`))) prefix = `mark_${prefix}`;
    for (const x of suffixes) { taken.add(`${prefix}_${x}`); head.push(`${prefix}_${x}`); }
  }
  const out = [head.map(csvField).join(',')];
  for (const r of rows) {
    const cells: (string | number)[] = [r.input, r.policy, r.settings, r.seed ?? '', r.events, r.failedOps, r.failedAllocs,
      r.firstFailedEvent ?? '', r.peakCommittedBytes, r.peakEvent, r.diagnosis, r.retainedBytes];
    const keys = markKeys(r);
    for (const l of labels) {
      const m = r.marks[keys.indexOf(l)];
      cells.push(m ? m.event : '', ...figures.map((f) => (m ? m[`${f}Bytes`] : '')));
    }
    out.push(cells.map(csvField).join(','));
  }
  return out.join('\n') + '\n';
}

export function formatSweepJson(rows: readonly SweepRow[]): string {
  return JSON.stringify({ runs: rows }, null, 2) + '\n';
}
