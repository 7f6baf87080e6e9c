// Plain-text rendering of a run, in the order a person reads it: the verdict (one line), the trim
// what-if, a compact table of the moments (start, marks, the exact peak, end; `--every N` adds
// rows), then the details: the findings, where the memory is held, and the process as the
// platform's own tools show it (Linux: RSS and committed, brk heap vs mmap, mallinfo2; Windows:
// `!address -summary` and `!heap -s`). Full dumps at every checkpoint come with `dumps`.
// Sizes are IEC (KiB, MiB) except inside WinDbg views, which keep WinDbg's K and MB.
import type { AddressSummary, Checkpoint, Diagnosis, HeapCounters, RunDocument } from './types.js';
import { USAGE_NAMES, TYPE_NAMES } from './types.js';
import { formatAddressSummary } from './address-summary.js';
import { formatHeapSummary } from './heap-summary.js';
import { iec, pct } from './units.js';
import { getPolicy, hasPolicy, policySpecs } from '../policies/registry.js';
import type { Verdict } from './verdict.js';
import type { TrimResult } from './types.js';
import { isPeriodic, momentOf, peakMoment } from './moments.js';

/** The `!address -summary` view of a checkpoint. */
export function addressSummaryOf(cp: Checkpoint): AddressSummary {
  const a = cp.address;
  const usage: AddressSummary['usage'] = { free: { bytes: a.state.free } };
  for (const u of USAGE_NAMES) usage[u] = { bytes: a.usage[u] };
  const type = {} as AddressSummary['type'];
  for (const t of TYPE_NAMES) type[t] = { bytes: a.type[t] };
  return {
    totalBytes: a.totalBytes,
    busyBytes: a.totalBytes - a.state.free,
    state: { commit: { bytes: a.state.commit }, reserve: { bytes: a.state.reserve }, free: { bytes: a.state.free } },
    type,
    usage,
  };
}

export function heapLine(h: HeapCounters): string {
  const name = `heap ${h.heap ?? 0} ${h.policy ?? ''}${typeof h.parent === 'number' && h.parent >= 0 ? ` (on heap ${h.parent})` : ''}`;
  return `${name}: reserved ${iec(h.reservedBytes)}, committed ${iec(h.committedBytes)}, busy ${iec(h.busyBytes)}, ` +
    `free ${iec(h.freeBytes)} in ${h.freeBlocks} blocks, ${h.uncommittedRanges} uncommitted ranges, ` +
    `external fragmentation ${h.externalFragmentationPct} %, virtual address fragmentation ${h.virtualAddressFragmentationPct} %`;
}

/**
 * The WinDbg views of the simulated process at one checkpoint: `!address -summary`, then `!heap -s`
 * over the NT heaps (as WinDbg lists them), then one line for each other layer.
 */
export function windbgViews(cp: Checkpoint, arch: 'x86' | 'x64'): string {
  const heaps = cp.heaps && cp.heaps.length ? cp.heaps : [cp.heap];
  // !heap -s lists the heaps of Windows heap managers; other layers get a line each.
  const onWindows = (h: HeapCounters): boolean => h.policy !== undefined && hasPolicy(h.policy) && getPolicy(h.policy).platform === 'windows';
  const nt = heaps.filter(onWindows);
  const others = heaps.filter((h) => !onWindows(h));
  return [
    '0:000> !address -summary',
    '',
    formatAddressSummary(addressSummaryOf(cp)).trimEnd(),
    '',
    '0:000> !heap -s',
    nt.length ? formatHeapSummary(nt, { arch }).trimEnd() : '(no NT heap in this run: nothing for !heap -s to list)',
    ...(others.length ? ['', ...others.map(heapLine)] : []),
  ].join('\n');
}

