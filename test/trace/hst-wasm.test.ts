// The WASM record loop (src/trace/formats/hst-wasm.ts, assembly/trace/hst.ts) against the
// JavaScript reader it replaces in replays: the same op batches, counts, thread rows, leak summary,
// labels, callers and warnings for valid files, and the same error (message and byte offset) or
// the same --lenient result for damaged ones, however the input is cut into chunks.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HST_EVENT_COUNT_OFFSET, HstWriter, hstEventCountBytes } from '../../src/trace/formats/hst.js';
import { wasmHstReader } from '../../src/trace/formats/hst-wasm.js';
import { openTrace, type TraceStream } from '../../src/trace/read.js';
import { OpWriter, replayStatsOf } from '../../src/trace/replay.js';
import { hstFile, leb } from './hst-bytes.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A fixture trace converted to .hst (as `heapsim convert` writes it). */
async function convertedFixture(name: string): Promise<Buffer> {
  const input = await openTrace(join(FIXTURES, name), null, { lenient: true });
  const w = new HstWriter(input.ledger, () => input.format);
  input.ledger.out = w;
  for await (const chunk of input.chunks) input.parser.push(chunk);
  input.parser.finish();
  w.end();
  const bytes = Buffer.concat(w.take());
  hstEventCountBytes(w.events).copy(bytes, HST_EVENT_COUNT_OFFSET);
  return bytes;
}

function streamOf(bytes: Buffer, cuts: readonly number[]): TraceStream {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) pieces.push(Buffer.from(bytes.subarray(from, cut)));
    from = Math.max(from, cut);
  }
  return {
    name: 't.hst', gzip: false, sourceBytes: bytes.length, bytesRead: () => 0,
    chunks: (async function* () { yield* pieces; })(),
  };
}

/** Everything a replay hands on, through one decoder. */
async function replay(bytes: Buffer, cuts: readonly number[], lenient: boolean, decoder: 'js' | 'wasm', batchOps = 64): Promise<unknown> {
  const writer = new OpWriter(batchOps);
  let error: string | null = null;
  const batches: number[][] = [];
  const take = (): void => {
    for (const b of writer.ready.splice(0)) batches.push([...b.words.subarray(0, b.length * 4)]);
  };
  let input;
  try {
    input = await openTrace(streamOf(bytes, cuts), writer, { lenient, format: 'hst' },
      decoder === 'wasm' ? (file, l) => wasmHstReader(file, l, writer) : undefined);
    for await (const chunk of input.chunks) {
      input.parser.push(chunk);
      take();
    }
    input.parser.finish();
    writer.flush();
    take();
  } catch (err) {
    error = (err as Error).message;
  }
  if (error !== null || input === undefined) return { error };
  const l = input.ledger;
  return {
    error,
    batches,
    stats: replayStatsOf(input, l, true, 5),
    labels: l.labels, callers: l.callers,
    threads: l.threadCounts(), threadsSeen: [...l.threadsSeen], threadEnds: l.threadEnds,
    ticks: l.ticks, idHighWater: l.idHighWater, peakLiveBytes: l.peakLiveBytes, peakEvent: l.peakEvent,
    liveBlocks: l.liveBlocks, liveBytes: l.liveBytes, skips: [...l.skips],
  };
}

async function expectSame(bytes: Buffer, cuts: readonly number[], lenient: boolean, batchOps = 64): Promise<unknown> {
  const js = await replay(bytes, cuts, lenient, 'js', batchOps);
  const wasm = await replay(bytes, cuts, lenient, 'wasm', batchOps);
  expect(wasm).toEqual(js);
  return js;
}

// ---------------------------------------------------------------- random record streams

const OP = { alloc: 1, calloc: 2, aligned: 3, realloc: 4, free: 5, skip: 6, mark: 7, tick: 8, thread: 9, label: 10, caller: 11, untraced: 12, implicit: 13, threadEnd: 14 };
const HAS_CALLER = 0x80;

type Rec = { k: keyof typeof OP; id: number; size: bigint; align: bigint; caller: number | null; text: string; value: bigint };

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: 0n, max: 300n }) },
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 1n << 30n }) },
  { weight: 1, arbitrary: fc.constantFrom(1n << 47n, (1n << 47n) + 1n, (1n << 46n), (1n << 53n) - 1n, 1n << 53n, (1n << 64n) - 1n) },
);
const recArb: fc.Arbitrary<Rec> = fc.record({
  k: fc.constantFrom<keyof typeof OP>('alloc', 'alloc', 'alloc', 'calloc', 'aligned', 'realloc', 'realloc', 'free', 'free', 'free',
    'skip', 'mark', 'tick', 'thread', 'label', 'caller', 'untraced', 'threadEnd', 'alloc', 'free', 'realloc', 'thread', 'implicit'),
  id: fc.oneof({ weight: 30, arbitrary: fc.nat({ max: 40 }) }, { weight: 1, arbitrary: fc.constantFrom(20_000, 2 ** 27 - 1, 2 ** 27, 2 ** 40) }),
  size: sizeArb,
  align: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(1n, 2n, 16n, 4096n, 1n << 47n, 1n << 48n, 1n << 60n) }, { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 100n }) }),
  caller: fc.option(fc.oneof({ weight: 30, arbitrary: fc.nat({ max: 1 }) }, { weight: 1, arbitrary: fc.nat({ max: 5 }) }), { nil: null }),
  text: fc.constantFrom('a.c:1', 'b.c:2', 'a.c:1', 'phase', 'ü', ''),
  value: fc.oneof(
    { weight: 40, arbitrary: fc.bigInt({ min: 0n, max: 3n }) },
    { weight: 1, arbitrary: fc.constantFrom(6n, 7n, 1n << 53n, (1n << 53n) - 1n, 123_456_789n) },
  ),
});

