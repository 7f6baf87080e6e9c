// The WASM record loop (src/trace/formats/hst-wasm.ts, assembly/trace/hst.ts) against the
// JavaScript reader it replaces in replays: the same op batches, counts, thread rows, leak summary,
// labels, callers and warnings for valid files, and the same error (message and byte offset) or
// the same --lenient result for damaged ones, however the input is cut into chunks.
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wasmHstReader } from '../../src/trace/formats/hst-wasm.js';
import { openTrace } from '../../src/trace/read.js';
import { OpWriter, replayStatsOf } from '../../src/trace/replay.js';
import { hstFile } from './hst-bytes.js';
import { FIXTURES, PRELUDE, convertedFixture, encode, plainRunRecs, recArb, streamOf, type Rec } from './hst-records.js';

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

  it('alignments a rounded log2 takes for powers of two (2^53 - 1, 2^52 + 1): both readers refuse them', async () => {
    // The damaged file fast-check found (seed 960887497): byte 119 made an ALIGNED record whose
    // alignment is 2^53 - 1, and the file cut right after it.
    const found = Buffer.from([137, 72, 83, 84, 13, 10, 26, 10, 2, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 11, 8, 109, 97, 105,
      110, 46, 99, 58, 49, 11, 8, 117, 116, 105, 108, 46, 99, 58, 57, 11, 8, 109, 97, 105, 110, 46, 99, 58, 49, 11, 5, 120, 46, 99,
      58, 51, 10, 5, 115, 116, 97, 114, 116, 10, 4, 112, 101, 97, 107, 10, 5, 115, 116, 97, 114, 116, 10, 3, 101, 110, 100, 129, 15,
      27, 0, 4, 37, 2, 129, 31, 94, 2, 129, 10, 1, 0, 10, 5, 97, 46, 99, 58, 49, 11, 5, 97, 46, 99, 58, 49, 6, 1, 9, 1, 3, 3, 140, 22,
      255, 255, 255, 255, 255, 255, 255, 15]);
    for (const lenient of [false, true]) {
      expect(await expectSame(found, [], lenient)).toEqual(expect.objectContaining({ error: expect.stringContaining('alignment 9007199254740991 is not a power of two at byte offset 119') }));
    }
    const varint = (v: bigint): number[] => {
      const out: number[] = [];
      for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
      return [...out, Number(v)];
    };
    const { records: prelude, events } = encode([...PRELUDE]);
    for (const [align, bad] of [[2n ** 53n - 1n, true], [2n ** 52n + 1n, true], [2n ** 52n, false], [2n ** 53n + 1n, false]] as const) {
      const bytes = hstFile([...prelude, 0x03, 5, 40, ...varint(align)], { events: events + 1 });
      const result = await expectSame(bytes, [], false);
      if (bad) expect(result).toEqual(expect.objectContaining({ error: expect.stringContaining(`alignment ${align} is not a power of two`) }));
      else expect(JSON.stringify(result)).not.toContain('not a power of two');
    }
  });

  it('non-canonical varints in each field of the common records, at every length: the same error or --lenient count', async () => {
    // value v written in `len` bytes, the last one 0 (v < 2^(7 × (len - 1))): a longer encoding than needed
    const padded = (v: number, len: number): number[] =>
      Array.from({ length: len }, (_, i) => ((v >> (7 * i)) & 0x7f) | (i < len - 1 ? 0x80 : 0));
    const { records: prelude, events } = encode([...PRELUDE]);
    const CALLER = 0x80;
    for (const len of [2, 3, 4, 8, 9]) { // inline lengths, the long tail, one past what is staged
      for (const field of ['id', 'size', 'caller', 'free']) {
        const f = (name: string, v: number): number[] => (field === name ? padded(v, len) : [v]);
        const recs = [...prelude, 0x01 | CALLER, ...f('id', 5), ...f('size', 40), ...f('caller', 1), 0x01, 7, 16, 0x05, ...f('free', 5)];
        const bytes = hstFile(recs, { events: events + 3 });
        for (const lenient of [false, true]) {
          await expectSame(bytes, [], lenient);
          await expectSame(bytes, [bytes.length - 6, bytes.length - 4], lenient); // varints cut between chunks
        }
      }
    }
  });

  it('every value of a record\'s first byte, met while records are staged: the same records or error', async () => {
    // stage() takes a record's opcode from a 256-entry table (assembly/trace/hst.ts stagedOps):
    // each byte between two staged allocations, with fields that fit any staged record.
    const { records: prelude, events } = encode([...PRELUDE]);
    for (let b = 0; b < 256; b++) {
      const recs = [...prelude, 0x01, 3, 24, b, 4, 40, 1, 0x01, 6, 16, 0x05, 3];
      const bytes = hstFile(recs, { events: events + 4 });
      await expectSame(bytes, [], false); // an unknown opcode fails --lenient reads too
    }
  });

  it('thread rows: one thread (kept as the ledger\'s own counts, written when read), a thread named after events, a thread ended before the first event', async () => {
    const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
    const rec = (k: Rec['k'], id: number, size = 0n, value = 0n): Rec => ({ ...base, k, id, size, value });
    const thread = (tid: bigint): Rec => rec('thread', 0, 0n, tid);
    // Every kind of event: allocations of each call, a resize up and down, an untraced realloc, a
    // free, a double and an unmatched free, an implicit free, an allocation into a live id, a
    // refused allocation, a skip record; the live bytes go up to a peak and down again.
    const body = (at: number): Rec[] => [
      rec('alloc', at, 100n), rec('calloc', at + 1, 2000n), { ...rec('aligned', at + 2, 64n), align: 16n }, rec('alloc', at + 3, 5n),
      rec('realloc', at + 1, 9000n), rec('realloc', at + 1, 300n), rec('untraced', at + 4, 77n), rec('free', at + 3),
      rec('free', at + 3), rec('free', at + 9), rec('implicit', at), rec('alloc', at + 2, 40n), rec('alloc', at + 5, (1n << 47n) + 1n),
      rec('skip', 0, 0n, 1n), rec('alloc', at, 12n),
    ];
    const cases: Rec[][] = [
      body(0),                                                            // one row, never a second
      [thread(3n), ...body(0)],                                           // one named thread
      [...body(0), thread(5n), ...body(20), rec('free', 1), rec('realloc', 2, 4000n), thread(0n), rec('free', 20), rec('alloc', 4, 1n)],
      [rec('threadEnd', 0, 0n, 7n), ...body(0), thread(7n), rec('free', 1)], // a row made before the first event
      [rec('threadEnd', 0, 0n, 0n), ...body(0)],                           // thread 0's row made by its end
    ];
    for (const recs of cases) {
      const { records, events } = encode([...PRELUDE, ...recs]);
      const bytes = hstFile(records, { events });
      const whole = await expectSame(bytes, [], false) as { error: string | null; threads: { events: number; peakLiveBytes: number }[] };
      expect(whole.error).toBeNull();
      expect(whole.threads.length).toBeGreaterThan(0);
      expect(whole.threads.some((t) => t.peakLiveBytes > 9000)).toBe(true);
      await expectSame(bytes, [Math.floor(bytes.length / 2)], false, 3);
    }
  });

  it('runs of plain births and frees (counts kept in locals) broken by every other kind of record, peaks inside runs', async () => {
    const { records, events } = encode([...PRELUDE, ...plainRunRecs()]);
    const bytes = hstFile(records, { events });
    const whole = await expectSame(bytes, [], false) as { error: string | null; peakEvent: number; stats: { doubleFrees: number; unmatchedFrees: number; implicitFrees: number } };
    expect(whole.error).toBeNull();
    expect(whole.stats).toMatchObject({ doubleFrees: 1, implicitFrees: 1 });
    expect(whole.stats.unmatchedFrees).toBeGreaterThan(0);
    expect(whole.peakEvent).toBeGreaterThan(events / 2); // the second run's peak (3,000-byte blocks)
    await expectSame(bytes, Array.from({ length: 30 }, (_, i) => bytes.length - 1500 + i * 50), false, 7);
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

  it('a file cut at every byte of its last records, the bytes of a longer chunk left behind in the input buffer: the same records or error', async () => {
    // stage() reads a record with no test of the input's end when it starts at least
    // MAX_FIXED_RECORD_BYTES (41) before it: the last records of a file take the tested decoding.
    // The bytes past the end in the engine's input buffer are a longer chunk's (three-byte ids,
    // continuation bytes): a decoding that read past the end would take them for the cut record's.
    const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
    const recs: Rec[] = [];
    for (let i = 0; i < 400; i++) {
      recs.push({ ...base, id: 20_000 + i, size: BigInt(200 + i), caller: i % 2 });
      if (i % 3 === 0) recs.push({ ...base, k: 'free', id: 20_000 + i - 1 });
    }
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    for (let cut = 1; cut <= 60; cut++) {
      const input = bytes.subarray(0, bytes.length - cut);
      for (const lenient of [false, true]) {
        await expectSame(input, [], lenient);
        await expectSame(input, [input.length - 30], lenient); // the last chunk shorter than the first
      }
    }
  });

  it('a chunk of many engine input pieces (64 KiB each): fixed records and strings of every length across the piece ends, one longer than a piece', async () => {
    const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
    const recs: Rec[] = [];
    let callers = 4; // PRELUDE's
    for (let i = 0; i < 40_000; i++) {
      recs.push({ ...base, id: i % 5000, size: BigInt(1 + ((i * 131) % 70_000)), caller: i % 3 === 0 ? null : (i * 7) % callers });
      if (i % 5 === 0) recs.push({ ...base, k: 'free', id: (i * 3) % 5000 });
      if (i % 61 === 0) {
        const len = i === 20_000 ? 100_000 : 1 + ((i * 389) % 3000); // one string longer than a piece
        recs.push({ ...base, k: i % 2 === 0 ? 'caller' : 'label', text: String.fromCharCode(97 + (i % 26)).repeat(len) });
        if (i % 2 === 0) callers++;
      }
      if (i % 97 === 0) recs.push({ ...base, k: 'mark', value: BigInt(i % 4) });
    }
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    expect(bytes.length).toBeGreaterThan(8 * 64 * 1024);
    const whole = await expectSame(bytes, [], false, 4096) as { stats: { events: number } };
    expect(whole.stats.events).toBe(events);
    await expectSame(bytes, [300_001, 700_003], false, 4096);
    // Damaged inside a later piece: the same error, and the same --lenient result.
    const damaged = Buffer.from(bytes);
    damaged[400_000] = 0xff;
    await expectSame(damaged, [], false, 4096);
    await expectSame(damaged, [], true, 4096);
  });
});
