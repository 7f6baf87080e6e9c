// The one-instance mtrace replay (src/trace/replay.ts TraceReplay.direct with the WASM line loop:
// the run's engine is made on the reader's instance and the address map's op records are applied
// there in runs, assembly/trace/text/address-map.ts direct mode, engine.ts traceRun) against the
// op-batch path it replaces in `heapsim run` (the reference): the same whole run document, byte
// for byte, or the same error, for every mtrace fixture and for random line streams (frees, double
// and unmatched frees, reused addresses, realloc pairs good and broken, failed and oversize
// allocations, callers new and seen, malformed lines), strict and --lenient, any policy, sample
// interval, architecture and cutting of the input into chunks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../../src/run/run.js';
import { parseTrimAt } from '../../src/run/trim-at.js';
import { expectSameDocument, runDoc, textStream } from './direct-path.js';
import { mtraceLine } from './mtrace-lines.js';
import { openReplay } from '../../src/trace/replay.js';
import { MIN_ALLOCATION_LINE_BYTES, mtraceSizeHint } from '../../src/trace/formats/text-wasm.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const PROPERTY_RUNS = 40;
/** Lines of the larger stream: several WASM calls per chunk (the map returns every 4,096 ops). */
const LARGE_LINES = 12_000;
/** Both paths on the same input: equal documents; the direct one really taken unless `fallback`. */
async function expectSame(bytes: Buffer, cuts: readonly number[], lenient: boolean, o: RunOptions, fallback = false): Promise<string> {
  const batches = await runDoc(textStream(bytes, cuts), 'mtrace', lenient, o, 'batches', true);
  const direct = await runDoc(textStream(bytes, cuts), 'mtrace', lenient, o, 'direct', true);
  expectSameDocument(direct.out, batches.out);
  if (!direct.out.startsWith('error:')) expect(direct.used).toBe(fallback ? 'batches' : 'direct');
  return direct.out;
}

const POLICIES = ['pool', 'first-fit', 'nt', 'ptmalloc', 'tcmalloc', 'jemalloc', 'mimalloc'];

// Lines from a small world of addresses and callers (test/trace/text-wasm.test.ts's), so that every
// rule of the map and the ledger happens, plus lines the loop leaves to the host and bad lines.
const address = fc.constantFrom('0x1000', '0x1010', '0x2000', '0x7f0000001000', '0x55d0c5a4a2a0', '0x00001000',
  '0x20000000000000', '0xffffffffffffffff', '(nil)', '0', '0x10000000000000000');
const size = fc.constantFrom('0x10', '0x0', '0', '0x800000000000', '0x7fffffffffff', '0x20000000000000', '0x20000', '0x1', '0x40000000');
const caller = fc.constantFrom('', '@ ./prog:[0x401196] ', '@ ./lib.so:[0x401196] ', '@ ./prog:(main+0x1a)[0x4011b2] ', '@ ', 'x ./prog:[0x1] ');
const line = mtraceLine(address, size, caller,
  fc.constantFrom('', '= Start', '= End', 'garbage', '+ 0x1000', '@ ./p:[0x1] ++ 0x1000 0x10', '+ 0x4000 0x40\r'));
const stream = fc.tuple(fc.array(line, { maxLength: 60 }), fc.boolean())
  .map(([ls, finalNewline]) => Buffer.from(finalNewline && ls.length > 0 ? `${ls.join('\n')}\n` : ls.join('\n')));

