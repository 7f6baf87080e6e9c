// heapsim analyze <file>... [--json] [--against <scenario>]: reads WinDbg `!address -summary`,
// `!address`, `!heap -s` and `!heap -stat` output, shows the snapshots side by side with the
// changes between them, and says whether they show a first-order leak, a second-order leak, or
// neither. With --against it runs a scenario and scores how well the simulation agrees.
import type { Command, Io } from '../io.js';
import { parse } from '../options.js';
import { UsageError } from '../../errors.js';
import { openWindbgFile } from '../../windbg/input.js';
import { heapAddressText, readWindbg } from '../../windbg/parse.js';
import type { WindbgSnapshot } from '../../windbg/parse.js';
import { diagnoseSnapshots, heapIdOf, seriesFromSnapshots } from '../../windbg/series.js';
import { agreement, AGREEMENT_TOLERANCE } from '../../windbg/agreement.js';
import type { Agreement } from '../../windbg/agreement.js';
import { MAX_KEPT_WARNINGS } from '../../windbg/limits.js';
import { formatMB } from '../../report/diagnose.js';
import { matchLabels } from '../../report/match-labels.js';
import type { Checkpoint, Diagnosis, HeapCounters, RunDocument } from '../../report/types.js';
import { KB } from '../../report/windbg-numbers.js';
import { DEFAULT_POLICY, policySpecs } from '../../policies/registry.js';

