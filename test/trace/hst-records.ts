// Shared by the .hst decoder tests (hst-wasm.test.ts: WASM decoder vs JavaScript reader;
// hst-direct.test.ts: one-instance replay vs op batches): fixtures converted to .hst, byte streams
// cut into chunks, and random record streams (valid and invalid records, threads, untraced
// reallocs, implicit frees, marks, callers).
import { join } from 'node:path';
import fc from 'fast-check';
import { HST_EVENT_COUNT_OFFSET, HstWriter, hstEventCountBytes } from '../../src/trace/formats/hst.js';
import { openTrace, type TraceStream } from '../../src/trace/read.js';
import { leb } from './hst-bytes.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A fixture trace converted to .hst (as `heapsim convert` writes it). */
export async function convertedFixture(name: string): Promise<Buffer> {
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

export function streamOf(bytes: Buffer, cuts: readonly number[]): TraceStream {
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

export const OP = { alloc: 1, calloc: 2, aligned: 3, realloc: 4, free: 5, skip: 6, mark: 7, tick: 8, thread: 9, label: 10, caller: 11, untraced: 12, implicit: 13, threadEnd: 14 };
const HAS_CALLER = 0x80;

export type Rec = { k: keyof typeof OP; id: number; size: bigint; align: bigint; caller: number | null; text: string; value: bigint };

export const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: 0n, max: 300n }) },
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 1n << 30n }) },
  { weight: 1, arbitrary: fc.constantFrom(1n << 47n, (1n << 47n) + 1n, (1n << 46n), (1n << 53n) - 1n, 1n << 53n, (1n << 64n) - 1n) },
);
export const recArb: fc.Arbitrary<Rec> = fc.record({
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
export function encode(recs: readonly Rec[]): { records: number[]; events: number } {
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
export const PRELUDE: Rec[] = [
  ...['main.c:1', 'util.c:9', 'main.c:1', 'x.c:3'].map((text) => ({ k: 'caller' as const, id: 0, size: 0n, align: 1n, caller: null, text, value: 0n })),
  ...['start', 'peak', 'start', 'end'].map((text) => ({ k: 'label' as const, id: 0, size: 0n, align: 1n, caller: null, text, value: 0n })),
];


/**
 * One thread's records for the decoder's runs of plain records (assembly/trace/hst.ts
 * applyStaged: counts in locals while births and frees need only the record's word): long runs
 * of plain allocations and frees, with peaks inside runs, broken by every record that leaves a
 * run: a wide size (64 KiB - 1 and more) born, freed and an id born again over one, a wide
 * caller (the 16,382nd caller on) likewise, a calloc, an allocation into a live id (an implicit
 * free), a refused allocation, an unmatched and a double free, a realloc, a skip, the first ids
 * of a record page that stage() found not made yet. The live bytes peak inside a run.
 */
export function plainRunRecs(): Rec[] {
  const rec = (k: Rec['k'], id: number, size = 0n, caller: number | null = null, value = 0n): Rec =>
    ({ k, id, size, align: 1n, caller, text: '', value });
  const recs: Rec[] = [];
  const wideCaller = 16_385; // ledger.ts CALLER_WIDE - 1 = 16,382 callers fit the record
  for (let i = PRELUDE.filter((r) => r.k === 'caller').length; i <= wideCaller + 2; i++) recs.push({ ...rec('caller', 0), text: `c${i}.c:1` });
  for (let i = 0; i < 100; i++) recs.push(rec('alloc', i, BigInt(16 + i * 8), i % 3 === 0 ? null : i % 2));
  for (let i = 0; i < 100; i += 2) recs.push(rec('free', i));
  recs.push(
    rec('alloc', 200, 70_000n), rec('alloc', 201, 24n, 1), rec('free', 200), rec('alloc', 202, 8n), rec('alloc', 200, 32n),
    rec('calloc', 203, 48n), rec('alloc', 1, 40n), rec('alloc', 204, (1n << 47n) + 1n), rec('free', 5000), rec('free', 0),
    rec('realloc', 3, 500n), rec('skip', 0, 0n, null, 1n), rec('alloc', 4100, 16n), rec('alloc', 4101, 16n), rec('free', 4100),
    rec('alloc', 205, 64n, wideCaller), rec('alloc', 206, 64n, 2), rec('free', 205), rec('alloc', 205, 72n, 0), rec('free', 206),
  );
  for (let i = 300; i < 400; i++) recs.push(rec('alloc', i, 3000n, i % 2)); // the peak, inside a run
  for (let i = 300; i < 400; i++) recs.push(rec('free', i));
  recs.push(rec('alloc', 210, 65_534n), rec('alloc', 211, 65_535n), rec('free', 211), rec('free', 210), rec('alloc', 211, 16n));
  for (let i = 1; i < 100; i += 2) recs.push(rec('free', i));
  return recs;
}
