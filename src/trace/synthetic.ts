// Synthetic traces for benchmarks and tests: a seeded random mix of allocations and frees around a
// bounded live set, written as .hst or as glibc mtrace text. Deterministic for a given seed.
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { NO_CALLER } from './events.js';
import { HST_EVENT_COUNT_OFFSET, HstWriter, hstFinalHeaderBytes } from './formats/hst.js';
import { Ledger } from './ledger.js';

/** xorshift32: small, fast, good enough to shape a workload. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

export interface SyntheticOptions {
  events: number;
  /** Live blocks the mix hovers around. */
  liveTarget?: number;
  seed?: number;
}

const DEFAULT_LIVE_TARGET = 10_000;
const DEFAULT_SEED = 1;
/** Sizes: mostly small, some up to MAX_SIZE_BYTES. */
const SMALL_SIZE_BYTES = 256;
const MAX_SIZE_BYTES = 64 * 1024;
const LARGE_FRACTION = 0.05;
const REALLOC_FRACTION = 0.05;
/** At the live target, allocations and frees are equally likely; below it allocations win. */
const GROW_BIAS = 0.5;
/** Half of the moving reallocs change address. */
const MOVE_FRACTION = 0.5;
/** Realloc sizes go up to twice the small size. */
const REALLOC_GROWTH = 2;
const WRITE_FLUSH_EVENTS = 1 << 16;
/** Fake heap base and granule for the mtrace addresses. */
const FAKE_HEAP_BASE = 0x55d0c5a40000;
const FAKE_GRANULE_BYTES = 16;
const FAKE_SLOT_SPAN_BYTES = 2 * MAX_SIZE_BYTES;
const FAKE_CALLERS = 64;
const FAKE_CALLER_BASE = 0x401000;

async function put(stream: Writable, data: Buffer | string): Promise<void> {
  if (data.length > 0 && !stream.write(data)) await once(stream, 'drain');
}

/** A random walk of alloc/realloc/free calls as (kind, slot, size), slots dense and reused after free. */
function* walk(o: SyntheticOptions): Generator<[kind: 'a' | 'r' | 'f', slot: number, sizeBytes: number]> {
  const rand = prng(o.seed ?? DEFAULT_SEED);
  const target = o.liveTarget ?? DEFAULT_LIVE_TARGET;
  const live: number[] = [];
  const freeSlots: number[] = [];
  let nextSlot = 0;
  for (let e = 0; e < o.events; e++) {
    const r = rand();
    const grow = live.length === 0 || r < GROW_BIAS * (target / Math.max(live.length, 1));
    if (grow) {
      const size = rand() < LARGE_FRACTION ? 1 + Math.floor(rand() * MAX_SIZE_BYTES) : 1 + Math.floor(rand() * SMALL_SIZE_BYTES);
      const slot = freeSlots.length > 0 ? freeSlots.pop()! : nextSlot++;
      live.push(slot);
      yield ['a', slot, size];
    } else {
      const i = Math.floor(rand() * live.length);
      const slot = live[i]!;
      if (rand() < REALLOC_FRACTION) {
        yield ['r', slot, 1 + Math.floor(rand() * SMALL_SIZE_BYTES * REALLOC_GROWTH)];
        continue;
      }
      live[i] = live[live.length - 1]!;
      live.pop();
      freeSlots.push(slot);
      yield ['f', slot, 0];
    }
  }
}

/** Writes a synthetic .hst file with `events` events. */
export async function writeSyntheticHst(path: string, o: SyntheticOptions): Promise<void> {
  const ledger = new Ledger();
  const writer = new HstWriter(ledger, () => 'unknown');
  const file = createWriteStream(path);
  let n = 0;
  for (const [kind, slot, size] of walk(o)) {
    if (kind === 'a') writer.alloc(slot, size, NO_CALLER);
    else if (kind === 'r') writer.realloc(slot, size, NO_CALLER);
    else writer.free(slot);
    if (++n % WRITE_FLUSH_EVENTS === 0) for (const b of writer.take()) await put(file, b);
  }
  writer.end();
  for (const b of writer.take()) await put(file, b);
  file.end();
  await once(file, 'close');
  // The header's event count and hint are known only now (a benchmark fixture: written in place).
  const fh = await open(path, 'r+');
  try {
    await fh.write(hstFinalHeaderBytes(writer), 0, undefined, HST_EVENT_COUNT_OFFSET);
  } finally {
    await fh.close();
  }
}

/** Synthetic glibc mtrace text with `events` allocator events (realloc as a `<`/`>` pair). */
export function syntheticMtrace(o: SyntheticOptions): string {
  const out: string[] = ['= Start'];
  const rand = prng((o.seed ?? DEFAULT_SEED) + 1);
  // Slot s owns a fixed span of fake addresses, so addresses are reused as a real allocator
  // reuses them; a moving realloc flips the block between the two halves of its span.
  const address = new Map<number, number>();
  const place = (slot: number, size: number): number => {
    const home = FAKE_HEAP_BASE + slot * FAKE_SLOT_SPAN_BYTES;
    const a = address.get(slot) === home && size > 0 ? home + FAKE_SLOT_SPAN_BYTES / 2 : home;
    address.set(slot, a);
    return a;
  };
  for (const [kind, slot, size] of walk(o)) {
    const caller = `@ ./prog:[0x${(FAKE_CALLER_BASE + Math.floor(rand() * FAKE_CALLERS) * FAKE_GRANULE_BYTES).toString(16)}]`;
    if (kind === 'a') {
      address.delete(slot);
      out.push(`${caller} + 0x${place(slot, size).toString(16)} 0x${size.toString(16)}`);
    }
    else if (kind === 'f') out.push(`${caller} - 0x${address.get(slot)!.toString(16)}`);
    else {
      const old = address.get(slot)!;
      const moved = rand() < MOVE_FRACTION ? place(slot, size) : old;
      out.push(`${caller} < 0x${old.toString(16)}`, `${caller} > 0x${moved.toString(16)} 0x${size.toString(16)}`);
    }
  }
  out.push('= End');
  return out.join('\n') + '\n';
}
