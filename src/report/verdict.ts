// The verdict of a run: is this the program's leak or the allocator's, decided over the whole run
// (start, the exact peak, the end, and the marks when there are any) from two sets of figures that
// never mix: the program's live bytes (what it asked for and has not freed, counted apart from
// every policy) and the allocator stack's committed and resident bytes (what it holds from the OS).
//
// With live L, committed C, resident R at a moment, the retained bytes are C − L: what the allocators
// hold that the program does not use. The basis B is R for Linux policies (RSS is what Linux shows
// and what malloc_trim's madvise lowers) and C elsewhere (commit charge is what Windows shows).
// significant = max(minBytes, peakFraction × the exact peak of C). The reference moment `ref` is the
// first mark when the run has two marks or more (the user's "before"), else the start.
//
//   out-of-memory  some allocation failed (the policy refused it: address space, or a size it cannot
//                  serve). The replay went on; the program's figures count the failed blocks as live.
//   second-order   B − L at the end ≥ significant, and the program freed ≥ significant since its live
//                  peak (the memory stays large after live bytes fall). Bytes: C − L at the end.
//   first-order    L(end) − L(ref) ≥ significant and ≥ liveStaysFraction × (live peak − L(ref)):
//                  live bytes grew and did not come back. Bytes: that growth.
//   none           none of these.
// Both leaks can be present: `findings` lists each, `kind` names the larger; out-of-memory comes
// first whenever an allocation failed. Every threshold is named here, documented in
// docs/verdict.md and settable with `heapsim run --threshold NAME=VALUE`.
import type { DiagnosisCause, DiagnosisKind, Diagnosis, FailureInfo, Finding, PeakValue } from './types.js';
import { iec, pct } from './units.js';
import type { Moment } from './moments.js';

const MiB = 1024 * 1024;

export interface VerdictThresholds {
  /** Smallest amount, in bytes, a leak must hold to be a finding… */
  minBytes: number;
  /** …and the smallest share of the exact peak of committed bytes it must hold (0.10 = 10 %). */
  peakFraction: number;
  /** First-order: the live growth kept at the end must be at least this share of the growth to the live peak. */
  liveStaysFraction: number;
}

export const DEFAULT_VERDICT_THRESHOLDS: Readonly<VerdictThresholds> = Object.freeze({
  minBytes: MiB,
  peakFraction: 0.1,
  liveStaysFraction: 0.75,
});

/** One line per threshold, for --help and docs. */
export const VERDICT_THRESHOLD_HELP: Readonly<Record<keyof VerdictThresholds, string>> = Object.freeze({
  minBytes: 'a leak must hold at least this many bytes to be a finding (sizes take K/M/G)',
  peakFraction: '...and at least this share of the peak committed bytes (0..1)',
  liveStaysFraction: 'first-order: the live growth kept at the end, as a share of the growth to the live peak (0..1)',
});

/** One moment of the run, as the verdict reads it. */
export type VerdictMoment = Moment;

export interface NeverFreedGroup { key: string | number; blocks: number; bytes: number }

export interface VerdictInput {
  platform: 'linux' | 'windows' | 'any';
  start: VerdictMoment;
  /** The user's marks in order (not the periodic checkpoints, not the end). */
  marks: VerdictMoment[];
  end: VerdictMoment;
  /** The moment of the exact committed peak. */
  peak: VerdictMoment;
  /** The exact peak of the program's live bytes. */
  livePeak: PeakValue;
  failures?: { count: number; bytes: number; first: FailureInfo | null };
  /** The mechanisms holding committed-but-unused memory at the end (policy retention causes). */
  causes?: DiagnosisCause[];
  /** A trace's never-freed blocks by caller (empty when the format has no callers). */
  topCallers?: NeverFreedGroup[];
}

export interface Verdict extends Diagnosis {
  findings: Finding[];
  /** The one line the report starts with: kind, bytes, where. */
  headline: string;
  thresholds: VerdictThresholds;
  /** max(minBytes, peakFraction × peak committed). */
  significantBytes: number;
  /** The moment growth is measured from: the first mark (two marks or more) or the start. */
  reference: string;
  /** Committed − live at the end, and at each mark. */
  retainedAtEndBytes: number;
  retainedAtMarks: { label: string; event: number; bytes: number }[];
  /** Linux policies: resident − live at the end (what RSS keeps that the program does not use). */
  retainedResidentAtEndBytes?: number;
  /** Share of the committed growth from the reference to the peak still committed at the end, %. */
  peakGrowthHeldPct: number;
  /** Live bytes at the end minus at the reference. */
  liveGrowthBytes: number;
}

const FAIL_REASON_TEXT: Record<FailureInfo['reason'], string> = {
  'address-space': 'address space exhausted',
  'policy-limit': 'the policy refused the size',
};

const retainedOf = (m: VerdictMoment): number => Math.max(0, m.committedBytes - m.liveBytes);