/** The process as Linux tools show it at one checkpoint: RSS and committed, brk heap vs mmap, the library's own figures. */
export function linuxView(cp: Checkpoint, doc?: RunDocument): string {
  const m = momentOf(cp);
  const lines = [
    `RSS of the heaps ${iec(m.residentBytes)}, committed ${iec(m.committedBytes)}; the program's live bytes ${iec(m.liveBytes)}` +
      ` (process: RSS ${iec(cp.address.residentBytes)}, committed ${iec(cp.address.state.commit)})`,
  ];
  if (doc?.peaks && cp === doc.checkpoints[doc.checkpoints.length - 1]) {
    const p = doc.peaks;
    lines.push(`peaks: committed ${iec(p.committedBytes.bytes)} at event ${p.committedBytes.event}, RSS ${iec(p.residentBytes.bytes)} at event ${p.residentBytes.event}, ` +
      `live ${iec(p.requestedBytes.bytes)} at event ${p.requestedBytes.event}`);
  }
  for (const h of cp.heaps ?? [cp.heap]) {
    const spec = h.policy && hasPolicy(h.policy) ? getPolicy(h.policy) : undefined;
    const view = spec?.linuxView?.(h);
    const head = `heap ${h.heap ?? 0} ${h.policy ?? ''}`;
    if (view) {
      lines.push(`${head}: heap (brk) ${iec(view.brkBytes)}, mmap ${iec(view.mmapBytes)} in ${view.mmapBlocks} block${view.mmapBlocks === 1 ? '' : 's'}, RSS ${iec(h.residentBytes ?? 0)}`);
    } else {
      lines.push(`${head}: committed ${iec(h.committedBytes)}, RSS ${iec(h.residentBytes ?? 0)}, free ${iec(h.freeBytes)} in ${h.freeBlocks} blocks`);
    }
    const stats = view?.stats ?? (h.native && typeof h.native === 'object' ? { name: `${h.policy} statistics`, values: h.native as Record<string, number> } : undefined);
    if (stats) lines.push(`  ${stats.name}: ${Object.entries(stats.values).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** Heap lines only: a process with no platform vocabulary (an 'any' policy on a bare profile). */
export function plainView(cp: Checkpoint): string {
  const m = momentOf(cp);
  return [`committed ${iec(m.committedBytes)}, resident ${iec(m.residentBytes)}, the program's live bytes ${iec(m.liveBytes)}`,
    ...(cp.heaps ?? [cp.heap]).map(heapLine)].join('\n');
}

/** The platform view of one checkpoint. */
export function platformView(doc: RunDocument, cp: Checkpoint): string {
  if (doc.platform === 'windows') return windbgViews(cp, doc.arch === 'x64' ? 'x64' : 'x86');
  if (doc.platform === 'linux') return linuxView(cp, doc);
  return plainView(cp);
}

interface Row { moment: string; event: number; live: number; committed: number; resident: number }

/**
 * The moments of a run as one table: start, marks, periodic checkpoints (--every), the exact peak
 * and the end, in event order. free = committed − live (held by the allocators, not used by the
 * program); frag = free / committed.
 */
export function momentsTable(doc: RunDocument): string {
  const rows: Row[] = [];
  const add = (moment: string, m: { event: number; liveBytes: number; committedBytes: number; residentBytes: number }): void => {
    rows.push({ moment, event: m.event, live: m.liveBytes, committed: m.committedBytes, resident: m.residentBytes });
  };
  if (doc.start) add('start', momentOf(doc.start));
  const last = doc.checkpoints[doc.checkpoints.length - 1];
  for (const cp of doc.checkpoints) add(cp === last && !isPeriodic(cp) ? cp.label : cp.label, momentOf(cp));
  const peak = peakMoment(doc);
  // The peak goes after the rows at or before its event (a tie with a mark shows both).
  const at = rows.findIndex((r) => r.event > peak.event);
  const peakRow: Row = { moment: peak.label, event: peak.event, live: peak.liveBytes, committed: peak.committedBytes, resident: peak.residentBytes };
  if (at < 0) rows.push(peakRow); else rows.splice(at, 0, peakRow);
  const head = ['moment', 'event', 'live', 'committed', 'resident', 'free', 'frag'];
  const cells = rows.map((r) => {
    const free = Math.max(0, r.committed - r.live);
    return [r.moment, String(r.event), iec(r.live), iec(r.committed), iec(r.resident), iec(free), `${pct(free, r.committed)} %`];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((l) => l[c]!.length)));
  const fmt = (l: string[]): string => l.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ').trimEnd();
  return [fmt(head), ...cells.map(fmt),
    'free = committed − live: held by the allocators, not used by the program; frag = free / committed',
  ].join('\n');
}

/** The trim what-if beside the verdict. */
export function trimLine(t: TrimResult, where: string): string {
  return `what ${t.call} would give back ${where} (event ${t.event}): ${iec(t.releasedBytes)} of RSS ` +
    `(${iec(t.residentBeforeBytes)} -> ${iec(t.residentAfterBytes)}), committed ${iec(t.committedBeforeBytes)} -> ${iec(t.committedAfterBytes)}`;
}

/** The details of a verdict: each finding, then the mechanisms that hold the memory. */
export function verdictDetails(v: Diagnosis): string {
  const lines: string[] = [];
  for (const f of v.findings ?? []) lines.push(`${f.kind}: ${f.summary}.`);
  if (!v.findings?.length) lines.push(v.summary);
  const retainedAtMarks = (v as Partial<Verdict>).retainedAtMarks;
  if (retainedAtMarks?.length) {
    lines.push(`retained (committed − live) at each mark: ${retainedAtMarks.map((m) => `${m.label} ${iec(m.bytes)}`).join(', ')}`);
  }
  const causes = v.causes;
  if (causes.length) {
    lines.push('', 'where the committed memory the program does not use is held (at the end):');
    const width = Math.max(...causes.map((c) => c.mechanism.length));
    for (const c of causes) lines.push(`  ${c.mechanism.padEnd(width)}  ${iec(c.bytes).padStart(10)}${c.layer ? `  (${c.layer})` : ''}`);
  }
  return lines.join('\n');
}

/** The diagnosis block: the verdict line, then its details (what `demo` and the playground show). */
export function diagnosisText(d: Diagnosis): string {
  const headline = (d as Partial<Verdict>).headline ?? d.summary;
  return ['=== verdict ===', '', headline, '', verdictDetails(d), ''].join('\n');
}

export interface RunTextOptions {
  /** Full views at every checkpoint instead of the end only. */
  dumps?: boolean;
}

function runHeading(doc: RunDocument, command: string): string {
  const view = doc.platform === 'linux' ? 'Linux view' : doc.platform === 'windows' ? 'WinDbg view' : 'plain view';
  const layers = Array.isArray(doc.layers) && doc.layers.length ? ` on ${doc.layers.join(' on ')}` : '';
  return `heapsim ${command}: ${doc.workload} on ${doc.policy}${layers} (${doc.arch}, profile ${doc.profile ?? 'bare'}` +
    `${doc.seed !== undefined ? `, seed ${doc.seed}` : ''}, ${view}): ${doc.events} events` +
    `${doc.failedOps ? `, ${doc.failedOps} failed ops` : ''}`;
}

/** A whole run as text: verdict first, then the moments, then the details. */
export function formatRunReport(doc: RunDocument, verdict: Diagnosis, options: RunTextOptions = {}, command = 'run'): string {
  const out: string[] = [runHeading(doc, command), ''];
  out.push(`verdict: ${(verdict as Partial<Verdict>).headline ?? verdict.summary}`);
  const atEnd = doc.trimAtEnd as TrimResult | undefined;
  if (atEnd) out.push(trimLine(atEnd, 'at the end'));
  out.push('', momentsTable(doc), '', '=== details ===', '', verdictDetails(verdict));
  const trims = (doc.trims as TrimResult[] | undefined)?.filter((t) => t.at !== 'end') ?? [];
  if (trims.length) {
    out.push('', 'trim what-ifs (--trim-at; the verdict reads the run without them):');
    for (const t of trims) out.push(`  ${trimLine(t, `at ${t.at}`)}`);
  }
  // Program changes made in the run (src/run/edits.ts): the verdict reads the run with them.
  const inRun = (doc.trimsInRun as TrimResult[] | undefined) ?? [];
  if (inRun.length) {
    out.push('', 'trim calls made in the run (--trim-in-run; the verdict reads the run with them):');
    for (const t of inRun) {
      out.push(`  ${t.call} at ${t.at} (event ${t.event}) gave back ${iec(t.releasedBytes)} of RSS (${iec(t.residentBeforeBytes)} -> ${iec(t.residentAfterBytes)}), committed ${iec(t.committedBeforeBytes)} -> ${iec(t.committedAfterBytes)}`);
    }
  }
  const ph = doc.privateHeap as { heap: number; from: string; to: string; blocks: number; bytes: number; createdAtEvent: number; destroyedAtEvent: number } | undefined;
  if (ph) {
    out.push('', `private heap ${ph.heap} (--private-heap ${ph.from}..${ph.to}): ${ph.blocks} blocks, ${iec(ph.bytes)} allocated and freed in the window; `
      + `created at event ${ph.createdAtEvent}, ${ph.destroyedAtEvent >= 0 ? `destroyed at event ${ph.destroyedAtEvent}` : 'never destroyed (the window was not reached)'}`);
  }
  // Each policy's own end-of-run analysis, as the policy words it.
  for (const spec of policySpecs()) {
    if (spec.endOfRun && doc[spec.name] !== undefined) out.push(spec.endOfRun.text(doc[spec.name]).replace(/^\n+|\n+$/g, ''));
  }
  const input = doc.input as { untracedReallocs?: number; implicitFrees?: number } | undefined;
  if (input?.untracedReallocs || input?.implicitFrees) {
    out.push('', `trace: ${input.untracedReallocs ?? 0} untraced reallocs replayed as allocations, ${input.implicitFrees ?? 0} implicit frees`);
  }
  const last = doc.checkpoints[doc.checkpoints.length - 1]!;
  const shown = options.dumps ? doc.checkpoints : [last];
  for (const cp of shown) {
    out.push('', `=== ${cp.label} (event ${cp.event}) ===`, '', platformView(doc, cp));
  }
  return out.join('\n') + '\n';
}

/** The whole run as text with the verdict it carries (runWorkload puts it in `diagnosis`). */
export function formatRunText(doc: RunDocument, options: RunTextOptions = {}): string {
  const verdict = doc.diagnosis ?? { kind: 'none', retainedBytes: 0, causes: [], summary: 'no verdict in this document' };
  return formatRunReport(doc, verdict, options);
}
