// heapsim analyze <file>... [--json] [--against <scenario>]: reads WinDbg `!address -summary` and
// `!heap -s` output, shows the snapshots side by side with the changes between them, and says
// whether they show a first-order leak, a second-order leak, or neither.
import { readFile } from 'node:fs/promises';
import type { Command, Io } from '../io.js';
import { parse } from '../options.js';
import { UsageError } from '../../errors.js';
import { parseWindbgFiles } from '../../windbg/parse.js';
import type { WindbgSnapshot } from '../../windbg/parse.js';
import { diagnoseSnapshots, heapIdOf, seriesFromSnapshots } from '../../windbg/series.js';
import { formatMB } from '../../report/diagnose.js';
import { matchLabels } from '../../report/match-labels.js';
import type { Checkpoint, Diagnosis, HeapCounters, RunDocument } from '../../report/types.js';
import { KB } from '../../report/windbg-numbers.js';
import { DEFAULT_POLICY } from '../../policies/registry.js';

const OPTIONS = {
  json: { type: 'boolean' },
  against: { type: 'string' },
  policy: { type: 'string', default: DEFAULT_POLICY },
  arch: { type: 'string' },
  profile: { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
} as const;

const HELP = `usage: heapsim analyze <file>... [options]

Reads WinDbg !address -summary and !heap -s output (old and new !address layouts, 32- and 64-bit
!heap -s, pasted from anywhere) and says whether the snapshots show a first-order leak (the
program holds more and more), a second-order leak (the program gave memory back but the heap
kept it committed) or neither.

A file may hold several snapshots one after another: each takes the label of the nearest
heading above it (a short line ending with ':' such as "Before peak hours:", or a Markdown
heading), and the !address and !heap output under the same heading form one snapshot.
Several files are several snapshots, in the order given.

A dump does not show what the program holds, so heapsim takes busy = Commit − Free per heap,
and for the process the committed bytes minus the free bytes of the listed heaps.

options:
  --json               print every parsed number and the diagnosis as JSON
  --against SCENARIO   also run a built-in workload (e.g. peak-hour) or a trace file and print its checkpoints
                       beside the dumps, matched by label
  --policy NAME        policy for --against (default ${DEFAULT_POLICY})
  --arch ARCH          architecture for --against (default: the workload's)
  --profile NAME       process profile for --against
  --seed N             workload seed for --against (default 1)
  --set KEY=VALUE      policy parameter for --against; repeatable
  -h, --help           this text

Consistency warnings (tables that do not add up, percentages that disagree with sizes) go to
stderr, each naming its file and line, followed by their count.
`;

type Unit = 'K' | 'n' | '%';
type Row = { section: string } | { name: string; unit: Unit; values: Array<number | undefined> };

const kb = (bytes: number): number => Math.floor(bytes / KB);

function processRows(values: Array<WindbgSnapshot['address'] | Checkpoint['address'] | undefined>): Row[] {
  const pick = (f: (a: NonNullable<WindbgSnapshot['address']>) => number, g: (a: Checkpoint['address']) => number) =>
    values.map((a) => (a === undefined ? undefined : 'busyBytes' in a ? kb(f(a)) : kb(g(a))));
  return [
    { section: 'process (!address -summary)' },
    { name: 'committed (K)', unit: 'K', values: pick((a) => a.state.commit.bytes, (a) => a.state.commit) },
    { name: 'reserved, not committed (K)', unit: 'K', values: pick((a) => a.state.reserve.bytes, (a) => a.state.reserve) },
    { name: 'free address space (K)', unit: 'K', values: pick((a) => a.state.free.bytes, (a) => a.state.free) },
    { name: 'heap regions (K)', unit: 'K', values: pick((a) => a.usage.heap?.bytes ?? 0, (a) => a.usage.heap) },
  ];
}

function heapRows(title: string, heaps: Array<HeapCounters | undefined>, busyName: string): Row[] {
  const v = (f: (h: HeapCounters) => number): Array<number | undefined> => heaps.map((h) => (h === undefined ? undefined : f(h)));
  return [
    { section: title },
    { name: 'Reserv (K)', unit: 'K', values: v((h) => kb(h.reservedBytes)) },
    { name: 'Commit (K)', unit: 'K', values: v((h) => kb(h.committedBytes)) },
    { name: 'Free (K)', unit: 'K', values: v((h) => kb(h.freeBytes)) },
    { name: busyName, unit: 'K', values: v((h) => kb(h.busyBytes)) },
    { name: 'free blocks', unit: 'n', values: v((h) => h.freeBlocks) },
    { name: 'uncommitted ranges', unit: 'n', values: v((h) => h.uncommittedRanges) },
    { name: 'external fragmentation', unit: '%', values: v((h) => h.externalFragmentationPct) },
    { name: 'virtual address fragmentation', unit: '%', values: v((h) => h.virtualAddressFragmentationPct) },
  ];
}

function cell(value: number | undefined, unit: Unit): string {
  if (value === undefined) return '-';
  return unit === '%' ? `${value} %` : String(value);
}

function delta(a: number | undefined, b: number | undefined, unit: Unit): string {
  if (a === undefined || b === undefined) return '';
  const d = b - a;
  const text = d === 0 ? '0' : `${d > 0 ? '+' : '−'}${Math.abs(d)}`;
  return unit === '%' ? `${text} pt` : text;
}

/** Renders rows under column titles; `changes` adds a Δ column between consecutive value columns. */
export function renderTable(titles: string[], rows: Row[], changes: boolean): string {
  const columns: Array<{ title: string; cells: string[] }> = [];
  titles.forEach((title, i) => {
    if (changes && i > 0) {
      columns.push({ title: 'Δ', cells: rows.map((r) => ('section' in r ? '' : delta(r.values[i - 1], r.values[i], r.unit))) });
    }
    columns.push({ title, cells: rows.map((r) => ('section' in r ? '' : cell(r.values[i], r.unit))) });
  });
  const nameWidth = Math.max(...rows.map((r) => ('section' in r ? 0 : r.name.length + 2)), 10);
  const widths = columns.map((c) => Math.max(c.title.length, ...c.cells.map((x) => x.length)));
  const line = (name: string, cells: string[]): string =>
    (name.padEnd(nameWidth) + cells.map((c, k) => '  ' + c.padStart(widths[k]!)).join('')).trimEnd();
  const out = [line('', columns.map((c) => c.title))];
  rows.forEach((r, k) => {
    if ('section' in r) out.push(r.section);
    else out.push(line(`  ${r.name}`, columns.map((c) => c.cells[k]!)));
  });
  return out.join('\n') + '\n';
}

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let current = '';
  // Keep a number and its unit on one line ("498.1 MB", "1255320 K", "75 %").
  const tokens: string[] = [];
  for (const w of text.split(/\s+/)) {
    if (tokens.length > 0 && /^(?:MB|K|%|pt)[),.;:]*$/.test(w)) tokens[tokens.length - 1] += ` ${w}`;
    else tokens.push(w);
  }
  for (const word of tokens) {
    if (current.length > 0 && indent.length + current.length + 1 + word.length > width) { out.push(indent + current); current = word; }
    else current = current.length > 0 ? `${current} ${word}` : word;
  }
  if (current.length > 0) out.push(indent + current);
  return out.join('\n');
}

