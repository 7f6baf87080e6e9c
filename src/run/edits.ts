// Changes to the program that a run makes in the measured run itself, unlike `--trim-at`'s
// what-ifs (trim-at.ts), which run beside it and never reach the verdict. They are what `advise`
// ranks as remedies a program can adopt:
//
// - `trimInRun`: the library's own "give memory back now" call (malloc_trim(0), HeapCompact, …:
//   the policy's trimName) at a mark or after an event, as if the program called it there;
// - `privateHeap`: the peak's allocations on a heap of their own, created at the quiet point
//   before the peak and destroyed at the quiet point after it (HeapCreate / HeapDestroy). "The
//   peak's allocations" are the blocks the program allocates between the two points and frees
//   before the second one: what a program would put on a scratch heap it can throw away. Blocks
//   allocated there that outlive the window (a session record the service keeps) stay on the
//   program's heap, as they must for the heap to be destroyable. Which blocks those are is read
//   from the input in a first pass (allocationsFreedIn), so the run needs an input it can read
//   twice.
//
// Neither changes the event numbering: a TRIM op and the heap index of an op are not events.
import { Op, OP_WORDS, FREE_IMPLICIT } from '../engine/abi.js';
import { OpBuffer } from '../engine/ops.js';
import { UsageError } from '../errors.js';
import { END_MARK, type TrimPoint } from './trim-at.js';

/** The window of `privateHeap`: from the quiet point before the peak to the one after it. */
export interface PrivateHeapWindow {
  from: TrimPoint;
  to: TrimPoint;
}

export type EditAction =
  | { kind: 'trim'; point: TrimPoint }
  | { kind: 'private-heap-create' }
  | { kind: 'private-heap-destroy' };

/** Ops to apply, then the actions to perform after them. */
export interface Segment {
  ops: OpBuffer;
  actions: EditAction[];
}

/** Events an op record counts (the engine's rule: one per block call except implicit frees; SKIP carries its count). */
function eventsOf(words: Uint32Array, i: number): number {
  const op = words[i]! & 0xff;
  if (op === Op.FREE) return (words[i]! >>> 16) & FREE_IMPLICIT ? 0 : 1;
  if (op === Op.ALLOC || op === Op.CALLOC || op === Op.ALIGNED_ALLOC || op === Op.REALLOC) return 1;
  if (op === Op.SKIP) return words[i + 2]! + words[i + 3]! * 0x1_0000_0000;
  return 0;
}

const isAlloc = (op: number): boolean => op === Op.ALLOC || op === Op.CALLOC || op === Op.ALIGNED_ALLOC;
/** Ops that name a live block by id. */
const namesBlock = (op: number): boolean => op === Op.FREE || op === Op.REALLOC || op === Op.TOUCH;

/** Refuses points a program change cannot be made at. */
export function checkEditPoints(trims: readonly TrimPoint[], window: PrivateHeapWindow | undefined): void {
  for (const p of trims) {
    if (p.mark === END_MARK) throw new UsageError(`--trim-in-run ${p.at}: a call at the end changes nothing the program does (use --trim-at end for the what-if)`);
  }
  if (window) {
    for (const p of [window.from, window.to]) {
      if (p.mark === END_MARK) throw new UsageError(`--private-heap: '${p.at}' is the end of the run; the window ends at a quiet point before it`);
    }
    if (window.from.event !== undefined && window.to.event !== undefined && window.to.event <= window.from.event) {
      throw new UsageError(`--private-heap ${window.from.at}..${window.to.at}: the window must end after it starts`);
    }
  }
}

interface Trigger {
  point: TrimPoint;
  action: EditAction;
  done: boolean;
}

/**
 * Cuts batches where an action falls and routes the peak's allocations to the private heap.
 * `transient` holds the ordinals (0, 1, … among heap 0's allocations inside the window) of the
 * allocations to route; without it (the first pass) nothing is routed and `freedInWindow` fills.
 */
export class ProgramEdits {
  private readonly triggers: Trigger[];
  private events = 0;
  private first = true;
  private inWindow = false;
  private windowClosed = false;
  private ordinal = 0;
  private destroyed = false;
  /** Ids of live blocks on the private heap. */
  private readonly privateIds = new Set<number>();
  /** First pass: id -> ordinal of blocks allocated in the window and not yet freed. */
  private readonly open = new Map<number, number>();
  /** First pass: ordinals of the window's allocations freed before it closed. */
  readonly freedInWindow = new Set<number>();
  /** What the private heap held and did, for the run document. */
  readonly privateHeapLog = { blocks: 0, bytes: 0, createdAtEvent: -1, closedAtEvent: -1, destroyedAtEvent: -1 };

  constructor(trims: readonly TrimPoint[], private readonly window: PrivateHeapWindow | undefined,
    private readonly labels: readonly string[], private readonly privateHeap: number,
    private readonly transient?: ReadonlySet<number>) {
    this.triggers = trims.map((point) => ({ point, action: { kind: 'trim', point } as EditAction, done: false }));
    if (window) {
      this.triggers.push({ point: window.from, action: { kind: 'private-heap-create' }, done: false });
      this.triggers.push({ point: window.to, action: { kind: 'private-heap-destroy' }, done: false });
    }
  }

