// One record per block id (assembly/trace/ledger.ts, assembly/ids.ts idShareRecords): in the
// one-instance `.hst` replay the engine keeps its id entries in the trace ledger's 8-byte records
// and reads the requested bytes from the ledger's size. These are the rare cases the compact record
// keeps exact through a fallback rather than a limit: requested sizes of 4 MiB - 1 bytes and more
// (up to the ledger's 2^47; the engine reads them from the ledger's side table), caller indices
// from 16,382 on, birth events from 2^32 - 1 on (kept in a side table while the block is live) and
// thread rows from 255 on (a trace of more than 254 threads; rows live in pages beside the records,
// made from the first block of a row other than 0 on). Births are kept only while stats collect (statsCollect: the lifetimes
// of `heapsim stats`); the helpers below turn that on to read them, and a replay reads -1. The equality of the whole run document with the op-batch path, for
// every kind of record, is test/trace/hst-direct.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { instantiateEngine } from '../../src/engine/load.js';
import { WasmHstParser, wasmHstReader, type HstExports } from '../../src/trace/formats/hst-wasm.js';
import { WasmLedger } from '../../src/trace/formats/wasm-ledger.js';
import { openTrace } from '../../src/trace/read.js';
import { OpWriter } from '../../src/trace/replay.js';
import { traceWorkload } from '../../src/trace/workload.js';
import { hstFile } from './hst-bytes.js';
import { PRELUDE, encode, streamOf, type Rec } from './hst-records.js';

const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
const U32_MAX = 2n ** 32n - 1n;
const MAX_REQUEST = 2n ** 47n; // assembly/trace/ledger.ts MAX_REQUEST_BYTES
const SIZE_WIDE = 2n ** 16n - 1n; // assembly/trace/ledger.ts SIZE_WIDE: sizes from here on are in a side table
const CALLER_WIDE = 2 ** 14 - 1; // assembly/trace/ledger.ts CALLER_WIDE: caller indices + 1 from here on are in a side table
const ROW_WIDE = 255; // assembly/trace/ledger.ts ROW_WIDE: thread rows from here on are in a side table

/** Births kept from here on (the WASM ledger keeps them only while stats collect: assembly/trace/ledger.ts). */
function keepBirths(ledger: unknown): void {
  if (ledger instanceof WasmLedger) (ledger.wasm as unknown as { statsCollect(): void }).statsCollect();
}

/**
 * Live blocks (id, bytes, caller, birth) after decoding `bytes`, the ledger's event count moved on
 * by `skip` first; births kept unless `births` is false (a replay's ledger: birth -1).
 */
async function liveAfter(records: number[], events: number, skip: bigint, births = true): Promise<number[][]> {
  const bytes = hstFile(records, { events: events + Number(skip) }); // END counts every event
  const writer = new OpWriter(64);
  const input = await openTrace(streamOf(bytes, []), writer, { format: 'hst' }, async (file, lenient) => {
    const r = await wasmHstReader(file, lenient, writer);
    (r.ledger.wasm as unknown as { ledgerSkipEvents(n: bigint): void }).ledgerSkipEvents(skip);
    return r;
  });
  if (births) keepBirths(input.ledger);
  for await (const chunk of input.chunks) input.parser.push(chunk);
  input.parser.finish();
  const live: number[][] = [];
  input.ledger.forEachLive((id, size, caller, birth) => live.push([id, size, caller, birth]));
  return live;
}

/**
 * Thread rows and never-freed blocks after decoding `bytes` with the JavaScript reader or the WASM
 * one (in `instance` when given: a module instance that decoded other traces before).
 */
async function threadsAfter(bytes: Buffer, decoder: 'js' | 'wasm', instance?: HstExports): Promise<unknown> {
  const writer = new OpWriter(4096);
  const input = await openTrace(streamOf(bytes, []), writer, { format: 'hst' },
    decoder === 'js' ? undefined : instance === undefined ? (file, lenient) => wasmHstReader(file, lenient, writer)
      : async (file, lenient) => {
        const ledger = new WasmLedger<HstExports>(instance);
        return { ledger, parser: new WasmHstParser({ file, lenient, ledger }, writer) };
      });
  keepBirths(input.ledger);
  for await (const chunk of input.chunks) { input.parser.push(chunk); writer.ready.splice(0); }
  input.parser.finish();
  const live: number[][] = [];
  input.ledger.forEachLive((id, size, caller, birth) => live.push([id, size, caller, birth]));
  return { threads: input.ledger.threadCounts(), live, liveBytes: input.ledger.liveBytes };
}