function diagnosisText(title: string, d: Diagnosis): string {
  const lines = [`${title}: ${d.kind}`, wrap(d.summary, 100, '  ')];
  if (d.retainedBytes > 0) lines.push(`  retained: ${formatMB(d.retainedBytes)} (${d.retainedBytes} bytes)`);
  if (d.causes.length > 0) {
    lines.push('  causes (not exclusive; each names bytes one mechanism accounts for):');
    for (const c of d.causes) lines.push(`    ${c.mechanism}: ${formatMB(c.bytes)} (${c.bytes} bytes${c.layer ? `, ${c.layer}` : ''})`);
  }
  return lines.join('\n') + '\n';
}

function dumpTable(snapshots: WindbgSnapshot[]): string {
  const rows: Row[] = [];
  if (snapshots.some((s) => s.address)) rows.push(...processRows(snapshots.map((s) => s.address)));
  const ids: string[] = [];
  const byId = snapshots.map((s) => new Map(s.heaps.map((h, i) => [heapIdOf(h.address, s.arch, i), h])));
  for (const m of byId) for (const id of m.keys()) if (!ids.includes(id)) ids.push(id);
  for (const id of ids) rows.push(...heapRows(`heap ${id} (!heap -s)`, byId.map((m) => m.get(id)), 'busy = Commit − Free (K)'));
  const segIds: string[] = [];
  for (const s of snapshots) for (const h of s.segmentHeaps) { const id = heapIdOf(h.address, s.arch, 0); if (!segIds.includes(id)) segIds.push(id); }
  for (const id of segIds) {
    const hs = snapshots.map((s) => s.segmentHeaps.find((h) => heapIdOf(h.address, s.arch, 0) === id));
    rows.push({ section: `segment heap ${id} (!heap -s)` },
      { name: 'reserved (K)', unit: 'K', values: hs.map((h) => (h ? kb(h.reservedBytes) : undefined)) },
      { name: 'committed (K)', unit: 'K', values: hs.map((h) => (h ? kb(h.committedBytes) : undefined)) });
  }
  return renderTable(snapshots.map((s) => s.label), rows, true);
}