  /** True when nothing is left to do (later batches pass through as they are). */
  get finished(): boolean {
    return this.triggers.every((t) => t.done) && !this.privateIds.size && (!this.window || this.destroyed || !this.transient);
  }

  /** Actions whose point has just been reached (`mark`: right after the mark with that label). */
  private fire(which: 'event' | 'mark', markLabel?: string): EditAction[] {
    const out: EditAction[] = [];
    for (const t of this.triggers) {
      if (t.done) continue;
      const p = t.point;
      const hit = which === 'event' ? p.event !== undefined && this.events >= p.event : p.mark === markLabel;
      // The window's end waits for its start (a mark can come before the event that opens it).
      if (!hit || (t.action.kind === 'private-heap-destroy' && !this.inWindow)) continue;
      t.done = true;
      if (t.action.kind === 'private-heap-create') {
        this.inWindow = true;
        this.privateHeapLog.createdAtEvent = this.events;
        if (this.transient) out.push(t.action);
      } else if (t.action.kind === 'private-heap-destroy') {
        this.inWindow = false;
        this.windowClosed = true;
        this.open.clear();
        this.privateHeapLog.closedAtEvent = this.events;
        // Destroyed once empty: by construction at the window's end (every routed block was freed in it).
        if (this.transient && !this.privateIds.size) out.push(this.destroy());
      } else {
        out.push(t.action);
      }
    }
    return out;
  }

  private destroy(): EditAction {
    this.destroyed = true;
    this.privateHeapLog.destroyedAtEvent = this.events;
    return { kind: 'private-heap-destroy' };
  }

  /** The batch as segments: ops, then the actions due after them. */
  split(batch: OpBuffer): Segment[] {
    const segments: Segment[] = [];
    let cur = new OpBuffer(Math.max(1, batch.length));
    const cut = (actions: EditAction[]): void => {
      if (!actions.length) return;
      segments.push({ ops: cur, actions });
      cur = new OpBuffer(Math.max(1, batch.length));
    };
    if (this.first) { this.first = false; cut(this.fire('event')); } // a point at event 0
    const w = batch.words;
    for (let k = 0; k < batch.length; k++) {
      const i = k * OP_WORDS;
      let w0 = w[i]!;
      const op = w0 & 0xff;
      const heap = (w0 >>> 8) & 0xff;
      const id = w[i + 1]!;
      if (heap === 0 && this.window) w0 = this.route(op, w0, id, w[i + 2]! + w[i + 3]! * 0x1_0000_0000);
      const o = cur.length * OP_WORDS;
      cur.words[o] = w0;
      cur.words[o + 1] = id;
      cur.words[o + 2] = w[i + 2]!;
      cur.words[o + 3] = w[i + 3]!;
      cur.length++;
      const n = eventsOf(w, i);
      const actions: EditAction[] = [];
      if (n) { this.events += n; actions.push(...this.fire('event')); }
      if (op === Op.MARK) actions.push(...this.fire('mark', this.labels[w0 >>> 16]));
      if (this.windowClosed && this.transient && !this.destroyed && !this.privateIds.size && this.privateHeapLog.createdAtEvent >= 0) actions.push(this.destroy());
      cut(actions);
    }
    if (cur.length) segments.push({ ops: cur, actions: [] });
    return segments;
  }

  /** Heap 0's op as it runs: on the private heap when it is one of the peak's blocks. */
  private route(op: number, w0: number, id: number, sizeBytes: number): number {
    const toPrivate = (): number => ((w0 & ~0xff00) | (this.privateHeap << 8)) >>> 0;
    if (isAlloc(op)) {
      if (!this.inWindow) return w0;
      const k = this.ordinal++;
      if (!this.transient) { this.open.set(id, k); return w0; }
      if (!this.transient.has(k)) return w0;
      this.privateIds.add(id);
      this.privateHeapLog.blocks++;
      this.privateHeapLog.bytes += sizeBytes;
      return toPrivate();
    }
    if (!namesBlock(op)) return w0;
    if (!this.transient) {
      if (op === Op.FREE && this.inWindow) {
        const k = this.open.get(id);
        if (k !== undefined) { this.freedInWindow.add(k); this.open.delete(id); }
      }
      return w0;
    }
    if (!this.privateIds.has(id)) return w0;
    if (op === Op.FREE) this.privateIds.delete(id);
    return toPrivate();
  }
}

/**
 * The first pass of `privateHeap`: the ordinals of the window's allocations that the program
 * frees inside the window (the blocks the private heap takes).
 */
export async function allocationsFreedIn(batches: Iterable<OpBuffer> | AsyncIterable<OpBuffer>, window: PrivateHeapWindow, labels: readonly string[]): Promise<Set<number>> {
  const pass = new ProgramEdits([], window, labels, 0);
  for await (const b of batches) pass.split(b);
  return pass.freedInWindow;
}
