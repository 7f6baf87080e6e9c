// The main thread's side of the inflate thread (src/trace/inflate-worker.ts): starting it, handing
// the content over to it, and reading its ring. A thread takes about 60 ms to start, so the reader
// (src/trace/read.ts gunzipChunks) inflates the start of the file itself meanwhile: once the thread
// runs, the reader names a content offset a little ahead (HANDOFF_LEAD_BYTES), inflates up to it,
// and from there reads the chunks the thread inflated from that offset on (the thread inflates the
// start again and drops it: the zlib state cannot move between threads, and inflating is cheap).
// Node only: read.ts imports this module by a path known only when it runs (no bundle of read.ts,
// a browser's included, takes it in).
import { Worker } from 'node:worker_threads';
import {
  RING_EPOCH, RING_READY, RING_START, RING_START_AT, RING_START_NEVER, RING_TAKEN,
  ringControl, ringControlBytes, ringNext, type RingControl,
} from './inflate.js';
import type { InflateFailure, InflateJob } from './inflate-worker.js';

/**
 * Content the reader still inflates itself after it has named the handoff offset: enough for the
 * thread to inflate everything before that offset again (it runs about ten times faster than the
 * reader parses) before the reader gets there.
 */
const HANDOFF_LEAD_BYTES = 8 << 20;

/** Atomics.waitAsync (ES2024; in Node.js since 16), missing from this project's TypeScript lib. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/** The inflate thread's module: next to this one (dist/trace/, or src/trace/ under tsx and vitest). */
function startWorker(job: InflateJob, module: URL | undefined): Worker {
  if (module !== undefined) return new Worker(module, { workerData: job });
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./inflate-worker.js', import.meta.url), { workerData: job });
  // From TypeScript sources the module is a .ts file: register tsx in the thread first.
  const entry = JSON.stringify(new URL('./inflate-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`, { eval: true, workerData: job });
}

export interface InflateThreadOptions {
  /** Bytes read from the file at a time. */
  inputBytes: number;
  /** Slots of the ring (chunks the thread may run ahead) and bytes of each. */
  slots: number;
  slotBytes: number;
  /** The handoff offset, fixed (tests); by default it is named once the thread runs. */
  handoffAt?: number;
  /** The thread's module, if not the one next to this (tests: the build's). */
  workerModule?: URL;
}

/** An inflate thread for one gzip file. */
export class InflateThread {
  private readonly job: InflateJob;
  private readonly ring: RingControl;
  private readonly worker: Worker;
  private failure: InflateFailure | undefined;
  private readonly failureArrived: Promise<void>;
  /** Content bytes the reader has inflated itself. */
  private produced = 0;
  /** The handoff offset, once named. */
  private handoffAt = Infinity;
  private stopped: Promise<void> | undefined;

  /** `fd`: the file, open; close it only after stop(). */
  constructor(fd: number, sizes: InflateThreadOptions) {
    this.job = {
      fd, inputBytes: sizes.inputBytes, slots: sizes.slots, slotBytes: sizes.slotBytes,
      data: new SharedArrayBuffer(sizes.slots * sizes.slotBytes), control: new SharedArrayBuffer(ringControlBytes(sizes.slots)),
    };
    this.ring = ringControl(this.job.control, sizes.slots);
    if (sizes.handoffAt !== undefined) this.handOverAt(sizes.handoffAt);
    const worker = startWorker(this.job, sizes.workerModule);
    this.worker = worker;
    // Only a reader waiting for the thread keeps the process alive for it (chunks() refs it).
    worker.unref();
    let arrived!: () => void;
    this.failureArrived = new Promise<void>((resolve) => { arrived = resolve; });
    const fail = (f: InflateFailure): void => {
      this.failure ??= f;
      arrived();
      // Wake a reader waiting on the ring.
      Atomics.add(this.ring.words, RING_EPOCH, 1);
      Atomics.notify(this.ring.words, RING_EPOCH);
    };
    worker.on('message', fail);
    worker.on('error', (err) => fail({ message: err.message }));
    worker.on('exit', (code) => fail({ message: `the inflate thread stopped (exit code ${code})` }));
  }

  /** True once the reader has inflated everything up to the handoff offset: read chunks() now. */
  get handedOver(): boolean {
    return this.produced === this.handoffAt;
  }

  /**
   * The reader inflated a chunk of `bytes` itself: how many of them to use (all, or those before
   * the handoff offset). Names the handoff offset once the thread runs.
   */
  keep(bytes: number): number {
    const kept = Math.min(bytes, this.handoffAt - this.produced);
    this.produced += kept;
    if (this.handoffAt === Infinity && Atomics.load(this.ring.words, RING_READY) === 1) this.handOverAt(this.produced + HANDOFF_LEAD_BYTES);
    return kept;
  }

  private handOverAt(offset: number): void {
    this.handoffAt = offset;
    this.ring.handoff[0] = offset;
    Atomics.store(this.ring.words, RING_START, RING_START_AT);
    Atomics.notify(this.ring.words, RING_START);
  }

  /**
   * The content from the handoff offset on, as the thread inflates it. Each chunk is a view of its
   * slot, handed back to the thread when the reader asks for the next one, once `state.reuse` is
   * set; before that, the reader keeps each chunk, so it gets a copy.
   */
  async *chunks(state: { bytesRead: number; reuse: boolean; cancelled: boolean }): AsyncGenerator<Uint8Array> {
    const { words, lengths, bytesRead } = this.ring;
    const { slots, slotBytes, data } = this.job;
    const readWord = (word: number): number => Atomics.load(words, word);
    let taken = 0;
    let lent = false;
    while (!state.cancelled) {
      if (lent) {
        Atomics.store(words, RING_TAKEN, ++taken);
        Atomics.notify(words, RING_TAKEN);
        lent = false;
      }
      for (;;) {
        const epoch = Atomics.load(words, RING_EPOCH);
        const next = ringNext(readWord, taken);
        if (next === 'chunk') break;
        if (next === 'ended') {
          state.bytesRead = bytesRead[slots]!;
          return;
        }
        if (next === 'failed' || this.failure !== undefined) {
          await this.failureArrived;
          const f = this.failure!;
          throw Object.assign(new Error(f.message), f.code === undefined ? {} : { code: f.code }, f.errno === undefined ? {} : { errno: f.errno }, f.syscall === undefined ? {} : { syscall: f.syscall });
        }
        this.worker.ref();
        const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(words, RING_EPOCH, epoch);
        if (wait.async) await wait.value;
        this.worker.unref();
      }
      const slot = taken % slots;
      state.bytesRead = bytesRead[slot]!;
      const chunk = new Uint8Array(data, slot * slotBytes, lengths[slot]);
      if (state.reuse) {
        lent = true;
        yield chunk;
      } else {
        const copy = new Uint8Array(chunk);
        Atomics.store(words, RING_TAKEN, ++taken);
        Atomics.notify(words, RING_TAKEN);
        yield copy;
      }
    }
  }

  /** Stops the thread (once; later calls wait for the same stop). */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.worker.removeAllListeners();
      this.worker.on('error', () => undefined); // a failure from now on is of no interest
      if (this.handoffAt === Infinity) {
        Atomics.store(this.ring.words, RING_START, RING_START_NEVER);
        Atomics.notify(this.ring.words, RING_START);
      }
      await this.worker.terminate();
    })();
    return this.stopped;
  }
}
