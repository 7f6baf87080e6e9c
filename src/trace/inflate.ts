// A gzip file's inflate loop over zlib's synchronous handle (the `_handle` under a Node.js Gunzip
// stream: the same inflate, members, padding and error rules as the stream, whose messages the
// readers report). One loop for both places it runs: the main thread (src/trace/read.ts, small
// files) and the inflate thread (src/trace/inflate-worker.ts, large ones). No node: module is
// imported here: the caller hands in its Gunzip.

/** zlib's handle under a Node.js Gunzip stream: one synchronous inflate step into a given buffer. */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOffset: number, inBytes: number, output: Uint8Array, outOffset: number, outBytes: number): void;
}

/** A Gunzip's synchronous handle, the array its steps report into, and the flush values. */
export interface SyncInflater {
  gunzip: import('node:zlib').Gunzip;
  handle: ZlibHandle;
  /** [output bytes left, input bytes left] after each step. */
  writeState: Uint32Array;
  noFlush: number;
  finish: number;
}

/**
 * The synchronous handle of `gunzip`, or undefined in a Node.js without one (the caller then
 * reads through the stream itself). Steps that fail report on the stream's 'error' event a tick
 * later; the loop reads `gunzip.errored` at once, so that event is silenced here.
 */
export function syncInflater(gunzip: import('node:zlib').Gunzip, z: typeof import('node:zlib').constants): SyncInflater | undefined {
  const handle = (gunzip as unknown as { _handle?: ZlibHandle })._handle;
  const writeState = (gunzip as unknown as { _writeState?: Uint32Array })._writeState;
  if (typeof handle?.writeSync !== 'function' || !(writeState instanceof Uint32Array)) return undefined;
  gunzip.on('error', () => undefined);
  return { gunzip, handle, writeState, noFlush: z.Z_NO_FLUSH, finish: z.Z_FINISH };
}

/**
 * Inflates one read of the file: `bytesRead` bytes at the start of `input` (0: the file has
 * ended). Before each step it asks `output()` for the buffer to write into (all of it may be
 * used) and yields the bytes written there; the caller is done with them before it resumes the
 * loop. Returns true when the gzip data has ended: at the end of the file, or where the data stops
 * before the file does (zero padding after the last member, which the stream ignores as well).
 * Throws zlib's error (code Z_...) for corrupt or truncated data.
 */
export function* inflateRead(inflater: SyncInflater, input: Uint8Array, bytesRead: number, output: () => Uint8Array): Generator<Uint8Array, boolean> {
  const { gunzip, handle, writeState } = inflater;
  // At the end, Z_FINISH: an unfinished member is "unexpected end of file", as in the stream.
  const flush = bytesRead === 0 ? inflater.finish : inflater.noFlush;
  let inOffset = 0;
  let inBytes = bytesRead;
  for (;;) {
    const out = output();
    handle.writeSync(flush, input, inOffset, inBytes, out, 0, out.length);
    if (gunzip.errored !== null) throw gunzip.errored;
    const outLeft = writeState[0]!;
    const inLeft = writeState[1]!;
    inOffset += inBytes - inLeft;
    inBytes = inLeft;
    if (outLeft < out.length) yield out.subarray(0, out.length - outLeft);
    if (outLeft === 0) continue; // output full: more may come from the same input
    // Room left but input left too: the data ended before the file (zero padding); the stream
    // ends there as well.
    return inLeft > 0 || bytesRead === 0;
  }
}

// The inflate thread's ring (src/trace/inflate-worker.ts writes, src/trace/read.ts reads): output
// slots in one SharedArrayBuffer, and a control block of Int32 words in another, changed only
// with Atomics. A slot is the thread's to fill while WRITTEN - TAKEN < slots.
/** Chunks the thread has written (the next one goes to slot WRITTEN % slots). */
export const RING_WRITTEN = 0;
/** Chunks the reader is done with. */
export const RING_TAKEN = 1;
/** RING_RUNNING, RING_ENDED or RING_FAILED. */
export const RING_STATE = 2;
/** Bumped by every change the reader waits for (a chunk, the end, a failure): it waits on this word. */
export const RING_EPOCH = 3;
/** Set to 1 by the thread once it runs, waiting for RING_START. */
export const RING_READY = 4;
/**
 * Set by the reader, after RING_READY: RING_START_AT (the thread skips the first handoff[0] bytes of
 * content, which the reader inflated itself while the thread started) or RING_START_NEVER.
 */
export const RING_START = 5;
export const RING_START_AT = 1;
export const RING_START_NEVER = 2;
export const RING_RUNNING = 0;
export const RING_ENDED = 1;
export const RING_FAILED = 2;
/** What the reader finds in the ring with `taken` chunks done (ringNext). */
export type RingNext = 'chunk' | 'ended' | 'failed' | 'wait';

/**
 * The reader's look at the ring, `read` giving a control word (Atomics.load). The state is read
 * before the count of written chunks: the thread stores its last chunk's count and then the end,
 * so a reader that has seen the end sees every chunk in the count it reads next. Read the other
 * way round, the thread could publish its last chunks and the end between the two reads, and the
 * reader would stop without them (a file cut short with no error).
 */
export function ringNext(read: (word: number) => number, taken: number): RingNext {
  const state = read(RING_STATE);
  if (read(RING_WRITTEN) > taken) return 'chunk';
  if (state === RING_ENDED) return 'ended';
  if (state === RING_FAILED) return 'failed';
  return 'wait';
}

/** Int32 words before the per-slot lengths. */
const RING_HEADER_WORDS = 6;
const INT32_BYTES = 4;
const FLOAT64_BYTES = 8;

/** The control block of a ring of `slots`: the words above, each slot's length, and each slot's file bytes read so far. */
export interface RingControl {
  words: Int32Array;
  /** Bytes in slot i: lengths[i]. */
  lengths: Int32Array;
  /** Compressed bytes of the file read when slot i was written (for progress); at [slots], the whole file's at the end. */
  bytesRead: Float64Array;
  /** [0]: the content offset the thread starts its output at (see RING_START). */
  handoff: Float64Array;
}

function ringLengthsEnd(slots: number): number {
  const end = (RING_HEADER_WORDS + slots) * INT32_BYTES;
  return Math.ceil(end / FLOAT64_BYTES) * FLOAT64_BYTES;
}

/** Bytes of the control block of a ring of `slots`. */
export function ringControlBytes(slots: number): number {
  return ringLengthsEnd(slots) + (slots + 2) * FLOAT64_BYTES;
}

/** Views of a ring's control block (`buffer` of ringControlBytes(slots) bytes). */
export function ringControl(buffer: SharedArrayBuffer, slots: number): RingControl {
  return {
    words: new Int32Array(buffer, 0, RING_HEADER_WORDS),
    lengths: new Int32Array(buffer, RING_HEADER_WORDS * INT32_BYTES, slots),
    bytesRead: new Float64Array(buffer, ringLengthsEnd(slots), slots + 1),
    handoff: new Float64Array(buffer, ringLengthsEnd(slots) + (slots + 1) * FLOAT64_BYTES, 1),
  };
}