const OPTIONS = {
  json: { type: 'boolean' },
  against: { type: 'string' },
  policy: { type: 'string', default: DEFAULT_POLICY },
  arch: { type: 'string' },
  profile: { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
} as const;

/** Warnings printed per file on stderr (all kept ones are in --json). */
const PRINTED_WARNINGS_PER_FILE = 20;

const HELP = `usage: heapsim analyze <file>... [options]

Reads WinDbg output pasted from anywhere (a console, a forum, a blog, an issue tracker) and says
whether the snapshots show a first-order leak (the program holds more and more), a second-order
leak (the program gave memory back but the heap kept it committed) or neither.

Read: !address -summary (old and new layouts; 32-bit, 64-bit, WOW64; with or without the Type,
State, Protect and Largest Region sections), !address region listings (summed by usage, state
and type when no summary was pasted), !address <addr>, !heap -s (NT heap table from XP to
Windows 11, segment heap table, fragmentation and lock lines), !heap -s <heap> and
!heap -stat -h <heap>. A damaged line is skipped with a warning naming it; a missing section
limits what is concluded. The file is refused only when nothing in it can be read.

A file may hold several snapshots one after another: each takes the label of the nearest
heading above it (a short line after a blank line, ending with ':' such as "Before peak hours:",
or a Markdown heading), and the output under the same heading forms one snapshot. Several files
are several snapshots, in the order given. Files are UTF-8 or UTF-16 text (told by the byte order
mark or by the zero bytes of ASCII in UTF-16), at most 256 MiB, lines at most 65536 characters.

A dump does not show what the program holds, so heapsim takes busy = Commit − Free per heap,
and for the process the committed bytes minus the free bytes of the listed heaps.

options:
  --json               print every number read (heap addresses as hex strings) and the diagnosis as JSON
  --against SCENARIO   also run a built-in workload (e.g. windows-service-peak) or a trace file, print its
                       checkpoints beside the dumps (matched by label) and how well they agree
  --policy NAME        policy for --against (default ${DEFAULT_POLICY})
  --arch ARCH          architecture for --against (default: the workload's)
  --profile NAME       process profile for --against
  --seed N             workload seed for --against (default 1)
  --set KEY=VALUE      policy parameter for --against; repeatable
  -h, --help           this text

Consistency warnings (tables that do not add up, percentages that disagree with sizes) and
skipped lines go to stderr, each naming its file and line, followed by their count.
`;

type Unit = 'K' | 'n' | '%';
type Row = { section: string } | { name: string; unit: Unit; values: Array<number | undefined> };

const kb = (bytes: number): number => Math.floor(bytes / KB);

type ProcessView = { commit?: number; reserve?: number; free?: number; heap?: number };

function dumpProcess(s: WindbgSnapshot): ProcessView | undefined {
  const a = s.address;
  if (!a) return undefined;
  const v: ProcessView = {};
  if (a.state) { v.commit = a.state.commit.bytes; v.reserve = a.state.reserve.bytes; v.free = a.state.free.bytes; }
  if (a.usage.heap) v.heap = a.usage.heap.bytes;
  return v;
}

function checkpointProcess(c: Checkpoint | undefined): ProcessView | undefined {
  if (!c) return undefined;
  return { commit: c.address.state.commit, reserve: c.address.state.reserve, free: c.address.state.free, heap: c.address.usage.heap };
}

function processRows(values: Array<ProcessView | undefined>): Row[] {
  const pick = (f: (v: ProcessView) => number | undefined): Array<number | undefined> => values.map((v) => {
    const x = v === undefined ? undefined : f(v);
    return x === undefined ? undefined : kb(x);
  });
  return [
    { section: 'process (!address)' },
    { name: 'committed (K)', unit: 'K', values: pick((v) => v.commit) },
    { name: 'reserved, not committed (K)', unit: 'K', values: pick((v) => v.reserve) },
    { name: 'free address space (K)', unit: 'K', values: pick((v) => v.free) },
    { name: 'heap regions (K)', unit: 'K', values: pick((v) => v.heap) },
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
  if (snapshots.some((s) => s.address)) rows.push(...processRows(snapshots.map(dumpProcess)));
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
  if (rows.length === 0) return '';
  return renderTable(snapshots.map((s) => s.label), rows, true);
}

/** The `!heap -stat`, region listing and single-region lines of each snapshot. */
function detailText(snapshots: WindbgSnapshot[]): string {
  const out: string[] = [];
  for (const s of snapshots) {
    for (const st of s.sizeStats) {
      if (st.rows.length === 0) continue;
      const top = st.rows.slice(0, 3).map((r) => `${r.sizeBytes} B × ${r.blocks} = ${formatMB(r.totalBytes)}${r.pct !== undefined ? ` (${r.pct} %)` : ''}`);
      out.push(`${s.label}: !heap -stat of heap ${st.heapText ?? '?'}: largest totals ${top.join('; ')}`);
    }
    if (s.regions && s.regions.count > 0) {
      const r = s.regions;
      const state = ['MEM_COMMIT', 'MEM_RESERVE', 'MEM_FREE'].filter((k) => r.byState[k]).map((k) => `${k} ${kb(r.byState[k]!.bytes)} K`);
      const usage = Object.entries(r.byUsage).sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 5).map(([k, v]) => `${k} ${kb(v.bytes)} K`);
      out.push(`${s.label}: !address listing of ${r.count} region${r.count === 1 ? '' : 's'}: ${state.join(', ')}; by usage ${usage.join(', ')}`);
    }
    for (const l of s.lookups) {
      out.push(`${s.label}: !address region ${l.base.toString(16)}: ${l.usage}, ${kb(l.bytes)} K${l.state ? `, ${l.state}` : ''}${l.type ? `, ${l.type}` : ''}`);
    }
  }
  return out.length > 0 ? out.join('\n') + '\n' : '';
}

/** A snapshot for --json: heap addresses and region bases as hex strings, as WinDbg prints them. */
function snapshotJson(s: WindbgSnapshot): unknown {
  const hex = (n: number | undefined): string | undefined => (n === undefined ? undefined : heapAddressText(n, s.arch));
  const plainHex = (n: number | undefined): string | undefined => (n === undefined ? undefined : n.toString(16).padStart(8, '0'));
  return {
    ...s,
    heaps: s.heaps.map((h) => ({ ...h, address: hex(h.address), flags: plainHex(h.flags) })),
    segmentHeaps: s.segmentHeaps.map((h) => ({ ...h, address: hex(h.address), signature: plainHex(h.signature), flags: plainHex(h.flags) })),
    sizeStats: s.sizeStats.map((x) => ({ ...x, heap: hex(x.heap) })),
    lookups: s.lookups.map((l) => ({ ...l, base: plainHex(l.base) })),
    ...(s.address ? {
      address: {
        ...s.address,
        ...(s.address.largestFree ? { largestFree: { ...s.address.largestFree, base: plainHex(s.address.largestFree.base) } } : {}),
        ...(s.address.largestByUsage ? { largestByUsage: Object.fromEntries(Object.entries(s.address.largestByUsage).map(([k, v]) => [k, { ...v, base: plainHex(v.base) }])) } : {}),
      },
    } : {}),
    printed: {
      ...s.printed,
      addressRows: s.printed.addressRows.map((r) => (r.base === undefined ? r : { ...r, base: plainHex(r.base) })),
      ...(s.printed.largestFreeLine ? { largestFreeLine: { ...s.printed.largestFreeLine, base: plainHex(s.printed.largestFreeLine.base) } } : {}),
    },
  };
}

interface Against {
  document: RunDocument;
  /** For each snapshot, the matched checkpoint (undefined: none). */
  checkpoints: Array<Checkpoint | undefined>;
  diagnosis: Diagnosis;
  agreement: Agreement;
  /** Policies to try when the verdicts differ. */
  suggestions: string[];
  /** Policy parameters the workload declares (policy names are keys). */
  workloadPolicies: string[];
}

async function runAgainst(values: Record<string, unknown>, scenario: string, snapshots: WindbgSnapshot[]): Promise<Against> {
  // Loaded on demand: the engine and its WASM module are only needed for --against.
  const { runOptionsFrom } = await import('./run.js');
  const { isTraceFile } = await import('../inputs.js');
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
  const checkpoints = idx.map((k) => (k === undefined ? undefined : document.checkpoints[k]!));
  const workloadPolicies = Object.keys(workload.policyParams ?? {});
  // Policies to try when the verdicts differ: those the registry marks as Windows allocators (the
  // dumps are WinDbg's), and those the scenario is calibrated for.
  const windows = policySpecs().filter((p) => p.platform === 'windows').map((p) => p.name);
  const suggestions = [...new Set([...windows, ...workloadPolicies])].filter((p) => p !== document.policy);
  return {
    document,
    checkpoints,
    // The policy's own mechanisms (e.g. nt: trapped free space, thresholds, pinned LFH blocks) when it names them.
    diagnosis: diagnoseRun(document),
    agreement: agreement(snapshots, checkpoints),
    suggestions,
    workloadPolicies,
  };
}

function againstTable(snapshots: WindbgSnapshot[], a: Against): string {
  const cps = a.checkpoints;
  const titles = snapshots.map((s, i) => `${s.label} ~ ${cps[i]?.label ?? '(none)'}`);
  const heapCount = Math.max(0, ...cps.map((c) => (c ? (c.heaps ?? [c.heap]).length : 0)));
  const rows: Row[] = [...processRows(cps.map(checkpointProcess))];
  for (let k = 0; k < heapCount; k++) {
    const hs = cps.map((c) => (c ? (c.heaps ?? [c.heap])[k] : undefined));
    const policy = hs.find((h) => h)?.policy ?? '';
    rows.push(...heapRows(`simulated heap ${k}${policy ? ` (${policy})` : ''}`, hs, 'busy (K)'));
  }
  return renderTable(titles, rows, false);
}

function agreementText(a: Against): string {
  const g = a.agreement;
  if (g.compared === 0) return 'agreement: nothing to compare (no snapshot matched a checkpoint with numbers in common)\n';
  const pairs = [...new Set(g.rows.map((r) => `${r.snapshot}|${r.checkpoint}`))];
  const metrics = [...new Set(g.rows.map((r) => r.metric))];
  const titles = pairs.map((p) => { const [s, c] = p.split('|'); return `${s} ~ ${c}`; });
  const lines: string[] = [];
  const nameWidth = Math.max(...metrics.map((m) => m.length)) + 2;
  const cellsFor = (m: string): string[] => pairs.map((p) => {
    const r = g.rows.find((x) => x.metric === m && `${x.snapshot}|${x.checkpoint}` === p);
    if (!r) return '-';
    const ratio = r.ratio === undefined ? 'n/a' : r.ratio.toFixed(2);
    return `${r.simulated}/${r.observed} = ${ratio}${r.within ? '' : ' *'}`;
  });
  const widths = titles.map((t, i) => Math.max(t.length, ...metrics.map((m) => cellsFor(m)[i]!.length)));
  lines.push(`agreement (simulated / observed; * = more than ${AGREEMENT_TOLERANCE * 100} % apart)`);
  lines.push((''.padEnd(nameWidth) + titles.map((t, i) => '  ' + t.padStart(widths[i]!)).join('')).trimEnd());
  for (const m of metrics) lines.push((`  ${m}`.padEnd(nameWidth) + cellsFor(m).map((c, i) => '  ' + c.padStart(widths[i]!)).join('')).trimEnd());
  lines.push(`overall: ${g.overallPct.toFixed(1)} % (mean of min(ratio, 1/ratio)); ${g.within} of ${g.compared} numbers within ${AGREEMENT_TOLERANCE * 100} %`);
  for (const e of g.excluded) lines.push(`not compared: ${e}`);
  return lines.join('\n') + '\n';
}

/** A sentence when the simulation's verdict is not the dumps' (or undefined when they agree). */
function verdictSentence(dumps: Diagnosis, a: Against): string | undefined {
  const sim = a.diagnosis.kind;
  if (sim === dumps.kind || dumps.kind === 'none') return undefined;
  const scenario = `this scenario on ${a.document.policy}`;
  const what: Record<Diagnosis['kind'], string> = {
    none: 'does not retain memory',
    'first-order': 'shows a first-order leak (the program keeps what it allocates)',
    'second-order': 'retains freed memory (second-order)',
    'out-of-memory': 'runs out of memory (allocations fail)',
  };
  const try_ = a.suggestions.length > 0 ? `: try ${a.suggestions.map((p) => `--policy ${p}`).join(' or ')}` : ': try another policy (heapsim run --help lists them)';
  return `${scenario} ${what[sim]}; the dumps ${dumps.kind === 'second-order' ? 'do (second-order)' : 'show a first-order leak'}${dumps.kind === 'second-order' && sim !== 'second-order' ? try_ : ''}.`;
}

export const command: Command = {
  summary: 'read WinDbg !address / !heap output and diagnose the leak',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('analyze', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length === 0) throw new UsageError('analyze wants at least one file (see heapsim analyze --help)');
    const snapshots: WindbgSnapshot[] = [];
    const warnings: string[] = [];
    const jsonWarnings: string[] = [];
    const fileNotes: string[] = [];
    let warningCount = 0;
    let skippedCount = 0;
    for (const name of positionals) {
      const input = openWindbgFile(name);
      try {
        const read = readWindbg(input.lines, name);
        snapshots.push(...read.snapshots);
        for (const n of input.notes) fileNotes.push(`${name}: ${n}`);
        const shown = read.warnings.slice(0, PRINTED_WARNINGS_PER_FILE);
        warnings.push(...shown);
        if (read.warningCount > shown.length) warnings.push(`${name}: … and ${read.warningCount - shown.length} more (${Math.min(read.warningCount, MAX_KEPT_WARNINGS)} kept in --json)`);
        warningCount += read.warningCount;
        skippedCount += read.skippedCount;
        jsonWarnings.push(...read.warnings);
      } finally {
        input.close();
      }
    }
    const diagnosis = diagnoseSnapshots(snapshots);
    const { notes } = seriesFromSnapshots(snapshots);
    const against = typeof values.against === 'string' ? await runAgainst(values, values.against, snapshots) : undefined;

    for (const n of fileNotes) io.stderr.write(`heapsim analyze: note: ${n}\n`);
    for (const w of warnings) io.stderr.write(`heapsim analyze: warning: ${w}\n`);
    if (warningCount > 0) {
      io.stderr.write(`heapsim analyze: ${warningCount} warning${warningCount === 1 ? '' : 's'}${skippedCount > 0 ? `, ${skippedCount} damaged line${skippedCount === 1 ? '' : 's'} skipped` : ''}\n`);
    }

    if (values.json) {
      const doc = {
        files: positionals,
        notes: [...fileNotes, ...notes],
        snapshots: snapshots.map(snapshotJson),
        warningCount,
        skippedCount,
        warnings: jsonWarnings,
        diagnosis,
        ...(against ? {
          against: {
            scenario: values.against,
            matches: snapshots.map((s, i) => ({ snapshot: s.label, checkpoint: against.checkpoints[i]?.label ?? null })),
            agreement: against.agreement,
            verdict: verdictSentence(diagnosis, against) ?? null,
            diagnosis: against.diagnosis,
            run: against.document,
          },
        } : {}),
      };
      io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      return 0;
    }
    const out: string[] = [];
    out.push(`heapsim analyze: ${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'} from ${positionals.join(', ')}`, '');
    const table = dumpTable(snapshots);
    if (table) out.push(table);
    const details = detailText(snapshots);
    if (details) out.push(details);
    out.push(diagnosisText('diagnosis', diagnosis));
    if (against) {
      const d = against.document;
      out.push(`simulation: ${d.workload} on ${d.policy} (${d.arch}, profile ${d.profile ?? 'bare'}${d.seed !== undefined ? `, seed ${d.seed}` : ''}), checkpoints matched to the dumps by label`, '');
      out.push(againstTable(snapshots, against));
      out.push(agreementText(against));
      out.push(diagnosisText('simulation diagnosis', against.diagnosis));
      const sentence = verdictSentence(diagnosis, against);
      if (sentence) out.push(wrap(sentence, 100, '') + '\n');
    }
    io.stdout.write(out.join('\n'));
    return 0;
  },
};