describe('one record per id: the rare values stay exact', () => {
  it('thread rows from 255 on: blocks of 1,000 threads freed, resized and replaced from other threads', async () => {
    const recs: Rec[] = [];
    const THREADS = 1_000; // above ROW_WIDE
    const IDS = 3_000;
    for (let t = 0; t < THREADS; t++) {
      recs.push({ ...base, k: 'thread', value: BigInt(t) });
      recs.push({ ...base, id: (t * 13) % IDS, size: BigInt(1 + (t % 500)) }); // an implicit free of another thread's block, often
      if (t % 3 === 0) recs.push({ ...base, k: 'free', id: (t * 7) % IDS });
      if (t % 5 === 0) recs.push({ ...base, k: 'realloc', id: (t * 11) % IDS, size: BigInt(t % 900 + 1) });
    }
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    const js = await threadsAfter(bytes, 'js');
    expect(await threadsAfter(bytes, 'wasm')).toEqual(js);
    const threads = (js as { threads: { thread: number; liveBlocks: number }[] }).threads;
    expect(threads.length).toBe(THREADS);
    expect(threads.filter((c) => c.thread >= ROW_WIDE && c.liveBlocks > 0).length).toBeGreaterThan(100);
  });

  it('caller indices from CALLER_WIDE - 1 on: 20,000 distinct callers, blocks born, freed, resized with and without a caller, born again', async () => {
    const CALLERS = 20_000; // above CALLER_WIDE
    const IDS = 9_000;      // three record pages
    const recs: Rec[] = [...PRELUDE];
    for (let c = 0; c < CALLERS; c++) recs.push({ ...base, k: 'caller', text: `f${c}.c:${c}` });
    const callerAt = (i: number): number | null => (i % 11 === 0 ? null : 4 + ((i * 7919) % CALLERS));
    for (let i = 0; i < IDS; i++) recs.push({ ...base, id: i, size: BigInt(1 + (i % 300)), caller: callerAt(i) });
    for (let i = 0; i < IDS; i += 4) recs.push({ ...base, k: 'free', id: i });
    for (let i = 1; i < IDS; i += 5) recs.push({ ...base, k: 'realloc', id: i, size: 40n, caller: i % 2 === 0 ? null : callerAt(i * 3 + 1) });
    for (let i = 0; i < IDS; i += 8) recs.push({ ...base, id: i, size: 9n, caller: i % 3 === 0 ? 1 : callerAt(i + 5) }); // born again: small or wide
    for (let i = 2; i < IDS; i += 6) recs.push({ ...base, id: i, size: 5n, caller: 3 }); // implicit frees of wide callers' blocks
    const { records, events } = encode(recs);
    const bytes = hstFile(records, { events });
    const js = await threadsAfter(bytes, 'js') as { live: number[][] };
    expect(js.live.length).toBeGreaterThan(6000);
    expect(js.live.filter(([, , caller]) => caller! >= CALLER_WIDE).length).toBeGreaterThan(1000);
    expect(await threadsAfter(bytes, 'wasm')).toEqual(js);
  });

  it('thread rows beside the records: one thread, then a second; blocks of row 0 made before any row page, freed from the other thread, born again in row 0', async () => {
    const IDS = 12_000; // three record pages
    const recs: Rec[] = [];
    for (let i = 0; i < IDS; i++) recs.push({ ...base, id: i, size: BigInt(1 + (i % 90)) }); // no thread named: row 0, no row page
    recs.push({ ...base, k: 'thread', value: 7n });                                        // a second row
    for (let i = 0; i < IDS; i += 3) recs.push({ ...base, k: 'free', id: i });             // row 0's blocks freed from row 1
    for (let i = 0; i < IDS; i += 9) recs.push({ ...base, id: i, size: 33n });              // born in row 1: row pages made
    recs.push({ ...base, k: 'thread', value: 0n });                                        // back to thread 0's row
    for (let i = 3; i < IDS; i += 9) recs.push({ ...base, id: i, size: 21n });              // born again in row 0, beside row 1's
    for (let i = 1; i < IDS; i += 7) recs.push({ ...base, k: 'realloc', id: i, size: 70n }); // resized: moved to row 0
    recs.push({ ...base, k: 'thread', value: 7n });
    for (let i = 0; i < IDS; i += 2) recs.push({ ...base, k: 'free', id: i });
    for (let i = 1; i < IDS; i += 4) recs.push({ ...base, k: 'realloc', id: i, size: 8n });
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    const js = await threadsAfter(bytes, 'js') as { threads: { liveBlocks: number }[] };
    expect(js.threads.length).toBe(2);
    expect(js.threads.every((t) => t.liveBlocks > 500)).toBe(true);
    expect(await threadsAfter(bytes, 'wasm')).toEqual(js);
  });

  it('birth events from 2^32 - 1 on: exact for live blocks, through frees, implicit frees and new births', async () => {
    const recs: Rec[] = [];
    // 300 blocks born around 2^32 (more than the side table's first 64 slots), some freed, some
    // freed implicitly (their id allocated again), some resized (birth kept), ids used again.
    for (let i = 0; i < 300; i++) recs.push({ ...base, id: i, size: BigInt(16 + i), caller: i % 3 === 0 ? null : i % 2 });
    for (let i = 0; i < 300; i += 3) recs.push({ ...base, k: 'free', id: i });
    for (let i = 1; i < 300; i += 7) recs.push({ ...base, id: i, size: 99n });
    for (let i = 2; i < 300; i += 5) recs.push({ ...base, k: 'realloc', id: i, size: 5000n });
    for (let i = 0; i < 300; i += 6) recs.push({ ...base, id: i, size: 7n, caller: 1 });
    const { records, events } = encode([...PRELUDE, ...recs]);
    const skip = U32_MAX - 150n; // the 151st event is born at 2^32 - 1 (the marker value itself)
    const plain = await liveAfter(records, events, 0n);
    const moved = await liveAfter(records, events, skip);
    expect(plain.length).toBeGreaterThan(200);
    expect(moved).toEqual(plain.map(([id, size, caller, birth]) => [id, size, caller, birth! + Number(skip)]));
    const births = moved.map((b) => b[3]!);
    expect(births.some((b) => b < 2 ** 32 - 1)).toBe(true);
    expect(births.filter((b) => b >= 2 ** 32 - 1).length).toBeGreaterThan(64);
    expect(births).toContain(2 ** 32 - 1);
  });

  it('a replay keeps no births (only stats read them): the same live blocks, sizes and callers, birth -1', async () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 5000; i++) recs.push({ ...base, id: i, size: BigInt(1 + (i % 700)), caller: i % 4 === 0 ? null : i % 3 });
    for (let i = 0; i < 5000; i += 3) recs.push({ ...base, k: 'free', id: i });
    for (let i = 1; i < 5000; i += 7) recs.push({ ...base, k: 'realloc', id: i, size: 123n });
    const { records, events } = encode([...PRELUDE, ...recs]);
    const kept = await liveAfter(records, events, 0n);
    expect(kept.length).toBeGreaterThan(3000);
    expect(kept.every(([, , , birth]) => birth! >= 1)).toBe(true);
    expect(await liveAfter(records, events, 0n, false)).toEqual(kept.map(([id, size, caller]) => [id, size, caller, -1]));
  });

  it('requested sizes of 4 MiB - 1 bytes and more, up to 2^47, in the shared records (one-instance replay) and the ledger', async () => {
    const TOP = MAX_REQUEST - 2n ** 41n;
    const files: { recs: Rec[]; want: [number, bigint][] }[] = [
      {
        recs: [
          ...[U32_MAX - 1n, U32_MAX, U32_MAX + 1n, 2n ** 40n + 3n, 24n].map((size, id) => ({ ...base, id, size })),
          { ...base, k: 'realloc', id: 0, size: TOP }, { ...base, k: 'realloc', id: 1, size: 40n },
          { ...base, k: 'free', id: 2 }, { ...base, id: 3, size: U32_MAX + 9n }, // an implicit free of 3
          { ...base, id: 2, size: 8n }, { ...base, k: 'realloc', id: 4, size: U32_MAX },
        ],
        want: [[0, TOP], [1, 40n], [2, 8n], [3, U32_MAX + 9n], [4, U32_MAX], [5, 0n]],
      },
      // Around the record's own size bits: a wide size made narrow and a narrow one wide by realloc,
      // a wide block freed, replaced by an implicit free (the engine reads its size after the
      // ledger freed it) and born again, ids used again with the other kind of size.
      {
        recs: [
          ...[SIZE_WIDE - 1n, SIZE_WIDE, SIZE_WIDE + 1n, 5n * SIZE_WIDE, 100n, SIZE_WIDE].map((size, id) => ({ ...base, id, size })),
          { ...base, k: 'realloc', id: 0, size: SIZE_WIDE + 2n }, { ...base, k: 'realloc', id: 1, size: 64n },
          { ...base, k: 'free', id: 2 }, { ...base, id: 3, size: 77n }, { ...base, id: 5, size: 3n * SIZE_WIDE },
          { ...base, id: 2, size: SIZE_WIDE }, { ...base, k: 'realloc', id: 4, size: 2n * SIZE_WIDE },
          { ...base, k: 'free', id: 1 }, { ...base, id: 1, size: SIZE_WIDE + 7n }, { ...base, k: 'realloc', id: 5, size: SIZE_WIDE - 1n },
        ],
        want: [[0, SIZE_WIDE + 2n], [1, SIZE_WIDE + 7n], [2, SIZE_WIDE], [3, 77n], [4, 2n * SIZE_WIDE], [5, SIZE_WIDE - 1n], [6, 0n]],
      },
      // The largest request the ledger takes; one byte more live is refused (not an op).
      { recs: [{ ...base, id: 0, size: MAX_REQUEST }, { ...base, id: 1, size: 1n }], want: [[0, MAX_REQUEST], [1, 0n]] },
    ];
    for (const { recs, want } of files) {
      const { records, events } = encode([...PRELUDE, ...recs]);
      // The ledger's own view (live blocks, thread rows) is the JavaScript reader's.
      expect(await threadsAfter(hstFile(records, { events }), 'wasm')).toEqual(await threadsAfter(hstFile(records, { events }), 'js'));
      for (const policy of ['ptmalloc', 'first-fit']) { // (pool commits what it places: a check of a 1 TiB block takes seconds)
        const w = await traceWorkload(streamOf(hstFile(records, { events }), []), { format: 'hst', direct: true });
        const engine = await createEngine({ arch: 'x64', replay: true, instance: w.direct!.instance });
        engine.createHeap(policy);
        await w.direct!.run({ call: (fn) => engine.call(fn), applied: () => {} });
        for (const [id, size] of want) expect(engine.blockOf(id).requestedBytes, `${policy} id ${id}`).toBe(Number(size));
        expect(engine.check(), policy).toBe(0);
        // The engine keeps no id table of its own: its entries are in the ledger's records.
        expect(engine.engineTableBytes().ids, policy).toBe(0);
        // A heap destroyed forgets its ids (a scan of the shared records); every invariant still holds.
        engine.destroyHeap(0);
        for (const [id] of want) expect(engine.blockOf(id)).toEqual({ address: 0, requestedBytes: 0 });
        expect(engine.check(), policy).toBe(0);
      }
    }
  });

  it('live blocks read out in batches (ledgerLive, 4,096 a call): every one, in id order, across pages, gaps and batch ends', async () => {
    // Ids 3 apart over several 4,096-id pages (a batch ends inside a page), every seventh freed,
    // then ids far beyond (pages between never made), the last one the high water mark.
    const recs: Rec[] = [];
    const DENSE = 9_000;
    for (let i = 0; i < DENSE; i++) recs.push({ ...base, id: i * 3, size: BigInt(1 + (i % 100)), caller: i % 2 === 0 ? null : i % 2 });
    for (let i = 0; i < DENSE; i += 7) recs.push({ ...base, k: 'free', id: i * 3 });
    for (const id of [100_000, 100_001, 4_000_000, 4_004_095, 4_004_096]) recs.push({ ...base, id, size: 5n });
    recs.push({ ...base, k: 'free', id: 4_004_096 });
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    const js = await threadsAfter(bytes, 'js') as { live: number[][] };
    expect(await threadsAfter(bytes, 'wasm')).toEqual(js);
    expect(js.live.length).toBe(DENSE - Math.ceil(DENSE / 7) + 4);
  });

  it('live blocks read out (ledgerLive\'s scan, four records a step): random runs of live and freed ids at every offset of a page and of a step, the high water anywhere in a page', async () => {
    const PAGE_IDS = 4096; // assembly/trace/ledger.ts PAGE_IDS
    const runArb = fc.record({ page: fc.nat({ max: 3 }), at: fc.nat({ max: PAGE_IDS - 1 }), length: fc.integer({ min: 1, max: 40 }), freeEvery: fc.integer({ min: 0, max: 5 }) });
    await fc.assert(fc.asyncProperty(fc.array(runArb, { minLength: 1, maxLength: 12 }), async (runs) => {
      const born = new Set<number>();
      const recs: Rec[] = [];
      for (const run of runs) {
        for (let i = 0; i < run.length; i++) {
          const id = run.page * PAGE_IDS + run.at + i;
          if (born.has(id)) continue;
          born.add(id);
          recs.push({ ...base, id, size: BigInt(1 + (id % 97)) });
          if (run.freeEvery > 0 && i % run.freeEvery === 0) recs.push({ ...base, k: 'free', id });
        }
      }
      const { records, events } = encode([...PRELUDE, ...recs]);
      const bytes = hstFile(records, { events });
      const js = await threadsAfter(bytes, 'js') as { live: number[][] };
      expect(await threadsAfter(bytes, 'wasm')).toEqual(js);
    }), { numRuns: 60 });
  });

  it('records made zero in a module instance that decoded a trace before (pages not zeroed again where memory is fresh)', async () => {
    // The first trace leaves live, wide and freed records over 5 pages of ids (and pages made
    // beyond its hint); the second, read in the same instance, frees and resizes those ids again:
    // every record it makes must read as never used, as in a new instance.
    const IDS = 5 * 4096 + 17; // assembly/trace/ledger.ts PAGE_IDS = 4096
    const first: Rec[] = [];
    for (let id = 0; id < IDS; id++) first.push({ ...base, id, size: id % 5 === 0 ? SIZE_WIDE + BigInt(id) : BigInt(1 + (id % 300)), caller: id % 2 });
    for (let id = 0; id < IDS; id += 3) first.push({ ...base, k: 'free', id });
    for (const id of [200_000, 300_001]) first.push({ ...base, id, size: 9n });
    const second: Rec[] = [];
    for (let id = 0; id < IDS; id += 2) second.push({ ...base, k: 'free', id });
    for (let id = 1; id < IDS; id += 4) second.push({ ...base, k: 'realloc', id, size: 33n });
    for (let id = 0; id < IDS; id += 7) second.push({ ...base, id, size: 5n });
    for (const id of [200_000, 300_001]) second.push({ ...base, k: 'free', id });
    const file = (recs: Rec[], idBound: number): Buffer => {
      const { records, events } = encode([...PRELUDE, ...recs]);
      return hstFile(records, { events, version: 3, hint: [idBound, idBound] });
    };
    const instance = await instantiateEngine('release') as unknown as HstExports;
    await threadsAfter(file(first, IDS), 'wasm', instance);
    // The same hint (the reserved block again, taken from memory used before) and a smaller one
    // (pages beyond it allocated one by one).
    for (const hint of [IDS, 4096]) {
      const bytes = file(second, hint);
      expect(await threadsAfter(bytes, 'wasm', instance)).toEqual(await threadsAfter(bytes, 'js'));
    }
  });

  it('an engine with C semantics (not replay mode) keeps its own id table on the direct path: a failed realloc keeps the old size', async () => {
    // On x86 a realloc to 3 GiB fails; with C semantics the old block and its size stay (the
    // ledger has the new size: sharing its records would lose the old one).
    const recs: Rec[] = [{ ...base, id: 0, size: 100n }, { ...base, id: 1, size: 40n }, { ...base, k: 'realloc', id: 0, size: 3n << 30n }];
    const { records, events } = encode([...PRELUDE, ...recs]);
    const w = await traceWorkload(streamOf(hstFile(records, { events }), []), { format: 'hst', direct: true });
    const engine = await createEngine({ arch: 'x86', instance: w.direct!.instance });
    engine.createHeap('ptmalloc');
    await w.direct!.run({ call: (fn) => engine.call(fn), applied: () => {} });
    expect(engine.failedOps).toBe(1);
    expect(engine.blockOf(0).requestedBytes).toBe(100);
    expect(engine.blockOf(1).requestedBytes).toBe(40);
    expect(engine.engineTableBytes().ids).toBeGreaterThan(0);
    expect(engine.check()).toBe(0);
  });
});
