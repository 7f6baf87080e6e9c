// A quiet point as the run options take it (catalogue entries and advise share it; a separate
// module so the catalogues do not import advise.ts, which imports them).
import type { TrimPoint } from '../run/trim-at.js';
import type { QuietPoint } from './remedy.js';

/** A quiet point as a trim point: a mark label or an event number. */
export function pointOf(q: QuietPoint): TrimPoint {
  return { at: q.at, ...(/^\d+$/.test(q.at) ? { event: q.event } : { mark: q.at }), padBytes: 0 };
}