describe('one-instance mtrace replay equals the op-batch path', () => {
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.mtrace'));

  it.each(fixtures)('%s: the same run document or error, strict and --lenient, whole and in small chunks', async (name) => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
    const bytes = readFileSync(join(FIXTURES, name));
    for (const lenient of [false, true]) {
      await expectSame(bytes, [], lenient, { policy: 'ptmalloc', every: 1 });
      await expectSame(bytes, Array.from({ length: Math.floor(bytes.length / 7) }, (_, i) => (i + 1) * 7), lenient, { policy: 'pool', every: 2 });
    }
  });

  it('random line streams with bad lines under any policy, interval, architecture and cutting', async () => {
    await fc.assert(fc.asyncProperty(
      stream, fc.array(fc.nat(4000), { maxLength: 8 }), fc.boolean(), fc.constantFrom(...POLICIES),
      fc.constantFrom(0, 1, 2, 7), fc.constantFrom<'x86' | 'x64'>('x86', 'x64'),
      async (bytes, cuts, lenient, policy, every, arch) => {
        await expectSame(bytes, cuts.map((c) => c % (bytes.length + 1)), lenient, { policy, every, arch });
      }), { numRuns: PROPERTY_RUNS });
  });

  it('a larger stream on x86: reallocs, failed allocations, a sample every event, several WASM calls per chunk', async () => {
    const lines: string[] = [];
    const live: number[] = [];
    for (let i = 0; i < LARGE_LINES; i++) {
      const at = 0x55d0c5a40000 + (i % 1500) * 0x40;
      if (live.length > 20 && i % 3 === 0) lines.push(`- 0x${live.splice((i * 7) % live.length, 1)[0]!.toString(16)}`);
      else if (live.length > 20 && i % 11 === 0) {
        const old = live.splice((i * 5) % live.length, 1)[0]!;
        lines.push(`@ ./p:[0x${(i % 9).toString(16)}] < 0x${old.toString(16)}`, `@ ./p:[0x${(i % 9).toString(16)}] > 0x${at.toString(16)} 0x${(i + 1).toString(16)}`);
        live.push(at);
      } else {
        // Some allocations an x86 heap cannot serve (512 MiB): failed allocations in the run.
        const bytes = i % 97 === 0 ? 1 << 29 : (i * 37) % 5000 + 1;
        lines.push(`@ ./p:[0x${(i % 13).toString(16)}] + 0x${at.toString(16)} 0x${bytes.toString(16)}`);
        live.push(at);
      }
    }
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const doc = JSON.parse(await expectSame(bytes, [], false, { policy: 'first-fit', every: 1, arch: 'x86' })) as { checkpoints: unknown[]; program: { failedAllocs: number; implicitFrees: number } };
    expect(doc.checkpoints.length).toBeGreaterThan(LARGE_LINES / 2);
    expect(doc.program.failedAllocs).toBeGreaterThan(0);
    expect(doc.program.implicitFrees).toBeGreaterThan(0);
    await expectSame(bytes, [1000, 50_000, 50_001], false, { policy: 'ptmalloc', every: 5 });
  });

  it('runs: a realloc cuts the run (the engine reads the old size), ids freed and born again, implicit frees, in one WASM call', async () => {
    // Each case is a few lines the line loop takes in one call, so their ops form one run: a
    // realloc of a block born in the same run (in place, growing and shrinking, and moving onto a
    // live block, an implicit free), an id freed and born again at once (the map's free-id stack),
    // an address allocated while live (the older block freed first), and a realloc after them.
    const cases = [
      '+ 0x1000 0x10\n< 0x1000\n> 0x1000 0x2000\n< 0x1000\n> 0x1000 0x8\n- 0x1000\n',
      '+ 0x1000 0x40\n+ 0x2000 0x80\n< 0x1000\n> 0x2000 0x100\n< 0x2000\n> 0x3000 0x30\n- 0x3000\n',
      '+ 0x1000 0x20\n- 0x1000\n+ 0x2000 0x900\n< 0x2000\n> 0x2000 0x10\n+ 0x2000 0x50\n< 0x2000\n> 0x4000 0x70000\n',
      '+ 0x1000 0x20\n+ 0x1000 0x30000\n< 0x1000\n> 0x1000 0x40\n- 0x1000\n+ 0x1000 0x10\n',
    ];
    for (const text of cases) {
      for (const policy of POLICIES) await expectSame(Buffer.from(text), [], false, { policy, every: 1 });
    }
  });

  it('the size hint from the content bytes: small for a small trace; the same documents with none, a low, a true and a huge one', async () => {
    const text = '+ 0x1000 0x10\n+ 0x2000 0x20\n- 0x1000\n< 0x2000\n> 0x3000 0x30\n+ 0x4000 0x40\n';
    const bytes = Buffer.from(text);
    // An upper bound of the blocks live at once: one per shortest allocation line.
    const replay = await openReplay(textStream(bytes, [], bytes.length), { format: 'mtrace' });
    expect(replay.hint?.peakLiveBlocks).toBe(Math.floor(bytes.length / MIN_ALLOCATION_LINE_BYTES));
    expect(replay.hint!.peakLiveBlocks).toBeLessThan(text.split('\n').length);
    expect(replay.hint!.idBound).toBe(0);
    expect(mtraceSizeHint(undefined)).toBeUndefined();
    expect(mtraceSizeHint(MIN_ALLOCATION_LINE_BYTES - 1)).toBeUndefined();
    for (const policy of POLICIES) {
      const o: RunOptions = { policy, every: 1 };
      const none = await runDoc(textStream(bytes, []), 'mtrace', false, o, 'direct', true);
      for (const hint of [1, bytes.length, 1e9, 1e15]) {
        const hinted = await runDoc(textStream(bytes, [], hint), 'mtrace', false, o, 'direct', true);
        expectSameDocument(hinted.out, none.out);
        expectSameDocument((await runDoc(textStream(bytes, [], hint), 'mtrace', false, o, 'batches', true)).out, none.out);
      }
    }
  });

  it('a run that needs op batches (a trim at an event) takes them; a trim at the end stays direct', async () => {
    const bytes = Buffer.from('+ 0x1000 0x186a0\n- 0x1000\n+ 0x2000 0x40\n');
    await expectSame(bytes, [], false, { policy: 'ptmalloc', trimAt: [parseTrimAt('end')] });
    const doc = await expectSame(bytes, [], false, { policy: 'ptmalloc', trimAt: [parseTrimAt('2')] }, true);
    expect(doc).toContain('"trims"');
  });
});
