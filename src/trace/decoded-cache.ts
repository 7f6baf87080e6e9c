// Shared decoding: a sweep or an advice runs one trace many times (once per policy, setting or
// remedy). Each worker (and the calling thread) keeps the last trace it decoded as op batches, so
// the file is read and parsed once per worker, not once per run. The key is the file's path,
// size and modification time and the reading options; a trace larger than
// DECODED_CACHE_MAX_FILE_BYTES is streamed every time as before (its batches would not fit).
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { OpBuffer } from '../engine/ops.js';
import { OP_WORDS } from '../engine/abi.js';
import type { Workload } from '../workload/workload.js';
import type { ReplayOptions } from './replay.js';
import { traceWorkload } from './workload.js';

/** Largest trace file kept decoded (~6 bytes per event in .hst: a few million events, ~16 bytes each decoded). */
export const DECODED_CACHE_MAX_FILE_BYTES = 32 * 1024 * 1024;

interface Decoded {
  key: string;
  workload: Omit<Workload, 'batches'>;
  batches: OpBuffer[];
}

let last: Promise<Decoded> | undefined;
let lastKey = '';
let enabled = true;
let decodes = 0;

/** Turns the cache off or on (the bench's "before"); clears it. */
export function setDecodedTraceCache(on: boolean): void {
  enabled = on;
  last = undefined;
  lastKey = '';
}

/** Traces decoded by this thread so far (tests, bench). */
export function traceDecodes(): number {
  return decodes;
}

async function decode(key: string, path: string, options: ReplayOptions): Promise<Decoded> {
  decodes++;
  // Kept as op batches (runs replay them many times): no one-instance path.
  const w = await traceWorkload(path, { format: options.format, lenient: options.lenient, direct: false });
  const batches: OpBuffer[] = [];
  // The replay reuses its buffer: keep a copy of each batch, trimmed to its ops.
  for await (const b of w.replay.batches() as AsyncIterable<OpBuffer>) {
    const copy = new OpBuffer(Math.max(1, b.length), b.words.slice(0, Math.max(1, b.length) * OP_WORDS));
    copy.length = b.length;
    batches.push(copy);
  }
  const { replay: _r, batches: _b, ...rest } = w;
  return { key, workload: { ...rest, labels: [...w.labels] }, batches };
}

/**
 * The trace at `path` as a workload, decoded once per thread while it stays the trace last asked
 * for; undefined when the cache is off or the file too large (the caller streams it).
 */
export async function cachedTraceWorkload(path: string, options: ReplayOptions = {}): Promise<Workload | undefined> {
  if (!enabled) return undefined;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return undefined; // missing, a loop, no permission: the streaming reader says so in one line
  }
  if (!st.isFile() || st.size > DECODED_CACHE_MAX_FILE_BYTES) return undefined;
  const key = JSON.stringify([resolve(path), st.size, st.mtimeMs, options.format ?? null, options.lenient === true]);
  if (key !== lastKey || !last) {
    lastKey = key;
    last = decode(key, path, options);
    last.catch(() => { if (lastKey === key) { last = undefined; lastKey = ''; } });
  }
  const d = await last;
  return {
    ...d.workload,
    labels: [...d.workload.labels],
    async *batches() { yield* d.batches; },
  };
}