/** Decides the verdict. Pure: the same input gives the same verdict. */
export function decideVerdict(input: VerdictInput, thresholds: Partial<VerdictThresholds> = {}): Verdict {
  const t: VerdictThresholds = { ...DEFAULT_VERDICT_THRESHOLDS, ...thresholds };
  const { start, end, peak, marks } = input;
  const linux = input.platform === 'linux';
  const significant = Math.max(t.minBytes, t.peakFraction * peak.committedBytes);
  const ref = marks.length >= 2 ? marks[0]! : start;

  const retainedEnd = retainedOf(end);
  const basisRetained = Math.max(0, (linux ? end.residentBytes : end.committedBytes) - end.liveBytes);
  const freedSincePeak = input.livePeak.bytes - end.liveBytes;
  const liveGrowth = end.liveBytes - ref.liveBytes;
  const livePeakGrowth = input.livePeak.bytes - ref.liveBytes;
  // The committed peak after the reference (the exact one, or the highest later moment when the
  // exact peak came before the reference, e.g. an earlier busy period before the `before` mark).
  const later = peak.event >= ref.event ? peak
    : [...marks, end].filter((m) => m.event >= ref.event).reduce((a, m) => (m.committedBytes > a.committedBytes ? m : a), end);
  const peakGrowth = later.committedBytes - ref.committedBytes;
  const held = peakGrowth > 0 ? pct(Math.max(0, end.committedBytes - ref.committedBytes), peakGrowth) : 100;

  const secondOrder = basisRetained >= significant && freedSincePeak >= significant;
  const firstOrder = liveGrowth >= significant && liveGrowth >= t.liveStaysFraction * livePeakGrowth;
  const failed = (input.failures?.count ?? 0) > 0;

  const causes = [...(input.causes ?? [])].sort((a, b) => b.bytes - a.bytes);
  const top = causes[0] && causes[0].bytes > 0 ? causes[0] : undefined;
  const where = top ? `, mostly ${top.mechanism}${top.layer ? ` (${top.layer})` : ''}` : '';
  const residentNote = linux ? `; ${iec(Math.max(0, end.residentBytes - end.liveBytes))} of it resident` : '';

  const findings: Finding[] = [];
  if (failed) {
    const f = input.failures!;
    const first = f.first;
    findings.push({
      kind: 'out-of-memory',
      bytes: f.bytes,
      summary: `${f.count} allocation${f.count === 1 ? '' : 's'} failed (${iec(f.bytes)} asked for)` +
        (first ? `, the first at event ${first.event} (${first.sizeBytes} bytes on heap ${first.heap}: ${FAIL_REASON_TEXT[first.reason]})` : '') +
        '; the replay went on, counting the failed blocks as the program\'s',
    });
  }
  if (secondOrder) {
    findings.push({
      kind: 'second-order',
      bytes: retainedEnd,
      summary: `${iec(retainedEnd)} committed that the program no longer uses at "${end.label}"${residentNote}` +
        ` (committed ${iec(end.committedBytes)}, live ${iec(end.liveBytes)}); the program freed ${iec(freedSincePeak)} since its live peak` +
        ` and the allocator kept ${held} % of the committed growth from "${ref.label}" to the peak${where}`,
    });
  }
  if (firstOrder) {
    const callers = (input.topCallers ?? []).slice(0, 3).map((c) => `${c.key} ${iec(c.bytes)} in ${c.blocks} blocks`);
    findings.push({
      kind: 'first-order',
      bytes: liveGrowth,
      summary: `live bytes grew by ${iec(liveGrowth)} from "${ref.label}" to "${end.label}" and did not come back` +
        ` (live peak ${iec(input.livePeak.bytes)} at event ${input.livePeak.event})` +
        (callers.length ? `; never freed, by caller: ${callers.join('; ')}` : ''),
    });
  }
  const leaks = findings.filter((f) => f.kind !== 'out-of-memory').sort((a, b) => b.bytes - a.bytes);
  const kind: DiagnosisKind = failed ? 'out-of-memory' : leaks[0]?.kind ?? 'none';
  findings.sort((a, b) => (a.kind === 'out-of-memory' ? -1 : b.kind === 'out-of-memory' ? 1 : b.bytes - a.bytes));

  let headline: string;
  if (kind === 'out-of-memory') {
    const f = input.failures!;
    headline = `out-of-memory: ${f.count} allocation${f.count === 1 ? '' : 's'} failed` +
      (f.first ? `, the first at event ${f.first.event} (${iec(f.first.sizeBytes)}: ${FAIL_REASON_TEXT[f.first.reason]})` : '') +
      (leaks[0] ? `; also ${leaks[0].kind}, ${iec(leaks[0].bytes)}` : '');
  } else if (kind === 'second-order') {
    headline = `second-order: ${iec(retainedEnd)} retained at the end (committed − live${residentNote})${where}`;
  } else if (kind === 'first-order') {
    headline = `first-order: the program's live bytes grew by ${iec(liveGrowth)} and stayed` +
      (input.topCallers?.[0] ? `, mostly from ${input.topCallers[0].key}` : '');
  } else {
    const why = basisRetained >= significant
      ? `the allocator holds ${iec(basisRetained)} beyond live bytes, but the program never freed as much since its peak`
      : `${iec(basisRetained)} held beyond live bytes at the end, below the ${iec(significant)} threshold`;
    headline = `none: ${why}`;
  }
  const secondary = leaks.length > 1 ? ` Also ${leaks[1]!.kind}: ${iec(leaks[1]!.bytes)}.` : '';
  const summary = findings.length
    ? findings.map((f) => `${f.kind}: ${f.summary}.`).join(' ')
    : `${headline}; committed ${iec(start.committedBytes)} at "${start.label}", peak ${iec(peak.committedBytes)} at event ${peak.event}, ` +
      `${iec(end.committedBytes)} at "${end.label}"; live ${iec(end.liveBytes)} at the end.`;
  return {
    kind,
    retainedBytes: leaks[0]?.bytes ?? 0,
    causes,
    summary: summary + (findings.length ? '' : secondary),
    findings,
    headline,
    thresholds: t,
    significantBytes: Math.round(significant),
    reference: ref.label,
    retainedAtEndBytes: retainedEnd,
    retainedAtMarks: marks.map((m) => ({ label: m.label, event: m.event, bytes: retainedOf(m) })),
    ...(linux ? { retainedResidentAtEndBytes: Math.max(0, end.residentBytes - end.liveBytes) } : {}),
    peakGrowthHeldPct: held,
    liveGrowthBytes: liveGrowth,
  };
}
