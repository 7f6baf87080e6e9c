// The moments of a run as the verdict and the reports read them: the program's live bytes and
// the allocator stack's committed and resident bytes at the start, at each checkpoint, at the
// exact committed peak and at the end.
import type { Checkpoint, RunDocument } from './types.js';

/** The mark every run has: after its last event. */
export const END_MARK = 'end';

export interface Moment {
  label: string;
  event: number;
  /** The program's live bytes (what it asked for and has not freed, under any policy). */
  liveBytes: number;
  /** The allocator stack's committed bytes (every region a heap owns). */
  committedBytes: number;
  residentBytes: number;
}

/** A checkpoint as a moment. */
export function momentOf(cp: Checkpoint): Moment {
  if (cp.program) {
    return {
      label: cp.label, event: cp.event, liveBytes: cp.program.liveBytes,
      committedBytes: cp.program.heapsCommittedBytes, residentBytes: cp.program.heapsResidentBytes,
    };
  }
  // A document from before the program counters: the heaps' own figures (roots only for committed).
  const heaps = cp.heaps ?? [cp.heap];
  const roots = heaps.filter((h) => typeof h.parent !== 'number' || h.parent < 0);
  const top = heaps.find((h) => (h.heap ?? 0) === 0) ?? cp.heap;
  return {
    label: cp.label, event: cp.event, liveBytes: top.requestedBytes ?? top.busyBytes,
    committedBytes: roots.reduce((a, h) => a + h.committedBytes, 0),
    residentBytes: roots.reduce((a, h) => a + (h.residentBytes ?? 0), 0),
  };
}

/** A periodic checkpoint (`--every`, labelled `#<event>`), as opposed to a mark. */
export function isPeriodic(cp: Checkpoint): boolean {
  return cp.label.startsWith('#');
}

/** The user's marks of a run: labelled checkpoints other than the `end` the run adds. */
export function userMarks(doc: RunDocument): Checkpoint[] {
  const last = doc.checkpoints[doc.checkpoints.length - 1];
  return doc.checkpoints.filter((cp) => !isPeriodic(cp) && !(cp === last && cp.label === END_MARK));
}

/** The moment of the exact committed peak (live and resident as they were then). */
export function peakMoment(doc: RunDocument): Moment {
  const end = momentOf(doc.checkpoints[doc.checkpoints.length - 1]!);
  const p = doc.peaks?.committedBytes;
  if (!p || !doc.program) {
    const all = [doc.start, ...doc.checkpoints].filter((c): c is Checkpoint => c !== undefined).map(momentOf);
    return all.reduce((a, m) => (m.committedBytes > a.committedBytes ? m : a), end);
  }
  return {
    label: 'committed peak', event: p.event, committedBytes: p.bytes,
    liveBytes: doc.program.atCommittedPeak.liveBytes, residentBytes: doc.program.atCommittedPeak.residentBytes,
  };
}
