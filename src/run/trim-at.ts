// `run --trim-at`: the what-if people try first in production. The library's own "give memory
// back now" call (the engine's TRIM op: malloc_trim(0) for glibc, HeapCompact for the NT heap) is
// made at an event number, at a mark or at the end, between two samples, so the run reports the
// heap just before and just after it.
//
// The trim never changes the verdict: the run the verdict reads has no trim in it. A trim at a mark
// or an event runs on a second engine fed the same batches (src/run/run.ts); a trim at `end` runs on
// the main engine once its end checkpoint is taken.
import { Op, OP_WORDS } from '../engine/abi.js';
import { OpBuffer } from '../engine/ops.js';
import { UsageError } from '../errors.js';
import type { Checkpoint, HeapCounters, TrimResult } from '../report/types.js';
import { END_MARK } from '../report/moments.js';

export type { TrimResult } from '../report/types.js';
export { END_MARK };

export interface TrimPoint {
  /** As the user wrote it (an event number or a mark label). */
  at: string;
  /** Trim once this many events have run… */
  event?: number;
  /** …or right after the first mark with this label (`end`: after the last event). */
  mark?: string;
  padBytes: number;
}


/** `--trim-at 12000` (after event 12000), `--trim-at peak` (at the mark `peak`), `--trim-at end`. */
export function parseTrimAt(text: string, padBytes = 0): TrimPoint {
  const t = text.trim();
  if (!t) throw new UsageError('--trim-at wants an event number, a mark label or end');
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (!Number.isSafeInteger(n)) throw new UsageError(`--trim-at event '${t}' is too large`);
    return { at: t, event: n, padBytes };
  }
  return { at: t, mark: t, padBytes };
}

/** Refuses a point the run cannot reach: a mark the input does not have, an event past its end. */
export function checkTrimPoints(points: readonly TrimPoint[], labels: readonly string[], events: number | undefined, option = '--trim-at'): void {
  for (const p of points) {
    if (p.mark !== undefined && p.mark !== END_MARK && !labels.includes(p.mark)) {
      const known = [...new Set([...labels, END_MARK])].map((l) => `'${l}'`).join(', ');
      throw new UsageError(`${option} ${p.at}: no such mark (this run's marks: ${known}; or an event number)`);
    }
    if (p.event !== undefined && events !== undefined && p.event > events) {
      throw new UsageError(`${option} ${p.at}: the run has only ${events} events (use end, a mark or an event number up to ${events})`);
    }
  }
}

export function trimLabels(p: TrimPoint): { before: string; after: string } {
  return { before: `trim-at ${p.at}: before`, after: `trim-at ${p.at}: after` };
}

/** Events an op record counts (the engine's rule: one per block call except implicit frees, SKIP carries its count). */
function eventsOf(words: Uint32Array, i: number): number {
  const op = words[i]! & 0xff;
  if (op === Op.FREE) return (words[i]! >>> 16) & 1 ? 0 : 1;
  if (op === Op.ALLOC || op === Op.CALLOC || op === Op.ALIGNED_ALLOC || op === Op.REALLOC) return 1;
  if (op === Op.SKIP) return words[i + 2]! + words[i + 3]! * 0x1_0000_0000;
  return 0;
}

/**
 * Copies batches, adding MARK(before), TRIM(heap, pad), MARK(after) at each trim point that is not
 * `end`. `labelIndex` maps a label to its engine index; `labels` are the workload's mark labels
 * (read at each batch: a trace's table grows while it is read).
 */
export class TrimSplicer {
  private readonly pending: { p: TrimPoint; l: { before: string; after: string }; done: boolean }[];
  private events = 0;
  private first = true;

  constructor(points: readonly TrimPoint[], private readonly labels: readonly string[],
    private readonly labelIndex: (name: string) => number, private readonly heap: number) {
    this.pending = points.filter((p) => p.mark !== END_MARK).map((p) => ({ p, l: trimLabels(p), done: false }));
  }

  /** True once every trim point has been passed (the engine running them can stop). */
  get finished(): boolean { return this.pending.every((q) => q.done); }

  private splice(out: OpBuffer, which: 'event' | 'mark', markLabel?: string): OpBuffer {
    for (const q of this.pending) {
      if (q.done) continue;
      const hit = which === 'event' ? q.p.event !== undefined && this.events >= q.p.event : q.p.mark === markLabel;
      if (!hit) continue;
      q.done = true;
      out = ensure(out, 3);
      out.mark(this.labelIndex(q.l.before));
      out.trim(this.heap, q.p.padBytes);
      out.mark(this.labelIndex(q.l.after));
    }
    return out;
  }

  /** The batch with the trims that fall inside it. */
  transform(batch: OpBuffer): OpBuffer {
    let out = new OpBuffer(batch.length + 3 * this.pending.length + 3);
    if (this.first) { out = this.splice(out, 'event'); this.first = false; } // --trim-at 0
    const w = batch.words;
    for (let k = 0; k < batch.length; k++) {
      const i = k * OP_WORDS;
      out = ensure(out, 1);
      const op = w[i]! & 0xff;
      // A mark is renumbered by its name: the engine's label table also holds the trim labels.
      const arg = op === Op.MARK ? this.labelIndex(this.labels[w[i]! >>> 16] ?? `mark-${w[i]! >>> 16}`) : w[i]! >>> 16;
      out.push(op, (w[i]! >>> 8) & 0xff, arg, w[i + 1]!, w[i + 2]! + w[i + 3]! * 0x1_0000_0000);
      const n = eventsOf(w, i);
      if (n) { this.events += n; out = this.splice(out, 'event'); }
      if (op === Op.MARK) out = this.splice(out, 'mark', this.labels[w[i]! >>> 16]);
    }
    return out;
  }
}

function ensure(out: OpBuffer, more: number): OpBuffer {
  if (out.length + more <= out.capacity) return out;
  const bigger = new OpBuffer(Math.max(out.capacity * 2, out.length + more));
  bigger.words.set(out.words.subarray(0, out.length * OP_WORDS));
  bigger.length = out.length;
  return bigger;
}

/** The counters of heap `index` in a checkpoint (heap 0 is also `cp.heap`). */
export function heapOf(cp: Checkpoint, index: number): HeapCounters {
  return cp.heaps?.find((h) => h.heap === index) ?? cp.heap;
}

/** The result of one trim from the checkpoints just before and just after it. */
export function trimResult(p: TrimPoint, call: string, heap: number, before: Checkpoint, after: Checkpoint): TrimResult {
  const hb = heapOf(before, heap), ha = heapOf(after, heap);
  const rb = hb.residentBytes ?? 0, ra = ha.residentBytes ?? 0;
  return {
    at: p.at, call, heap, event: before.event, residentBeforeBytes: rb, residentAfterBytes: ra, releasedBytes: rb - ra,
    committedBeforeBytes: hb.committedBytes, committedAfterBytes: ha.committedBytes, before, after,
  };
}