interface Against {
  document: RunDocument;
  /** For each snapshot, the label of the matched checkpoint (undefined: none). */
  matches: Array<string | undefined>;
  diagnosis: Diagnosis;
}

async function runAgainst(values: Record<string, unknown>, scenario: string, snapshots: WindbgSnapshot[]): Promise<Against> {
  // Loaded on demand: the engine and its WASM module are only needed for --against.
  const { runOptionsFrom, isTraceFile } = await import('./run.js');
  const { makeWorkload } = await import('../../workload/index.js');
  const { runWorkload } = await import('../../run/run.js');
  const { traceWorkload } = await import('../../trace/workload.js');
  const { diagnoseRun } = await import('../../run/diagnose-run.js');
  const { options, seed } = await runOptionsFrom(values);
  let workload;
  try {
    workload = isTraceFile(scenario) ? await traceWorkload(scenario) : makeWorkload(scenario, { seed });
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`--against: ${err.message}`);
    throw err;
  }
  const document = await runWorkload(workload, options);
  const idx = matchLabels(snapshots.map((s) => s.label), document.checkpoints.map((c) => c.label));
  return {
    document,
    matches: idx.map((k) => (k === undefined ? undefined : document.checkpoints[k]!.label)),
    // The policy's own mechanisms (e.g. nt: trapped free space, thresholds, pinned LFH blocks) when it names them.
    diagnosis: diagnoseRun(document),
  };
}

function againstTable(snapshots: WindbgSnapshot[], a: Against): string {
  const cps = a.matches.map((l) => a.document.checkpoints.find((c) => c.label === l));
  const titles = snapshots.map((s, i) => `${s.label} ~ ${a.matches[i] ?? '(none)'}`);
  const heapCount = Math.max(0, ...cps.map((c) => (c ? (c.heaps ?? [c.heap]).length : 0)));
  const rows: Row[] = [...processRows(cps.map((c) => c?.address))];
  for (let k = 0; k < heapCount; k++) {
    const hs = cps.map((c) => (c ? (c.heaps ?? [c.heap])[k] : undefined));
    const policy = hs.find((h) => h)?.policy ?? '';
    rows.push(...heapRows(`simulated heap ${k}${policy ? ` (${policy})` : ''}`, hs, 'busy (K)'));
  }
  return renderTable(titles, rows, false);
}

export const command: Command = {
  summary: 'read WinDbg !address -summary / !heap -s dumps and diagnose the leak',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('analyze', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length === 0) throw new UsageError('analyze wants at least one file (see heapsim analyze --help)');
    const files = await Promise.all(positionals.map(async (name) => ({ name, text: await readFile(name, 'utf8') })));
    const snapshots = parseWindbgFiles(files);
    const warnings = snapshots.flatMap((s) => s.warnings);
    const diagnosis = diagnoseSnapshots(snapshots);
    const { notes } = seriesFromSnapshots(snapshots);
    const against = typeof values.against === 'string' ? await runAgainst(values, values.against, snapshots) : undefined;

    for (const w of warnings) io.stderr.write(`heapsim analyze: warning: ${w}\n`);
    if (warnings.length > 0) io.stderr.write(`heapsim analyze: ${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n`);

    if (values.json) {
      const doc = {
        files: positionals,
        snapshots,
        warningCount: warnings.length,
        notes,
        diagnosis,
        ...(against ? { against: { scenario: values.against, matches: snapshots.map((s, i) => ({ snapshot: s.label, checkpoint: against.matches[i] ?? null })), diagnosis: against.diagnosis, run: against.document } } : {}),
      };
      io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      return 0;
    }
    const out: string[] = [];
    out.push(`heapsim analyze: ${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'} from ${positionals.join(', ')}`, '');
    out.push(dumpTable(snapshots));
    out.push(diagnosisText('diagnosis', diagnosis));
    if (against) {
      const d = against.document;
      out.push(`simulation: ${d.workload} on ${d.policy} (${d.arch}, profile ${d.profile ?? 'bare'}${d.seed !== undefined ? `, seed ${d.seed}` : ''}), checkpoints matched to the dumps by label`, '');
      out.push(againstTable(snapshots, against));
      out.push(diagnosisText('simulation diagnosis', against.diagnosis));
    }
    io.stdout.write(out.join('\n'));
    return 0;
  },
};
