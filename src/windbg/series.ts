// Parsed dumps as a diagnosis series. A dump does not say what the program holds, so heapsim
// takes busy = Commit − Free: per heap from `!heap -s`, and for the process the committed bytes
// of `!address -summary` minus the free bytes of all listed heaps. What a missing section takes
// away is said in the notes, and the verdict is limited to what the rest shows.
import type { Diagnosis } from '../report/types.js';
import { deriveCauses, diagnose, formatMB } from '../report/diagnose.js';
import type { DiagnoseOptions, SeriesPoint } from '../report/diagnose.js';
import { externalFragmentationPct, KB } from '../report/windbg-numbers.js';
import type { WindbgSnapshot } from './parse.js';
import { heapAddressText } from './parse.js';

/** How busy bytes of parsed dumps are obtained (appended to summaries). */
export const DUMP_BUSY_NOTE = 'a dump does not show what the program holds, so busy = committed − heap Free for the process and Commit − Free per heap';

export function heapIdOf(address: number | undefined, arch: 'x86' | 'x64' | undefined, index: number): string {
  return address === undefined ? `heap#${index}` : heapAddressText(address, arch);
}

export interface DumpSeries {
  series: SeriesPoint[];
  /** Where the process figures came from, and what could not be told, for the reader. */
  notes: string[];
  /** False when some snapshot has no heap table, so busy bytes are unknown. */
  busyKnown: boolean;
}

const quoted = (labels: string[]): string => labels.map((l) => `"${l}"`).join(', ');

export function seriesFromSnapshots(snapshots: readonly WindbgSnapshot[]): DumpSeries {
  const notes: string[] = [];
  const withState = snapshots.filter((s) => s.address?.state !== undefined);
  const allState = withState.length === snapshots.length;
  const hasHeaps = (s: WindbgSnapshot): boolean => s.heaps.length > 0 || s.segmentHeaps.length > 0;
  const busyKnown = snapshots.every((s) => s.heaps.length > 0);
  if (!allState) {
    const lacking = snapshots.filter((s) => s.address?.state === undefined);
    const withAddress = lacking.filter((s) => s.address !== undefined).map((s) => s.label);
    const what = snapshots.every(hasHeaps) ? 'process figures are the sums of the listed heaps' : 'committed memory of the process is unknown';
    if (withAddress.length > 0) notes.push(`no State Summary in ${quoted(withAddress)}: ${what}`);
    else notes.push(`no !address -summary in ${quoted(lacking.map((s) => s.label))}: ${what}`);
  }
  if (snapshots.some((s) => s.heapsOmitted)) notes.push('some !heap -s tables left heaps out ([...]); heap sums cover the listed heaps only');
  if (snapshots.some((s) => s.segmentHeaps.length > 0)) notes.push('segment heaps have no Free column; their committed bytes count as busy');
  const series = snapshots.map((s): SeriesPoint => {
    const heapFree = s.heaps.reduce((a, h) => a + h.freeBytes, 0);
    const heapCommitted = s.heaps.reduce((a, h) => a + h.committedBytes, 0) + s.segmentHeaps.reduce((a, h) => a + h.committedBytes, 0);
    const heapReserved = s.heaps.reduce((a, h) => a + h.reservedBytes, 0) + s.segmentHeaps.reduce((a, h) => a + h.reservedBytes, 0);
    const state = allState ? s.address!.state! : undefined;
    const committed = state ? state.commit.bytes : heapCommitted;
    const reserved = state ? state.commit.bytes + state.reserve.bytes : heapReserved;
    return {
      label: s.label,
      committedBytes: committed,
      reservedBytes: reserved,
      busyBytes: Math.max(0, committed - heapFree),
      freeBytes: heapFree,
      heaps: s.heaps.map((h, i) => ({
        id: heapIdOf(h.address, s.arch, i),
        reservedBytes: h.reservedBytes,
        committedBytes: h.committedBytes,
        busyBytes: h.busyBytes,
        freeBytes: h.freeBytes,
      })),
    };
  });
  return { series, notes, busyKnown };
}

/** What a single dump shows, when there is nothing to compare it with. */
function oneDumpSummary(s: WindbgSnapshot): string {
  const parts: string[] = [];
  const heaps = s.heaps;
  if (heaps.length > 0) {
    const commit = heaps.reduce((a, h) => a + h.committedBytes, 0);
    const free = heaps.reduce((a, h) => a + h.freeBytes, 0);
    const top = [...heaps].sort((a, b) => b.committedBytes - a.committedBytes)[0]!;
    parts.push(`the heaps hold ${formatMB(commit)} committed, ${formatMB(free)} of it free (${externalFragmentationPct(free, commit)} %); ` +
      `the largest is ${heapIdOf(top.address, s.arch, 0)} with ${Math.floor(top.committedBytes / KB)} K committed, ${Math.floor(top.freeBytes / KB)} K free`);
  }
  const state = s.address?.state;
  if (state) parts.push(`the process has ${formatMB(state.commit.bytes)} committed and ${formatMB(state.reserve.bytes)} reserved`);
  const stat = s.sizeStats.find((x) => x.rows.length > 0);
  if (stat) {
    const r = stat.rows[0]!;
    parts.push(`in heap ${stat.heapText ?? '?'} the commonest size, ${r.sizeBytes} bytes (0x${r.sizeBytes.toString(16)}) × ${r.blocks} blocks, holds ${r.pct ?? '?'} % of the busy bytes`);
  }
  return parts.length > 0 ? `${parts.join('; ')}.` : '';
}

/**
 * Diagnoses parsed dumps. Without a heap table in every snapshot the free bytes, and so the busy
 * bytes, are unknown; then the verdict is `none` with a summary that says what is undetermined.
 */
export function diagnoseSnapshots(snapshots: readonly WindbgSnapshot[], options: DiagnoseOptions = {}): Diagnosis {
  const { series, notes, busyKnown } = seriesFromSnapshots(snapshots);
  if (snapshots.length === 1) {
    const what = oneDumpSummary(snapshots[0]!);
    return {
      kind: 'none',
      retainedBytes: 0,
      causes: options.causes ?? deriveCauses(series),
      summary: `undetermined: one dump cannot tell a leak from a peak; paste !address -summary and !heap -s of a second dump taken later. ${what}`.trim(),
    };
  }
  if (!busyKnown) {
    const missing = snapshots.filter((s) => s.heaps.length === 0).map((s) => s.label);
    return {
      kind: 'none',
      retainedBytes: 0,
      causes: options.causes ?? deriveCauses(series),
      summary: `undetermined: ${quoted(missing)} ha${missing.length === 1 ? 's' : 've'} no !heap -s rows, so heapsim cannot tell ` +
        `memory the program holds from memory the heap keeps free; add !heap -s output for every dump.${notes.length > 0 ? ` Note: ${notes.join('; ')}.` : ''}`,
    };
  }
  const d = diagnose(series, { ...options, busyNote: options.busyNote ?? DUMP_BUSY_NOTE });
  if (notes.length > 0) d.summary += ` Note: ${notes.join('; ')}.`;
  return d;
}
