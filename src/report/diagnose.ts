// The diagnosis of a series of dumps (`heapsim analyze`): given a series of moments, say
// whether memory leaked at the first order (the program holds more and more: busy bytes grow
// and stay), at the second order (the program gave memory back but the heap or the virtual
// memory layer kept it: committed stays up while busy returns), or not at all.
import type { Checkpoint, Diagnosis, DiagnosisCause, HeapCounters } from './types.js';
import { externalFragmentationPct, KB, MB } from './windbg-numbers.js';

/** One heap at one moment. All sizes in bytes. */
export interface SeriesHeap {
  /** Stable identity across moments, e.g. the heap address as hex. */
  id: string;
  /** Address space the heap has reserved, committed part included (WinDbg Reserv). */
  reservedBytes: number;
  committedBytes: number;
  /** Bytes the program holds. */
  busyBytes: number;
  /** Committed bytes the heap holds as free blocks (WinDbg Free). */
  freeBytes: number;
}

/** The process (or the heaps together) at one moment. All sizes in bytes. */
export interface SeriesPoint {
  label: string;
  committedBytes: number;
  /** Reserved address space, committed part included (for `!address`: MEM_COMMIT + MEM_RESERVE). */
  reservedBytes: number;
  /** Committed bytes the program holds. */
  busyBytes: number;
  /** Committed bytes held free by the heaps. */
  freeBytes: number;
  heaps?: SeriesHeap[];
}

/** The named thresholds of the classification. Defaults in DEFAULT_DIAGNOSIS_THRESHOLDS. */
export interface DiagnosisThresholds {
  /** A growth is significant when it is at least this fraction of the first moment's committed bytes... */
  significantGrowthFraction: number;
  /** ...and at least this many bytes (so a tiny process does not alarm on a few pages). */
  significantGrowthMinBytes: number;
  /** Committed "stays up" when the last moment keeps at least this fraction of the peak's growth. */
  commitStaysUpFraction: number;
  /** Busy "returns to about the earlier level" when its growth at the end is at most this fraction of the committed growth. */
  busyReturnFraction: number;
  /** Busy "stays" when the last moment keeps at least this fraction of busy's peak growth. */
  busyStaysFraction: number;
}

export const DEFAULT_DIAGNOSIS_THRESHOLDS: Readonly<DiagnosisThresholds> = Object.freeze({
  significantGrowthFraction: 0.05,
  significantGrowthMinBytes: MB,
  commitStaysUpFraction: 0.75,
  busyReturnFraction: 0.25,
  busyStaysFraction: 0.75,
});

export interface DiagnoseOptions {
  /**
   * Mechanism breakdown from the caller (e.g. a simulation that knows which bytes sit in free
   * blocks below the decommit threshold, in pinned LFH user blocks, in a pool). When given, it
   * replaces the causes heapsim derives from the series itself.
   */
  causes?: DiagnosisCause[];
  thresholds?: Partial<DiagnosisThresholds>;
  /** How busy bytes were obtained, appended to the summary (e.g. "busy = Commit − Free per heap"). */
  busyNote?: string;
}

