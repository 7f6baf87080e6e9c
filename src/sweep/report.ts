// A sweep's results as rows: one per run, with the heap's committed / reserved / busy / free bytes
// at each mark (the end of the run counts as a mark when the input has none there), printed as a
// text table, CSV or JSON. All sizes are integer bytes; the text table shows MB.
import type { Diagnosis, RunDocument } from '../report/types.js';
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
  marks: MarkFigures[];
  /** Largest heap commit seen during the run. */
  peakCommittedBytes: number;
  /** diagnoseRun's verdict over the run's marks. */
  diagnosis: Diagnosis['kind'];
  /** Committed bytes the diagnosis says the program no longer uses (second-order) or still holds. */
  retainedBytes: number;
}

export function sweepRow(job: SweepJob, doc: RunDocument): SweepRow {
  const marks = doc.checkpoints.map((cp) => ({
    label: cp.label,
    event: cp.event,
    committedBytes: cp.heap.committedBytes,
    reservedBytes: cp.heap.reservedBytes,
    busyBytes: cp.heap.busyBytes,
    freeBytes: cp.heap.freeBytes,
  }));
  const last = doc.checkpoints[doc.checkpoints.length - 1];
  const peak = last?.heap.peakCommittedBytes;
  const diagnosis = diagnoseRun(doc);
  return {
    input: job.input,
    policy: job.policy,
    settings: settingsText(job),
    seed: job.seed ?? null,
    events: doc.events,
    failedOps: typeof doc.failedOps === 'number' ? doc.failedOps : 0,
    marks,
    peakCommittedBytes: typeof peak === 'number' ? peak : Math.max(0, ...marks.map((m) => m.committedBytes)),
    diagnosis: diagnosis.kind,
    retainedBytes: diagnosis.retainedBytes,
  };
}

const MB = 1024 * 1024;
const mb = (bytes: number): string => (bytes / MB).toFixed(1);

/** A fixed-width table: the run's columns on its first line, then one line per mark. */
export function formatSweepTable(rows: readonly SweepRow[]): string {
  const head = ['input', 'policy', 'settings', 'seed', 'events', 'peak commit MB', 'diagnosis', 'retained MB', 'mark', 'event', 'commit MB', 'reserve MB', 'busy MB', 'free MB'];
  const right = new Set([3, 4, 5, 7, 9, 10, 11, 12, 13]);
  const lines: string[][] = [];
  for (const r of rows) {
    r.marks.forEach((m, i) => {
      const run = i === 0
        ? [r.input, r.policy, r.settings || '-', r.seed === null ? '-' : String(r.seed), String(r.events), mb(r.peakCommittedBytes), r.diagnosis, mb(r.retainedBytes)]
        : ['', '', '', '', '', '', '', ''];
      lines.push([...run, m.label, String(m.event), mb(m.committedBytes), mb(m.reservedBytes), mb(m.busyBytes), mb(m.freeBytes)]);
    });
  }
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]): string =>
    cells.map((s, c) => (right.has(c) ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join('  ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n') + '\n';
}

/** Mark labels of all rows, in order of first appearance. */
function markLabels(rows: readonly SweepRow[]): string[] {
  const labels: string[] = [];
  for (const r of rows) for (const m of r.marks) if (!labels.includes(m.label)) labels.push(m.label);
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
  const head = ['input', 'policy', 'settings', 'seed', 'events', 'failed_ops', 'peak_committed_bytes', 'diagnosis', 'retained_bytes'];
  for (const l of labels) head.push(`${l}_event`, ...figures.map((f) => `${l}_${f}_bytes`));
  const out = [head.map(csvField).join(',')];
  for (const r of rows) {
    const cells: (string | number)[] = [r.input, r.policy, r.settings, r.seed ?? '', r.events, r.failedOps, r.peakCommittedBytes, r.diagnosis, r.retainedBytes];
    for (const l of labels) {
      const m = r.marks.find((k) => k.label === l);
      cells.push(m ? m.event : '', ...figures.map((f) => (m ? m[`${f}Bytes`] : '')));
    }
    out.push(cells.map(csvField).join(','));
  }
  return out.join('\n') + '\n';
}

export function formatSweepJson(rows: readonly SweepRow[]): string {
  return JSON.stringify({ runs: rows }, null, 2) + '\n';
}
