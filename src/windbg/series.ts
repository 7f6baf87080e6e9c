// Parsed dumps as a diagnosis series. A dump does not say what the program holds, so heapsim
// takes busy = Commit − Free: per heap from `!heap -s`, and for the process the committed bytes
// of `!address -summary` minus the free bytes of all listed heaps.
import type { Diagnosis } from '../report/types.js';
import { deriveCauses, diagnose } from '../report/diagnose.js';
import type { DiagnoseOptions, SeriesPoint } from '../report/diagnose.js';
import type { WindbgSnapshot } from './parse.js';

/** How busy bytes of parsed dumps are obtained (appended to summaries). */
export const DUMP_BUSY_NOTE = 'a dump does not show what the program holds, so busy = committed − heap Free for the process and Commit − Free per heap';

export function heapIdOf(address: number | undefined, arch: 'x86' | 'x64' | undefined, index: number): string {
  if (address === undefined) return `heap#${index}`;
  return address.toString(16).padStart(arch === 'x64' ? 16 : 8, '0');
}

export interface DumpSeries {
  series: SeriesPoint[];
  /** Where the process figures came from, for the reader. */
  notes: string[];
  /** False when some snapshot has no `!heap -s`, so busy bytes are unknown. */
  busyKnown: boolean;
}

export function seriesFromSnapshots(snapshots: readonly WindbgSnapshot[]): DumpSeries {
  const notes: string[] = [];
  const allAddress = snapshots.every((s) => s.address !== undefined);
  const busyKnown = snapshots.every((s) => s.lines.heaps !== undefined && s.heaps.length > 0);
  if (!allAddress) notes.push('not every snapshot has !address -summary, so process figures are the sums of the listed heaps');
  if (snapshots.some((s) => s.heapsOmitted)) notes.push('some !heap -s tables left heaps out ([...]); heap sums cover the listed heaps only');
  if (snapshots.some((s) => s.segmentHeaps.length > 0)) notes.push('segment heaps have no Free column; their committed bytes count as busy');
  const series = snapshots.map((s): SeriesPoint => {
    const heapFree = s.heaps.reduce((a, h) => a + h.freeBytes, 0);
    const heapCommitted = s.heaps.reduce((a, h) => a + h.committedBytes, 0) + s.segmentHeaps.reduce((a, h) => a + h.committedBytes, 0);
    const heapReserved = s.heaps.reduce((a, h) => a + h.reservedBytes, 0) + s.segmentHeaps.reduce((a, h) => a + h.reservedBytes, 0);
    const committed = allAddress ? s.address!.state.commit.bytes : heapCommitted;
    const reserved = allAddress ? s.address!.state.commit.bytes + s.address!.state.reserve.bytes : heapReserved;
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

/**
 * Diagnoses parsed dumps. Without `!heap -s` in every snapshot the free bytes, and so the busy
 * bytes, are unknown; then the verdict is `none` with a summary that says it is undetermined.
 */
export function diagnoseSnapshots(snapshots: readonly WindbgSnapshot[], options: DiagnoseOptions = {}): Diagnosis {
  const { series, notes, busyKnown } = seriesFromSnapshots(snapshots);
  if (!busyKnown) {
    const missing = snapshots.filter((s) => s.lines.heaps === undefined || s.heaps.length === 0).map((s) => `"${s.label}"`);
    return {
      kind: 'none',
      retainedBytes: 0,
      causes: options.causes ?? deriveCauses(series),
      summary: `undetermined: ${missing.join(', ')} ha${missing.length === 1 ? 's' : 've'} no !heap -s rows, so heapsim cannot tell ` +
        'memory the program holds from memory the heap keeps free; add !heap -s output for every dump',
    };
  }
  const d = diagnose(series, { ...options, busyNote: options.busyNote ?? DUMP_BUSY_NOTE });
  if (notes.length > 0) d.summary += ` Note: ${notes.join('; ')}.`;
  return d;
}