/** Mebibytes with one decimal, labelled as such (IEC), for summaries. */
export function formatMB(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MiB`;
}

function signedMB(bytes: number): string {
  return `${bytes >= 0 ? '+' : '−'}${formatMB(Math.abs(bytes))}`;
}

function kb(bytes: number): string {
  return `${Math.floor(bytes / KB)} K`;
}

function heapMap(p: SeriesPoint): Map<string, SeriesHeap> {
  return new Map((p.heaps ?? []).map((h) => [h.id, h]));
}

/**
 * Causes heapsim can justify from the series alone: the heaps' free blocks that are still
 * committed at the last moment, and committed growth of heaps whose reservation did not change
 * (the heap filled its existing address space instead of reserving more, and kept it committed).
 */
export function deriveCauses(series: readonly SeriesPoint[]): DiagnosisCause[] {
  if (series.length === 0) return [];
  const first = series[0]!;
  const last = series[series.length - 1]!;
  const causes: DiagnosisCause[] = [];
  if (last.freeBytes > 0) causes.push({ mechanism: 'free blocks still committed', bytes: last.freeBytes, layer: 'heap' });
  const before = heapMap(first);
  let growth = 0;
  for (const h of last.heaps ?? []) {
    const b = before.get(h.id);
    if (b && b.reservedBytes === h.reservedBytes && h.committedBytes > b.committedBytes) growth += h.committedBytes - b.committedBytes;
  }
  if (growth > 0) causes.push({ mechanism: 'committed growth with unchanged reservation', bytes: growth, layer: 'virtual memory' });
  return causes;
}

function heapEvidence(series: readonly SeriesPoint[]): string[] {
  const first = series[0]!;
  const last = series[series.length - 1]!;
  const before = heapMap(first);
  const rows: Array<{ growth: number; text: string }> = [];
  for (const h of last.heaps ?? []) {
    const b = before.get(h.id);
    if (!b) continue;
    const reservation = b.reservedBytes === h.reservedBytes
      ? `reservation unchanged at ${kb(h.reservedBytes)}`
      : `reservation ${kb(b.reservedBytes)} → ${kb(h.reservedBytes)}`;
    const freePct = externalFragmentationPct(h.freeBytes, h.committedBytes);
    const growth = Math.abs(h.committedBytes - b.committedBytes) + Math.abs(h.freeBytes - b.freeBytes) +
      Math.abs(h.reservedBytes - b.reservedBytes);
    if (growth === 0) continue; // a heap that did not move is no evidence
    rows.push({
      growth,
      text: `heap ${h.id}: ${reservation}; Commit ${kb(b.committedBytes)} → ${kb(h.committedBytes)}; ` +
        `Free ${kb(b.freeBytes)} → ${kb(h.freeBytes)} (${freePct} % of Commit); busy ${kb(b.busyBytes)} → ${kb(h.busyBytes)}`,
    });
  }
  rows.sort((a, b) => b.growth - a.growth);
  return rows.slice(0, 3).map((r) => r.text);
}

/**
 * Classifies a series (oldest first). With c = committed and b = busy, first moment 0, last n,
 * peak = the (last) moment of highest committed, growth G(x) = x(n) − x(0), and the committed
 * growth split into a live part L = max(G(b), 0) and a retained part R = G(c) − L:
 *
 * - second-order when c stays up (G(c) significant and ≥ commitStaysUpFraction × the peak's
 *   growth), R is significant, and busy returned to about the earlier level
 *   (L ≤ busyReturnFraction × G(c)) or at least most of the growth is retained (R ≥ L).
 *   retainedBytes = R.
 * - first-order when G(b) is significant and busy stays (G(b) ≥ busyStaysFraction × busy's peak
 *   growth) or most of the committed growth is live (L > R). retainedBytes = G(b), what the
 *   program still holds beyond the start.
 * - none otherwise (no significant growth, or it was given back), or with fewer than two moments.
 *
 * Significant = at least significantGrowthFraction × c(0) and at least significantGrowthMinBytes.
 */
export function diagnose(series: readonly SeriesPoint[], options: DiagnoseOptions = {}): Diagnosis {
  const t: DiagnosisThresholds = { ...DEFAULT_DIAGNOSIS_THRESHOLDS, ...options.thresholds };
  if (series.length < 2) {
    return {
      kind: 'none',
      retainedBytes: 0,
      causes: options.causes ?? deriveCauses(series),
      summary: `none: ${series.length} moment(s); a leak needs at least two to compare`,
    };
  }
  const first = series[0]!;
  const last = series[series.length - 1]!;
  const peak = series.reduce((a, p) => (p.committedBytes >= a.committedBytes ? p : a), first);
  const busyPeak = series.reduce((a, p) => (p.busyBytes >= a.busyBytes ? p : a), first);
  const significant = Math.max(t.significantGrowthMinBytes, t.significantGrowthFraction * first.committedBytes);

  const commitGrowth = last.committedBytes - first.committedBytes;
  const peakGrowth = peak.committedBytes - first.committedBytes;
  const busyGrowth = last.busyBytes - first.busyBytes;
  const busyPeakGrowth = busyPeak.busyBytes - first.busyBytes;
  const live = Math.max(busyGrowth, 0);
  const retained = commitGrowth - live;
  const commitStaysUp = commitGrowth >= significant && commitGrowth >= t.commitStaysUpFraction * peakGrowth;
  const busyReturned = live <= t.busyReturnFraction * commitGrowth;
  const busyStays = busyGrowth >= t.busyStaysFraction * busyPeakGrowth;

  const span = `"${first.label}" → "${last.label}"`;
  const commitText = `committed ${formatMB(first.committedBytes)} → ${formatMB(last.committedBytes)} (${signedMB(commitGrowth)}` +
    (peak !== last ? `; peak ${formatMB(peak.committedBytes)} at "${peak.label}"` : '') + ')';
  const busyText = `busy ${formatMB(first.busyBytes)} → ${formatMB(last.busyBytes)} (${signedMB(busyGrowth)})`;
  const reservedGrowth = last.reservedBytes - first.reservedBytes;
  const reservedText = `reserved address space ${formatMB(first.reservedBytes)} → ${formatMB(last.reservedBytes)} (${signedMB(reservedGrowth)})`;
  const evidence = heapEvidence(series);
  const tail = (evidence.length > 0 ? ` ${evidence.join('. ')}.` : '') + (options.busyNote ? ` How busy is measured: ${options.busyNote}.` : '');

  let kind: Diagnosis['kind'];
  let retainedBytes: number;
  let head: string;
  if (commitStaysUp && retained >= significant && (busyReturned || retained >= live)) {
    kind = 'second-order';
    retainedBytes = retained;
    const kept = peakGrowth > 0 ? Math.round((commitGrowth / peakGrowth) * 100) : 100;
    const busyPart = busyReturned
      ? `while ${busyText} returned to about the earlier level`
      : `while ${busyText} kept only part of the growth (${formatMB(live)} of it is still in use: a first-order part)`;
    head = `second-order: over ${span} ${commitText} and stayed up (${kept} % of the peak's growth still committed), ` +
      `${busyPart}; ${reservedText}. Retained: ${formatMB(retained)} committed that the program no longer uses.`;
  } else if (busyGrowth >= significant && (busyStays || live > retained)) {
    kind = 'first-order';
    retainedBytes = busyGrowth;
    head = `first-order: over ${span} ${busyText} grew and stayed; ${commitText}; ${reservedText}. ` +
      `The program holds ${formatMB(busyGrowth)} more than at the start` +
      (retained >= significant ? `, and ${formatMB(retained)} more is committed beyond that.` : '.');
  } else {
    kind = 'none';
    retainedBytes = 0;
    const why = peakGrowth >= significant && !commitStaysUp
      ? 'committed memory rose and went back down'
      : commitGrowth < significant && busyGrowth < significant
        ? `no significant growth (threshold ${formatMB(significant)})`
        : 'busy bytes rose and went back down';
    head = `none: ${why}; over ${span} ${commitText}; ${busyText}.`;
  }
  return { kind, retainedBytes, causes: options.causes ?? deriveCauses(series), summary: head + tail };
}

function heapId(h: HeapCounters, index: number): string {
  if (h.address !== undefined) return h.address.toString(16).padStart(8, '0');
  return h.policy !== undefined ? `${h.policy}#${index}` : `heap#${index}`;
}

/**
 * A series from simulation checkpoints. Committed and reserved come from the address summary
 * when it has them, else from the heaps; busy = committed − Σ (heap committed − heap busy), so
 * bytes committed outside the heaps count as busy.
 */
export function seriesFromCheckpoints(checkpoints: readonly Checkpoint[]): SeriesPoint[] {
  return checkpoints.map((cp) => {
    const heaps = cp.heaps && cp.heaps.length > 0 ? cp.heaps : [cp.heap];
    const sum = (f: (h: HeapCounters) => number): number => heaps.reduce((a, h) => a + f(h), 0);
    const heapCommitted = sum((h) => h.committedBytes);
    const committed = cp.address.state.commit > 0 ? cp.address.state.commit : heapCommitted;
    const reserved = cp.address.state.commit + cp.address.state.reserve > 0
      ? cp.address.state.commit + cp.address.state.reserve
      : sum((h) => h.reservedBytes);
    const notBusy = sum((h) => Math.max(0, h.committedBytes - h.busyBytes));
    return {
      label: cp.label,
      committedBytes: committed,
      reservedBytes: reserved,
      busyBytes: Math.max(0, committed - notBusy),
      freeBytes: sum((h) => h.freeBytes),
      heaps: heaps.map((h, i) => ({
        id: heapId(h, i),
        reservedBytes: h.reservedBytes,
        committedBytes: h.committedBytes,
        busyBytes: h.busyBytes,
        freeBytes: h.freeBytes,
      })),
    };
  });
}
