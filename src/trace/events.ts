// === Trace event model ===
//
// Every reader turns its format into calls on an EventSink. Blocks are named by dense ids: the
// address formats (mtrace, ltrace, logalloc) and malloc-lab `.rep` traces go through an
// AddressMapper that assigns them; heapsim's own formats carry the ids explicitly.
//
// Counting rule, the same in every command: one event per allocator call in the trace. A call
// that produces no heap operation (free of an unknown pointer, double free, failed allocation,
// free(NULL), a call whose result the trace does not show) is still an event: a `skip`.
// Marks, ticks, thread switches, thread ends and implicit frees are not events. Events are numbered from 1, so
// "after event k" means once k allocator calls have been replayed.
//
// Pointers the trace did not see, replayed as the program lived them (the same rule in every reader,
// applied by the Ledger):
// - an untraced realloc (a realloc of a pointer the trace never allocated: the trace began after
//   it) allocates the new block of the new size; the old block was never in the simulated heap.
// - an implicit free: an allocation that returns an address (or id) the trace still has live frees
//   the older block first; the real allocator could hand the address out again only after a free
//   the trace did not show.

/** Why an allocator call in the trace produced no heap operation. */
export const SKIP_UNMATCHED_FREE = 0;    // free of a pointer never allocated in the trace (trace began mid-run)
export const SKIP_UNMATCHED_REALLOC = 1; // realloc of a pointer never allocated in the trace (older
                                         // traces; readers now replay it as an untraced realloc)
export const SKIP_DOUBLE_FREE = 2;       // free or realloc of a block already freed
export const SKIP_FAILED_ALLOC = 3;      // an allocation or realloc that returned NULL (old block kept)
export const SKIP_FREE_NULL = 4;         // free(NULL): a no-op call
export const SKIP_UNKNOWN_RESULT = 5;    // the trace does not show the call's result (ltrace posix_memalign, no return)
export const SKIP_REASON_COUNT = 6;

/** Names used in the text format, in `--json` output and in messages; index = reason code. */
export const SKIP_REASON_NAMES: readonly string[] = [
  'unmatched-free',
  'unmatched-realloc',
  'double-free',
  'failed-alloc',
  'free-null',
  'unknown-result',
];

/** No caller known (the format has none, or the line did not name one). */
export const NO_CALLER = -1;

/**
 * Receives validated block events. Ids name live blocks: `alloc`/`calloc`/`alignedAlloc` take an
 * id that is not live, `realloc`/`free` one that is. Sizes and alignments are integer bytes.
 */
export interface EventSink {
  alloc(id: number, sizeBytes: number, caller: number): void;
  /** `sizeBytes` is the total, count × element size. */
  calloc(id: number, sizeBytes: number, caller: number): void;
  /** `alignBytes` is a power of two. */
  alignedAlloc(id: number, sizeBytes: number, alignBytes: number, caller: number): void;
  /** Resizes a live block; the block keeps its id. `sizeBytes` > 0 (realloc(p, 0) arrives as free). */
  realloc(id: number, sizeBytes: number, caller: number): void;
  /** A realloc of a block the trace never allocated: `id` (not live) becomes a block of `sizeBytes`. One event. */
  untracedRealloc(id: number, sizeBytes: number, caller: number): void;
  free(id: number): void;
  /** A live block freed because its address was handed out again (not an event; see above). */
  implicitFree(id: number): void;
  /** One allocator call that produced no heap operation; `reason` is a SKIP_* code. */
  skip(reason: number): void;
  /** A labelled checkpoint; `label` indexes the ledger's label table. Not an event. */
  mark(label: number): void;
  /** Simulated time passes; `delta` in the trace's time unit. Not an event. */
  tick(delta: number): void;
  /** The following events come from thread `tid` (formats that record threads). Not an event. */
  thread(tid: number): void;
  /**
   * Thread `tid` has exited (formats that record it: heapsim's own). The allocator lets go of what
   * it kept for the thread (glibc flushes its tcache and frees its arena for the next thread). A
   * later event from the same id comes from a new thread. Not an event.
   */
  threadEnd(tid: number): void;
}

/** Formats heapsim reads. */
export const FORMAT_NAMES = ['hst', 'text', 'mtrace', 'ltrace', 'logalloc', 'rep'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** 2^64: no alignment is larger (a bigger value is refused by the ledger anyway). */
const MAX_ALIGNMENT = 2 ** 64;

/** Rounds an alignment up to a power of two, at least 1 (glibc's memalign rounds up the same way). */
export function powerOfTwoAlignment(alignBytes: number): number {
  let p = 1;
  while (p < alignBytes && p < MAX_ALIGNMENT) p *= 2;
  return p;
}
