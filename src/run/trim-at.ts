// `run --trim-at`: the what-if people try first in production. A malloc_trim(pad) (the engine's
// TRIM op: HeapCompact for NT-like policies) is spliced into the op stream at an event number or
// at a mark, between two extra marks, so the run reports the heap just before and just after it.
import { Op, OP_WORDS } from '../engine/abi.js';
import { OpBuffer } from '../engine/ops.js';
import { UsageError } from '../errors.js';
import type { Checkpoint, HeapCounters } from '../report/types.js';

export interface TrimPoint {
  /** As the user wrote it (an event number or a mark label). */
  at: string;
  /** Trim once this many events have run… */
  event?: number;
  /** …or right after the first mark with this label. */
  mark?: string;
  padBytes: number;
}

export interface TrimResult {
  at: string;
  /** Event number where the trim ran (undefined: the run never got there). */
  event?: number;
  residentBeforeBytes?: number;
  residentAfterBytes?: number;
  /** Resident bytes the trim gave back. */
  releasedBytes?: number;
  committedBeforeBytes?: number;
  committedAfterBytes?: number;
}

/** `--trim-at 12000` (after event 12000) or `--trim-at peak` (at the mark `peak`). */
export function parseTrimAt(text: string, padBytes = 0): TrimPoint {
  const t = text.trim();
  if (!t) throw new UsageError('--trim-at wants an event number or a mark label');
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (!Number.isSafeInteger(n)) throw new UsageError(`--trim-at event '${t}' is too large`);
    return { at: t, event: n, padBytes };
  }
  return { at: t, mark: t, padBytes };
}

export function trimLabels(p: TrimPoint): { before: string; after: string } {
  return { before: `trim-at ${p.at}: before`, after: `trim-at ${p.at}: after` };
}

/** Events an op record counts (the engine's rule: one per block call, SKIP carries its count). */
function eventsOf(words: Uint32Array, i: number): number {
  const op = words[i]! & 0xff;
  if (op === Op.ALLOC || op === Op.CALLOC || op === Op.ALIGNED_ALLOC || op === Op.REALLOC || op === Op.FREE) return 1;
  if (op === Op.SKIP) return words[i + 2]! + words[i + 3]! * 0x1_0000_0000;
  return 0;
}

/**
 * Copies `batches`, adding MARK(before), TRIM(heap, pad), MARK(after) at each trim point.
 * `labelIndex` maps a label to its engine index; `labels` are the workload's mark labels.
 */
export async function* withTrims(
  batches: Iterable<OpBuffer> | AsyncIterable<OpBuffer>, points: TrimPoint[], labels: readonly string[],
  labelIndex: (name: string) => number, heap = 0,
): AsyncGenerator<OpBuffer> {
  const pending = points.map((p) => ({ p, l: trimLabels(p), done: false }));
  let events = 0;
  const splice = (out: OpBuffer, which: 'event' | 'mark', markLabel?: string): OpBuffer => {
    for (const q of pending) {
      if (q.done) continue;
      const hit = which === 'event' ? q.p.event !== undefined && events >= q.p.event : q.p.mark === markLabel;
      if (!hit) continue;
      q.done = true;
      out = ensure(out, 3);
      out.mark(labelIndex(q.l.before));
      out.trim(heap, q.p.padBytes);
      out.mark(labelIndex(q.l.after));
    }
    return out;
  };
  let first = true;
  for await (const batch of batches as AsyncIterable<OpBuffer>) {
    let out = new OpBuffer(batch.length + 3 * points.length + 3);
    if (first) { out = splice(out, 'event'); first = false; } // --trim-at 0
    const w = batch.words;
    for (let k = 0; k < batch.length; k++) {
      const i = k * OP_WORDS;
      out = ensure(out, 1);
      const op = w[i]! & 0xff;
      // A mark is renumbered by its name: the engine's label table also holds the trim labels.
      const arg = op === Op.MARK ? labelIndex(labels[w[i]! >>> 16] ?? `mark-${w[i]! >>> 16}`) : w[i]! >>> 16;
      out.push(op, (w[i]! >>> 8) & 0xff, arg, w[i + 1]!, w[i + 2]! + w[i + 3]! * 0x1_0000_0000);
      const n = eventsOf(w, i);
      if (n) { events += n; out = splice(out, 'event'); }
      if ((w[i]! & 0xff) === Op.MARK) out = splice(out, 'mark', labels[w[i]! >>> 16]);
    }
    yield out;
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

/** Before/after figures of each trim point, from the run's checkpoints (heap `heap`). */
export function trimResults(points: TrimPoint[], checkpoints: Checkpoint[], heap = 0): TrimResult[] {
  return points.map((p) => {
    const l = trimLabels(p);
    const before = checkpoints.find((c) => c.label === l.before);
    const after = checkpoints.find((c) => c.label === l.after);
    if (!before || !after) return { at: p.at };
    const hb = heapOf(before, heap), ha = heapOf(after, heap);
    const rb = hb.residentBytes ?? 0, ra = ha.residentBytes ?? 0;
    return {
      at: p.at, event: before.event, residentBeforeBytes: rb, residentAfterBytes: ra, releasedBytes: rb - ra,
      committedBeforeBytes: hb.committedBytes, committedAfterBytes: ha.committedBytes,
    };
  });
}
