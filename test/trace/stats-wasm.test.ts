// `heapsim stats` with the ledger and the histograms in WASM (the default for .hst and mtrace:
// src/trace/stats.ts, assembly/trace/stats.ts) against the JavaScript ledger and StatsCollector
// (`ledger: 'js'`, the reference): the same statistics, the same text and --json output, or the
// same error (class and message, hence the same exit code), for every fixture (as it is and
// converted to .hst), for random .hst record streams (valid and damaged, with and without
// --lenient) and random mtrace line streams, however the input is cut into chunks.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { formatStatsText } from '../../src/cli/commands/stats.js';
import type { FormatName } from '../../src/trace/events.js';
import type { TraceStream } from '../../src/trace/read.js';
import { WasmLedger } from '../../src/trace/formats/wasm-ledger.js';
import { traceStats, type TraceStats } from '../../src/trace/stats.js';
import { hstFile } from './hst-bytes.js';
import { FIXTURES, PRELUDE, convertedFixture, encode, recArb, type Rec } from './hst-records.js';

const PROPERTY_RUNS = 40;
/** Fewer sizes and callers than the data has, so that the cut of the top lists is compared too. */
const TOP = 3;
/** Blocks of the many-sizes file: more distinct sizes than the WASM set's first 1,024 slots hold, several times. */
const BLOCKS = 6000;

function streamOf(name: string, bytes: Buffer, cuts: readonly number[]): TraceStream {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...[...cuts].sort((a, b) => a - b), bytes.length]) {
    if (cut > from) pieces.push(Buffer.from(bytes.subarray(from, cut)));
    from = Math.max(from, cut);
  }
  return { name, gzip: false, sourceBytes: bytes.length, bytesRead: () => 0, chunks: (async function* () { yield* pieces; })() };
}

type Source = () => string | TraceStream;

