// The inflate thread (started by src/trace/inflate-thread.ts for a large gzip file): reads the
// file through the descriptor the main thread opened and inflates it with the loop of inflate.ts
// straight into the slots of a ring in shared memory (layout in inflate.ts), from the content
// offset the main thread hands over at (it inflates the start itself while this thread starts),
// so that inflating overlaps the parse and the simulation there. Nothing is copied or posted per
// chunk: the thread waits (Atomics.wait) while every slot holds a chunk the reader has not
// finished, and publishes each chunk by bumping the ring's counters. A failure is posted once
// (InflateFailure), then published as the ring's state.
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { constants, createGunzip } from 'node:zlib';
import {
  RING_ENDED, RING_EPOCH, RING_FAILED, RING_READY, RING_START, RING_START_AT, RING_START_NEVER, RING_STATE, RING_TAKEN, RING_WRITTEN,
  inflateRead, ringControl, syncInflater,
} from './inflate.js';

/** What the thread is started with. */
export interface InflateJob {
  /** The file, opened by the main thread (which closes it once the thread has stopped). */
  fd: number;
  /** Bytes read from the file at a time. */
  inputBytes: number;
  /** The ring: `slots` slots of `slotBytes` in `data`; its control block in `control`. */
  slots: number;
  slotBytes: number;
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** Posted once when the thread fails: zlib's error (code Z_...) or a read error (errno code). */
export interface InflateFailure { message: string; code?: string; errno?: number; syscall?: string }

function run(job: InflateJob): void {
  const { words, lengths, bytesRead, handoff } = ringControl(job.control, job.slots);
  // The reader inflates the start itself while this thread starts, and then names the content
  // offset to begin at (or that it needs this thread no more).
  Atomics.store(words, RING_READY, 1);
  Atomics.notify(words, RING_READY);
  for (let start = Atomics.load(words, RING_START); start !== RING_START_AT; start = Atomics.load(words, RING_START)) {
    if (start === RING_START_NEVER) return;
    Atomics.wait(words, RING_START, start);
  }
  let skipBytes = handoff[0]!;
  const inflater = syncInflater(createGunzip(), constants);
  if (inflater === undefined) throw new Error('this Node.js has no synchronous zlib handle');
  const input = Buffer.allocUnsafe(job.inputBytes);
  let written = 0;
  let fileBytes = 0;
  const slot = (): Uint8Array => {
    // Wait while every slot holds a chunk the reader has not finished.
    for (let taken = Atomics.load(words, RING_TAKEN); written - taken >= job.slots; taken = Atomics.load(words, RING_TAKEN)) {
      Atomics.wait(words, RING_TAKEN, taken);
    }
    return new Uint8Array(job.data, (written % job.slots) * job.slotBytes, job.slotBytes);
  };
  try {
    for (;;) {
      // Read at explicit positions: the reader's handle shares the descriptor's own position.
      const n = readSync(job.fd, input, 0, job.inputBytes, fileBytes);
      fileBytes += n;
      const steps = inflateRead(inflater, input, n, slot);
      for (let step = steps.next(); ; step = steps.next()) {
        if (step.done === true) {
          if (!step.value) break;
          bytesRead[job.slots] = fileBytes;
          publish(words, RING_ENDED);
          return;
        }
        let bytes = step.value.length;
        if (skipBytes > 0) {
          // Content the reader has had already: drop it (the slot is written over by the next step).
          if (skipBytes >= bytes) {
            skipBytes -= bytes;
            continue;
          }
          step.value.copyWithin(0, skipBytes);
          bytes -= skipBytes;
          skipBytes = 0;
        }
        lengths[written % job.slots] = bytes;
        bytesRead[written % job.slots] = fileBytes;
        written++;
        Atomics.store(words, RING_WRITTEN, written);
        publish(words);
      }
    }
  } finally {
    inflater.gunzip.destroy();
  }
}

/** Wakes the reader (after a chunk, or with the ring's final state). */
function publish(words: Int32Array, state?: number): void {
  if (state !== undefined) Atomics.store(words, RING_STATE, state);
  Atomics.add(words, RING_EPOCH, 1);
  Atomics.notify(words, RING_EPOCH);
}

if (parentPort !== null) {
  const job = workerData as InflateJob;
  try {
    run(job);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    parentPort.postMessage({
      message: e instanceof Error ? e.message : String(err),
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
      ...(typeof e?.errno === 'number' ? { errno: e.errno } : {}),
      ...(typeof e?.syscall === 'string' ? { syscall: e.syscall } : {}),
    } satisfies InflateFailure);
    publish(ringControl(job.control, job.slots).words, RING_FAILED);
  }
}