/**
 * Raw records (some invalid on purpose); `events` = the event records among them. An implicit
 * free names an id the records allocated and did not free, when there is one.
 */
function encode(recs: readonly Rec[]): { records: number[]; events: number } {
  const out: number[] = [];
  let events = 0;
  const live = new Set<number>();
  for (const given of recs) {
    let r = given;
    if (r.k === 'implicit' && live.size > 0) r = { ...r, id: [...live][r.id % live.size]! };
    if (r.k === 'free' || r.k === 'implicit') live.delete(r.id);
    else if (['alloc', 'calloc', 'aligned', 'realloc', 'untraced'].includes(r.k)) live.add(r.id);
    const op = OP[r.k];
    switch (r.k) {
      case 'alloc': case 'calloc': case 'aligned': case 'realloc': case 'untraced':
        events++;
        out.push(op | (r.caller !== null ? HAS_CALLER : 0), ...leb(r.id), ...leb(r.size));
        if (r.k === 'aligned') out.push(...leb(r.align));
        if (r.caller !== null) out.push(...leb(r.caller));
        break;
      case 'free': events++; out.push(op, ...leb(r.id)); break;
      case 'skip': events++; out.push(op, ...leb(r.value)); break;
      case 'implicit': out.push(op, ...leb(r.id)); break;
      case 'label': case 'caller': {
        const b = Buffer.from(r.text, 'utf8');
        out.push(op, ...leb(b.length), ...b);
        break;
      }
      default: out.push(op, ...leb(r.value));
    }
  }
  return { records: out, events };
}

/** Definitions first so that most uses are valid. */
const PRELUDE: Rec[] = [
  ...['main.c:1', 'util.c:9', 'main.c:1', 'x.c:3'].map((text) => ({ k: 'caller' as const, id: 0, size: 0n, align: 1n, caller: null, text, value: 0n })),
  ...['start', 'peak', 'start', 'end'].map((text) => ({ k: 'label' as const, id: 0, size: 0n, align: 1n, caller: null, text, value: 0n })),
];

const fileArb = fc.record({ recs: fc.array(recArb, { minLength: 10, maxLength: 150 }), v1: fc.boolean() }).map(({ recs, v1 }) => {
  const { records, events } = encode([...PRELUDE, ...recs]);
  return hstFile(records, { events, version: v1 ? 1 : 2 });
});

const cutsOf = (length: number): fc.Arbitrary<number[]> =>
  fc.array(fc.nat({ max: length }), { maxLength: 12 }).map((cs) => [...cs].sort((a, b) => a - b));

describe('.hst decoding in WASM equals the JavaScript reader', () => {
  it('every fixture trace, converted, read whole and in small chunks', async () => {
    const names = readdirSync(FIXTURES).filter((f) => !f.startsWith('.'));
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const bytes = await convertedFixture(name);
      const whole = await expectSame(bytes, [], false);
      expect(whole).toMatchObject({ error: null });
      await expectSame(bytes, Array.from({ length: Math.floor(bytes.length / 7) }, (_, i) => (i + 1) * 7), false, 3);
    }
  });

  it('random record streams (valid and invalid records, threads, untraced reallocs, implicit frees) under any cutting', async () => {
    await fc.assert(fc.asyncProperty(fileArb.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes.length), fc.boolean(), fc.integer({ min: 1, max: 70 }))),
      async ([bytes, cuts, lenient, batchOps]) => { await expectSame(bytes, cuts, lenient, batchOps); }), { numRuns: 150 });
  });

  it('damaged files: the same error (message, byte offset) or the same --lenient result', async () => {
    await fc.assert(fc.asyncProperty(fileArb.chain((bytes) => fc.tuple(
      fc.constant(bytes),
      fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }),
      fc.nat({ max: bytes.length }),
      cutsOf(bytes.length),
      fc.boolean(),
    )), async ([bytes, flips, keep, cuts, lenient]) => {
      const damaged = Buffer.from(bytes);
      for (const [at, value] of flips) damaged[at] = value;
      const input = damaged.subarray(0, Math.max(keep, 1));
      await expectSame(input, cuts.filter((c) => c < input.length), lenient);
    }), { numRuns: 150 });
  });

  it('a larger file: many ids, pages and threads, several output buffers per chunk', async () => {
    const recs: Rec[] = [];
    const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
    for (let i = 0; i < 30_000; i++) {
      if (i % 997 === 0) recs.push({ ...base, k: 'thread', value: BigInt(i % 5) });
      if (i % 4999 === 0) recs.push({ ...base, k: 'threadEnd', value: BigInt(i % 3) });
      recs.push({ ...base, k: 'alloc', id: i * 3, size: BigInt((i * 37) % 5000), caller: i % 2 });
      if (i % 3 === 0) recs.push({ ...base, k: 'free', id: (i - 30) * 3 });
      if (i % 11 === 0) recs.push({ ...base, k: 'realloc', id: (i - 2) * 3, size: BigInt(i + 1) });
    }
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    const whole = await expectSame(bytes, [], false, 4096) as { stats: { events: number; leaks: { blocks: number } } };
    expect(whole.stats.events).toBe(events);
    expect(whole.stats.leaks.blocks).toBeGreaterThan(1000);
    await expectSame(bytes, Array.from({ length: 40 }, (_, i) => (i + 1) * 4093), false, 1000);
  });
});