/** The statistics, the text and the JSON a ledger gives, or its error. */
async function statsOf(source: Source, ledger: 'wasm' | 'js', format: FormatName | undefined, lenient: boolean): Promise<unknown> {
  let s: TraceStats;
  try {
    s = await traceStats(source(), { ledger, lenient, top: TOP, ...(format ? { format } : {}) });
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  return { stats: s, text: formatStatsText(s), json: JSON.stringify(s, null, 2) };
}

async function same(source: Source, format: FormatName | undefined, lenient: boolean): Promise<unknown> {
  const js = await statsOf(source, 'js', format, lenient);
  const wasm = await statsOf(source, 'wasm', format, lenient);
  expect(wasm).toEqual(js);
  return js;
}

const cutsOf = (length: number): fc.Arbitrary<number[]> => fc.array(fc.nat({ max: length }), { maxLength: 10 });

const hstArb = fc.array(recArb, { minLength: 10, maxLength: 150 }).map((recs) => {
  const { records, events } = encode([...PRELUDE, ...recs]);
  return hstFile(records, { events });
});

// mtrace lines over a few addresses, sizes and callers: frees, double and unmatched frees, reused
// addresses, realloc pairs, sizes of 0 and beyond 2^47, and lines that are not calls or are malformed.
const address = fc.constantFrom('0x1000', '0x1010', '0x2000', '0x7f0000001000', '(nil)', '0x20000000000000');
const size = fc.constantFrom('0x10', '0x0', '0x18', '0x1000', '0x800000000000', '0x7fffffffffff', '0x3');
const caller = fc.constantFrom('', '@ ./prog:[0x401196] ', '@ ./prog:(main+0x1a)[0x4011b2] ', '@ ./lib.so:[0x7] ');
const mtraceLine = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(caller, address, size).map(([c, a, s]) => `${c}+ ${a} ${s}`) },
  { weight: 5, arbitrary: fc.tuple(caller, address).map(([c, a]) => `${c}- ${a}`) },
  { weight: 3, arbitrary: fc.tuple(caller, address, address, size).map(([c, a, b, s]) => `${c}< ${a}\n${c}> ${b} ${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('= Start', '= End', 'garbage', '+ 0x1000', '@ ./p:[0x1] + 0x1000 0x10 extra') },
);
const mtraceArb = fc.array(mtraceLine, { maxLength: 80 }).map((ls) => Buffer.from(ls.map((l) => `${l}\n`).join('')));

describe('stats with the ledger in WASM = stats with the JavaScript ledger', () => {
  it('.hst and mtrace are read into the WASM ledger unless the JavaScript one is asked for; other formats never are', async () => {
    const hst = await convertedFixture('basic.mtrace');
    const cases: [Source, FormatName | undefined, 'wasm' | 'js', boolean][] = [
      [() => streamOf('t.hst', hst, []), 'hst', 'wasm', true],
      [() => join(FIXTURES, 'basic.mtrace'), undefined, 'wasm', true],
      [() => streamOf('t.hst', hst, []), 'hst', 'js', false],
      [() => join(FIXTURES, 'basic.mtrace'), undefined, 'js', false],
      [() => join(FIXTURES, 'plain.ltrace'), undefined, 'wasm', false],
    ];
    for (const [source, format, ledger, inWasm] of cases) {
      const sync = vi.spyOn(WasmLedger.prototype, 'sync');
      try {
        await traceStats(source(), { ledger, ...(format ? { format } : {}) });
        expect(sync.mock.calls.length > 0).toBe(inWasm);
      } finally {
        sync.mockRestore();
      }
    }
  });

  it('every fixture, read from its file and converted to .hst in small chunks', async () => {
    const names = readdirSync(FIXTURES).filter((f) => !f.startsWith('.'));
    expect(names.filter((n) => n.endsWith('.mtrace')).length).toBeGreaterThan(1);
    for (const name of names) {
      for (const lenient of [false, true]) await same(() => join(FIXTURES, name), undefined, lenient);
      const bytes = await convertedFixture(name);
      const r = await same(() => streamOf('t.hst', bytes, Array.from({ length: bytes.length >> 3 }, (_, i) => (i + 1) * 8)), 'hst', false) as { stats: TraceStats };
      expect(r.stats.events.total).toBeGreaterThan(0);
    }
  });

  it('random .hst record streams, whole or damaged, cut at random, with and without --lenient', async () => {
    await fc.assert(fc.asyncProperty(hstArb.chain((bytes) => fc.tuple(
      fc.constant(bytes), cutsOf(bytes.length), fc.boolean(),
      fc.option(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.nat({ max: 255 })), { nil: null }),
    )), async ([bytes, cuts, lenient, flip]) => {
      const input = Buffer.from(bytes);
      if (flip !== null) input[flip[0]] = flip[1];
      await same(() => streamOf('t.hst', input, cuts), 'hst', lenient);
    }), { numRuns: PROPERTY_RUNS });
  });

  it('random mtrace line streams, cut at random, with and without --lenient', async () => {
    await fc.assert(fc.asyncProperty(mtraceArb.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes.length), fc.boolean())),
      async ([bytes, cuts, lenient]) => { await same(() => streamOf('t.mtrace', bytes, cuts), 'mtrace', lenient); }), { numRuns: PROPERTY_RUNS });
  });

  it('thousands of distinct sizes and long lifetimes (the WASM size set grows several times), threads', async () => {
    const recs: Rec[] = [];
    const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
    const sizeOf = (i: number): bigint => BigInt(i * 4099 + (i % 3));
    for (let i = 0; i < BLOCKS; i++) {
      if (i % 1201 === 0) recs.push({ ...base, k: 'thread', value: BigInt(i % 4) });
      recs.push({ ...base, k: i % 7 === 0 ? 'calloc' : 'alloc', id: i, size: sizeOf(i), caller: i % 2 });
      if (i % 2 === 0) recs.push({ ...base, k: 'free', id: i >> 1 });
      if (i % 5 === 0) recs.push({ ...base, k: 'realloc', id: i, size: BigInt(2 ** (i % 48)) });
    }
    // Every size again, after the set has grown: each must be found, not counted twice.
    for (let i = 0; i < BLOCKS; i++) recs.push({ ...base, k: 'alloc', id: BLOCKS + i, size: sizeOf(i) });
    const { records, events } = encode([...PRELUDE, ...recs]);
    const r = await same(() => streamOf('t.hst', hstFile(records, { events }), []), 'hst', false) as { stats: TraceStats };
    expect(r.stats.distinctSizes).toBeGreaterThan(4096);
    expect(r.stats.lifetimeHistogram.length).toBeGreaterThan(8);
    expect(r.stats.perThread.length).toBeGreaterThan(1);
  });
});
