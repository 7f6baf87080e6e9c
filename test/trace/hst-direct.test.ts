// The one-instance `.hst` replay (src/trace/replay.ts TraceReplay.direct: the run's engine is made
// on the decoder's instance and the records are applied there in runs, assembly/engine.ts
// traceRun) against the op-batch path it replaces in `heapsim run`: the same whole run document,
// byte for byte, or the same error, for every fixture and for random record streams with marks,
// threads, thread ends, untraced reallocs, implicit frees, failed allocations, damaged records,
// any sample interval and any cutting of the input into chunks.
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../../src/run/run.js';
import { parseTrimAt } from '../../src/run/trim-at.js';
import { expectSameDocument, runDoc } from './direct-path.js';
import { hstFile } from './hst-bytes.js';
import { PRELUDE, FIXTURES, convertedFixture, encode, plainRunRecs, recArb, streamOf } from './hst-records.js';

/** Both paths on the same input: equal documents; the direct one really taken unless `fallback`. */
async function expectSame(bytes: Buffer, cuts: readonly number[], lenient: boolean, o: RunOptions, fallback = false): Promise<string> {
  const batches = await runDoc(streamOf(bytes, cuts), 'hst', lenient, o, 'batches');
  const direct = await runDoc(streamOf(bytes, cuts), 'hst', lenient, o, 'direct');
  expectSameDocument(direct.out, batches.out);
  if (!direct.out.startsWith('error:')) expect(direct.used).toBe(fallback ? 'batches' : 'direct');
  return direct.out;
}

const POLICIES = ['pool', 'first-fit', 'nt', 'ptmalloc', 'tcmalloc', 'jemalloc', 'mimalloc'];

const fileArb = fc.array(recArb, { minLength: 10, maxLength: 150 }).map((recs) => {
  const { records, events } = encode([...PRELUDE, ...recs]);
  return hstFile(records, { events });
});

describe('one-instance .hst replay equals the op-batch path', () => {
  it('every fixture trace, converted: the same run document, whole and in small chunks', async () => {
    const names = readdirSync(FIXTURES).filter((f) => !f.startsWith('.'));
    expect(names.length).toBeGreaterThan(5);
    for (const [i, name] of names.entries()) {
      const bytes = await convertedFixture(name);
      const doc = await expectSame(bytes, [], false, { policy: POLICIES[i % POLICIES.length]!, every: 3 });
      expect(doc).toContain('"checkpoints"');
      await expectSame(bytes, Array.from({ length: Math.floor(bytes.length / 5) }, (_, k) => (k + 1) * 5), false, { policy: 'ptmalloc', every: 1 });
    }
  });

  it('random record streams (marks, threads, untraced reallocs, implicit frees, failures, damage) under any policy, interval and cutting', async () => {
    await fc.assert(fc.asyncProperty(
      fileArb.chain((bytes) => fc.tuple(
        fc.constant(bytes),
        fc.array(fc.nat({ max: bytes.length }), { maxLength: 8 }).map((cs) => [...cs].sort((a, b) => a - b)),
        fc.boolean(),
        fc.constantFrom(...POLICIES),
        fc.constantFrom(0, 1, 2, 7, 64),
        fc.constantFrom<'x86' | 'x64'>('x86', 'x64'),
        fc.option(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.nat({ max: 255 })), { nil: null, freq: 4 }),
      )),
      async ([bytes, cuts, lenient, policy, every, arch, flip]) => {
        const input = Buffer.from(bytes);
        if (flip) input[flip[0]] = flip[1];
        await expectSame(input, cuts, lenient, { policy, every, arch });
      }), { numRuns: 60 });
  });

  it('a larger stream on x86: failed allocations, a sample every event, several WASM calls per chunk', async () => {
    const base = { k: 'alloc' as const, id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
    const recs = [];
    for (let i = 0; i < 4_000; i++) {
      if (i % 999 === 0) recs.push({ ...base, k: 'thread' as const, value: BigInt(i % 3) });
      if (i % 500 === 0) recs.push({ ...base, k: 'mark' as const, value: BigInt(i % 4) });
      recs.push({ ...base, id: i % 1000, size: i % 97 === 0 ? 1n << 29n : BigInt((i * 37) % 5000), caller: i % 2 });
      if (i % 3 === 0) recs.push({ ...base, k: 'free' as const, id: (i + 500) % 1000 });
      if (i % 11 === 0) recs.push({ ...base, k: 'realloc' as const, id: (i * 7) % 1000, size: BigInt(i + 1) });
    }
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    const doc = JSON.parse(await expectSame(bytes, [], false, { policy: 'first-fit', every: 1, arch: 'x86' })) as { checkpoints: unknown[]; program: { failedAllocs: number; implicitFrees: number } };
    expect(doc.checkpoints.length).toBeGreaterThan(events);
    expect(doc.program.failedAllocs).toBeGreaterThan(0);
    expect(doc.program.implicitFrees).toBeGreaterThan(0);
  });

  it('runs of plain births and frees broken by every other kind of record: the same document under each policy, a sample every event', async () => {
    const { records, events } = encode([...PRELUDE, ...plainRunRecs()]);
    const bytes = hstFile(records, { events });
    for (const policy of POLICIES) await expectSame(bytes, [], false, { policy, every: 1 });
  });

  it('a run that needs op batches (a trim at a mark) takes them; a trim at the end stays direct', async () => {
    const base = { k: 'alloc' as const, id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
    const recs = [{ ...base, size: 100_000n }, { ...base, k: 'mark' as const, value: 0n }, { ...base, k: 'free' as const }, { ...base, id: 1, size: 64n }];
    const { records, events } = encode([...PRELUDE, ...recs]);
    const bytes = hstFile(records, { events });
    await expectSame(bytes, [], false, { policy: 'ptmalloc', trimAt: [parseTrimAt('end')] });
    const doc = await expectSame(bytes, [], false, { policy: 'ptmalloc', trimAt: [parseTrimAt('start')] }, true);
    expect(doc).toContain('"trims"');
  });
});
