// The WASM mtrace line loop, address map and trace ledger (src/trace/formats/text-wasm.ts,
// assembly/trace/text/) against the JavaScript reader (the reference, `textDecoder: 'js'`), in both
// of its output forms: id events to a host Ledger (stats, convert, advise) and op records with the
// ledger in WASM (a replay). The same events in the same order, or the same op records, the same
// counts, callers, thread rows, leak summary and input counts for every mtrace fixture and for
// random line streams (valid lines, unusual ones the loop leaves to the host, and malformed ones),
// and the same error (message, file and line) or the same --lenient result, however the input is
// cut into chunks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventSink } from '../../src/trace/events.js';
import { createParser, openTrace } from '../../src/trace/read.js';
import { OpWriter } from '../../src/trace/replay.js';
import { OP_WORDS } from '../../src/engine/abi.js';
import { instantiateEngine } from '../../src/engine/load.js';
import { Ledger } from '../../src/trace/ledger.js';
import { TextWasm, type TextExports } from '../../src/trace/formats/text-wasm.js';
import { textStream } from './direct-path.js';
import { mtraceLine } from './mtrace-lines.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const PROPERTY_RUNS = 60;
/** Lines of the many-addresses stream (several doublings of the first 4,096-slot table). */
const ADDRESS_LINES = 12_000;
/** 4 GiB regions of the many-addresses stream: more than the WASM map's compact table numbers (255). */
const REGIONS = 600;
/** Blocks live at once in the free-id stack test (the first stack holds 4,096 ids: it doubles). */
const FREED_IDS = 9_000;
/** The address map's least bytes per address line (assembly/trace/text/address-map.ts MIN_ADDRESS_LINE_BYTES): the hint per address. */
const MIN_ADDRESS_LINE_BYTES = 21;
/** Addresses 16 bytes apart in the direct map test (a few leaves of 1,024). */
const DENSE = 5_000;
/** Addresses one to a window in the direct map test (its leaves: 64 whatever their fill, then 32 addresses each; mids 16, then 64). */
const SCATTERED = 6_000;
/** Addresses a leaf of the direct map covers (1,024 of 16 bytes), and a mid (1,024 leaves). */
const LEAF_WINDOW_BYTES = 16 * 1024;
const MID_WINDOW_BYTES = 16 * 1024 * 1024;
/** Small batches, so that the WASM side's op records are split across them. */
const BATCH_OPS = 7;

/** Every event a reader sends on, in order. */
function recorder(log: unknown[]): EventSink {
  return {
    alloc: (id, size, caller) => log.push(['alloc', id, size, caller]),
    calloc: (id, size, caller) => log.push(['calloc', id, size, caller]),
    alignedAlloc: (id, size, align, caller) => log.push(['aligned', id, size, align, caller]),
    realloc: (id, size, caller) => log.push(['realloc', id, size, caller]),
    untracedRealloc: (id, size, caller) => log.push(['untraced', id, size, caller]),
    free: (id) => log.push(['free', id]),
    implicitFree: (id) => log.push(['implicit', id]),
    skip: (reason) => log.push(['skip', reason]),
    mark: (label) => log.push(['mark', label]),
    tick: (delta) => log.push(['tick', delta]),
    thread: (tid) => log.push(['thread', tid]),
    threadEnd: (tid) => log.push(['threadEnd', tid]),
  };
}

/** Every op record a writer holds, in order. */
function wordsOf(writer: OpWriter): number[] {
  const words: number[] = [];
  for (const b of [...writer.ready, writer.current]) words.push(...b.words.subarray(0, b.length * OP_WORDS));
  return words;
}

/**
 * What one reader made of the bytes: events (or op records, `ops`), counts, callers, leaks, or its
 * error. With `ops`, the JavaScript reader's events go through a replay's OpWriter, and the WASM
 * reader writes op records to it straight, with its ledger in WASM.
 */
async function read(bytes: Buffer, cuts: readonly number[], lenient: boolean, textDecoder: 'js' | 'wasm', ops = false, hint?: number): Promise<unknown> {
  const events: unknown[] = [];
  const writer = new OpWriter(BATCH_OPS);
  const sink = ops ? writer : recorder(events);
  const output = (): unknown => (ops ? wordsOf(writer) : events);
  let input;
  try {
    input = await openTrace(textStream(bytes, cuts, hint), sink, { format: 'mtrace', lenient, textDecoder }, undefined, ops ? writer : undefined);
    for await (const chunk of input.chunks) input.parser.push(chunk);
    input.parser.finish();
  } catch (err) {
    return { events: output(), error: err instanceof Error ? `${err.name}: ${err.message} ${JSON.stringify(err)}` : String(err) };
  }
  const l = input.ledger;
  return {
    events: output(),
    counts: [l.events, l.allocs, l.callocs, l.reallocs, l.untracedReallocs, l.frees, l.implicitFrees, [...l.skips]],
    live: [l.liveBlocks, l.liveBytes, l.peakLiveBytes, l.peakEvent, l.idHighWater],
    input: l.input,
    callers: l.callers,
    threads: l.threadCounts(),
    leaks: l.leakSummary(),
  };
}

/**
 * Addresses from several spans of the address space, near one another and far apart, blocks freed
 * and their addresses handed out again: thousands of distinct addresses, so that a table of the
 * first size doubles several times, and a presized one holds them all from the start; some in
 * hundreds of regions, some not multiples of 16.
 */
function manyAddresses(): Buffer {
  const rng = fc.sample(fc.nat(0xffff), { numRuns: ADDRESS_LINES, seed: 16 });
  const spans = [0x55d0c5a40000, 0x7f12_3456_0000, 0x1000, 0xffff_ffff_0000];
  const live: string[] = [];
  const lines: string[] = [];
  rng.forEach((r, i) => {
    if (live.length > 0 && r % 3 === 0) {
      lines.push(`- ${live.splice(r % live.length, 1)[0]!}`);
      return;
    }
    // Mostly 16-byte multiples in a few 4 GiB regions (the WASM map's compact table), some in one
    // of REGIONS regions (more than it numbers) or not a multiple of 16 (its general table).
    // (The same few offsets in every one of the many regions: two regions mixed up would collide.)
    const value = r % 5 === 0 ? ((r >> 3) % REGIONS) * 2 ** 32 + ((r >> 3) % 3) * 16
      : spans[r % spans.length]! + (i % 8192) * 16 + (r % 7) * 0x10000 + (r % 11 === 0 ? 8 : 0);
    const address = `0x${value.toString(16)}`;
    live.push(address);
    lines.push(`@ ./p:[0x${(r % 5).toString(16)}] + ${address} 0x${(1 + (r % 200)).toString(16)}`);
  });
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function same(bytes: Buffer, cuts: readonly number[], lenient: boolean): Promise<unknown> {
  const js = await read(bytes, cuts, lenient, 'js');
  const wasm = await read(bytes, cuts, lenient, 'wasm');
  expect(wasm).toEqual(js);
  const jsOps = await read(bytes, cuts, lenient, 'js', true);
  const wasmOps = await read(bytes, cuts, lenient, 'wasm', true);
  expect(wasmOps).toEqual(jsOps);
  return js;
}

describe('WASM mtrace reader = JavaScript reader', () => {
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.mtrace'));

  it.each(fixtures)('%s, strict and --lenient, whole and cut into small chunks', async (name) => {
    const bytes = readFileSync(join(FIXTURES, name));
    for (const lenient of [false, true]) {
      await same(bytes, [], lenient);
      await same(bytes, Array.from({ length: Math.floor(bytes.length / 7) }, (_, i) => (i + 1) * 7), lenient);
    }
  });

  it('a malformed line fails with the same file, line and message', async () => {
    const bytes = Buffer.from('= Start\n@ ./p:[0x1] + 0x1000 0x10\n@ ./p:[0x1] + 0x2000 zz\n');
    const r = await same(bytes, [], false) as { error: string };
    expect(r.error).toContain('"line":3');
    expect(r.error).toContain('malformed mtrace line');
  });

  it('every rule of the map and the ledger, in both output forms', async () => {
    const lines = [
      '= Start',
      '@ ./p:[0x1] + 0x1000 0x10',          // alloc
      '@ ./p:[0x2] + 0x1000 0x20',          // alloc into a live address: implicit free first
      '- 0x1000',                            // free
      '- 0x1000',                            // double free
      '- 0x9000',                            // unmatched free
      '- (nil)',                             // free(NULL)
      '+ 0 0x10',                            // failed alloc
      '+ 0x2000 0x800000000001',             // oversize: refused
      '+ 0x2000 0x7fffffffffff',             // fits alone…
      '+ 0x3000 0x10',                       // …but not with it: refused
      '- 0x2000',
      '@ ./p:[0x3] < 0x5000',                // untraced realloc
      '@ ./p:[0x3] > 0x6000 0x30',
      '+ 0x7000 0x40',
      '< 0x6000',                            // realloc onto a live address: implicit free first
      '> 0x7000 0x50',
      '< 0x7000',                            // realloc in place
      '> 0x7000 0x60',
      '< 0x7000',                            // realloc to 0: a free
      '> 0x8000 0',
      '< 0x7000',                            // realloc of a freed block: double free
      '> 0x8000 0x10',
      '< 0x9100',                            // failed realloc of an unknown block
      '> (nil) 0x10',
      '+ 0xa000 0x10',
      '! 0xa000 0x7fffffff',                 // failed realloc
      '< 0xa000',                            // realloc whose result never came
    ];
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    for (const lenient of [false, true]) expect(await same(bytes, [], lenient)).not.toHaveProperty('error');
  });

  it('many addresses: a table that grows, or is presized from a true, low, high or absurd hint', async () => {
    const bytes = manyAddresses();
    const js = await read(bytes, [], false, 'js');
    const jsOps = await read(bytes, [], false, 'js', true);
    expect(js).not.toHaveProperty('error');
    for (const hint of [undefined, bytes.length, 1, bytes.length * 1000, 2 ** 53, 0]) {
      expect(await read(bytes, [], false, 'wasm', false, hint)).toEqual(js);
      expect(await read(bytes, [], false, 'wasm', true, hint)).toEqual(jsOps);
    }
  });

  it('the free-id stack: reserved from the hint, filled past a reserve it then outgrows, ids handed out again in order', async () => {
    // FREED_IDS blocks live at once, all freed (the stack holds every id), then as many new
    // addresses take the ids back (last freed first). A hint of FREED_IDS / 2 addresses' lines
    // reserves a stack that must grow from a size no doubling of the first one reaches.
    const lines: string[] = [];
    for (let i = 0; i < FREED_IDS; i++) lines.push(`@ ./p:[0x${(i % 3).toString(16)}] + 0x${(0x10000 + i * 32).toString(16)} 0x${(1 + (i % 90)).toString(16)}`);
    for (let i = 0; i < FREED_IDS; i++) lines.push(`- 0x${(0x10000 + ((i * 7919) % FREED_IDS) * 32).toString(16)}`);
    for (let i = 0; i < FREED_IDS; i++) lines.push(`+ 0x${(0x7f0000000000 + i * 48).toString(16)} 0x${(1 + (i % 70)).toString(16)}`);
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const js = await read(bytes, [], false, 'js');
    const jsOps = await read(bytes, [], false, 'js', true);
    expect(js).not.toHaveProperty('error');
    for (const hint of [undefined, (FREED_IDS / 2 + 1) * MIN_ADDRESS_LINE_BYTES, bytes.length]) {
      expect(await read(bytes, [], false, 'wasm', false, hint)).toEqual(js);
      expect(await read(bytes, [], false, 'wasm', true, hint)).toEqual(jsOps);
    }
  });

  it('the direct map: dense windows get leaves; scattered ones, past the allowance, go to the general table and are found there', async () => {
    // DENSE addresses 16 bytes apart (a few leaves), then SCATTERED ones a window apart in the same
    // region, each window later given a second address; all freed (some twice), then allocated again.
    const lines: string[] = [];
    const dense = (i: number): string => `0x${(0x55d0c5a40000 + i * 16).toString(16)}`;
    // (Even ones a leaf's window apart, odd ones a mid's: 16 MiB.)
    const scattered = (i: number, second: number): string =>
      `0x${((i % 2 === 0 ? 0x55d0d0000000 + (i / 2) * LEAF_WINDOW_BYTES : 0x7f0000000000 + ((i - 1) / 2) * MID_WINDOW_BYTES) + second * 16).toString(16)}`;
    for (let i = 0; i < DENSE; i++) lines.push(`@ ./p:[0x1] + ${dense(i)} 0x${(1 + (i % 50)).toString(16)}`);
    for (let i = 0; i < SCATTERED; i++) lines.push(`+ ${scattered(i, 0)} 0x20`);
    for (let i = 0; i < SCATTERED; i++) lines.push(`+ ${scattered(i, 1)} 0x30`);
    for (let i = 0; i < SCATTERED; i++) lines.push(`- ${scattered(i, i % 2)}`, `- ${scattered(i, (i + 1) % 2)}`);
    for (let i = 0; i < SCATTERED; i += 7) lines.push(`- ${scattered(i, 0)}`); // double frees
    for (let i = 0; i < DENSE; i += 3) lines.push(`- ${dense(i)}`);
    for (let i = 0; i < SCATTERED; i++) lines.push(`@ ./p:[0x2] + ${scattered(i, 1)} 0x40`);
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const js = await read(bytes, [], false, 'js') as { counts: unknown[] };
    expect(js).not.toHaveProperty('error');
    expect(await read(bytes, [], false, 'wasm')).toEqual(js);
    expect(await read(bytes, [], false, 'wasm', true)).toEqual(await read(bytes, [], false, 'js', true));
    // The scattered windows past the allowances took no leaves or mids: the engine's memory grew by
    // far less than a page per scattered address (what a leaf, or a mid, for each would take).
    const w = await instantiateEngine('release') as unknown as TextExports;
    const ledger = new Ledger(null);
    const parser = await createParser('mtrace', { file: 't', lenient: false, ledger, text: new TextWasm(w, 't', ledger, null) });
    const before = w.memory.buffer.byteLength;
    parser.push(bytes);
    parser.finish();
    expect(w.memory.buffer.byteLength - before).toBeLessThan(SCATTERED * 4096 / 4);
  });

  it('a second trace in the same engine instance starts from an empty table (its memory reused)', async () => {
    const w = await instantiateEngine('release') as unknown as TextExports;
    for (const bytes of [manyAddresses(), manyAddresses(), Buffer.from('+ 0x1000 0x10\n- 0x1000\n- 0x2000\n')]) {
      const events: unknown[] = [];
      const ledger = new Ledger(recorder(events));
      const parser = await createParser('mtrace', { file: 't', lenient: false, ledger, text: new TextWasm(w, 't', ledger, null) });
      parser.push(bytes);
      parser.finish();
      expect(events).toEqual((await read(bytes, [], false, 'js') as { events: unknown[] }).events);
    }
  });

  // Lines from a small world of addresses and callers, so that frees, double frees, unmatched
  // frees, reused addresses, realloc pairs (good and broken) and callers seen again all happen;
  // plus lines the WASM loop leaves to the host and lines that are malformed.
  const address = fc.constantFrom('0x1000', '0x1010', '0x2000', '0x7f0000001000', '0x55d0c5a4a2a0', '0x00001000',
    '0x20000000000000', '0xffffffffffffffff', '(nil)', '0', '0x10000000000000000', '0X1000', '0x');
  const size = fc.constantFrom('0x10', '0x0', '0', '0x800000000000', '0x7fffffffffff', '0x20000000000000',
    '0x10000000000000000', '0xAbC', '16', '0x1');
  const caller = fc.constantFrom('', '@ ./prog:[0x401196] ', '@ ./lib.so:[0x401196] ', '@ ./prog:(main+0x1a)[0x4011b2] ',
    '@ /usr/lib/x86_64-linux-gnu/libstdc++.so.6:(_Znwm+0x1c)[0x7f00aabbccdd] ', '@ ', '@\t./prog:[0x1]\t', 'x ./prog:[0x1] ', '@ Ünï:[0x2] ');
  const line = mtraceLine(address, size, caller,
    fc.constantFrom('', '   ', '= Start', '= End', '=End', '= Middle', 'garbage', '+ 0x1000', '@ ./p:[0x1] - 0x1000 0x10',
      '@ ./p:[0x1] ++ 0x1000 0x10', '\t+\t0x3000\t0x30\t', '  - 0x3000  ', '@ ./p:[0x1] + 0x1000 0x10 extra', '+ 0x4000 0x40\r'));
  const stream = fc.tuple(fc.array(line, { maxLength: 60 }), fc.boolean(), fc.boolean()).map(([ls, crlf, finalNewline]) => {
    const text = ls.join('\n').split('\n').join(crlf ? '\r\n' : '\n');
    return Buffer.from(finalNewline && text.length > 0 ? `${text}\n` : text);
  });

  // Numbers of every length up to 18 digits, with characters around the hex digits' ranges
  // ('/' ':' '@' 'G' '`' 'g' and others), so that the WASM loop's word-at-a-time hex reading is
  // held to the host's digit-by-digit one, position by position.
  const digits = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF/:@G`gx\u00ff'), minLength: 0, maxLength: 18 });
  const oddNumbers = fc.array(fc.tuple(digits, digits, fc.boolean()).map(([a, b, free]) => (free ? `- 0x${a}` : `+ 0x${a} 0x${b}`)), { maxLength: 20 });

  it('numbers of every length, with characters next to the hex digits: the same result or the same error', async () => {
    await fc.assert(fc.asyncProperty(oddNumbers, fc.boolean(), async (lines, lenient) => {
      await same(Buffer.from(lines.map((l) => `${l}\n`).join('')), [], lenient);
    }), { numRuns: PROPERTY_RUNS });
  });

  // Spaces and tabs (one to three) between the tokens and around them, and numbers of every length
  // up to 18 digits, so that the WASM loop's word-at-a-time search for where a token starts
  // (mtrace.ts tokenStart, from the right) meets its blank at every byte of a word, and at a
  // line's start.
  const blanks = fc.string({ unit: fc.constantFrom(' ', '\t'), minLength: 1, maxLength: 3 });
  const edge = fc.string({ unit: fc.constantFrom(' ', '\t'), minLength: 0, maxLength: 2 });
  const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 18 });
  const spacedLine = fc.tuple(edge, fc.constantFrom('', '@ ./p:[0x1]', '@\t/usr/lib/x86_64-linux-gnu/libc.so.6:(f+0x1)[0x2]', '@ ./a b:[0x3]'),
    blanks, fc.constantFrom('+', '-', '!', '<', '>'), blanks, hex, blanks, hex, edge)
    .map(([lead, c, s1, op, s2, a, s3, b, tail]) => {
      const prefix = c === '' ? lead : `${lead}${c}${s1}`;
      return op === '-' || op === '<' ? `${prefix}${op}${s2}0x${a}${tail}` : `${prefix}${op}${s2}0x${a}${s3}0x${b}${tail}`;
    });

  it('blanks of both kinds and tokens of every length: the same result or the same error', async () => {
    await fc.assert(fc.asyncProperty(fc.array(spacedLine, { maxLength: 30 }), fc.boolean(), async (lines, lenient) => {
      await same(Buffer.from(lines.map((l) => `${l}\n`).join('')), [], lenient);
    }), { numRuns: PROPERTY_RUNS });
  });

  it('every byte value where a blank or an operator may stand: the same result or the same error', async () => {
    // mtrace.ts reads blanks and the + > ! operators from a table of byte classes: each of the 256
    // values (the ASCII ones, and a byte of a UTF-8 sequence) in each such place of a line.
    for (let b = 0; b < 256; b++) {
      if (b === 0x0a || b === 0x0d) continue; // line ends: the host splits lines before reading them
      const c = String.fromCharCode(b);
      const lines = [
        `@ ./p:[0x1]${c}+ 0x1000 0x10`, `@ ./p:[0x1] +${c}0x2000 0x20`, `@ ./p:[0x1] + 0x3000${c}0x30`, `+ 0x4000 0x40${c}`,
        `${c}- 0x1000`, `@${c}./p:[0x1] - 0x2000`, `@ ./p:[0x1] ${c} 0x5000 0x50`, `${c} 0x6000 0x60`, `- 0x3000`, `- 0x4000`,
      ];
      await same(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1'), [], true);
    }
  });

  // And the loop really reads such lines itself (a wrong token start would leave them to the host,
  // with the same result): well-formed allocations and frees without callers, all taken.
  const fastHex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 16 });
  const plainLine = fc.tuple(edge, fc.boolean(), blanks, fastHex, blanks, fastHex, edge)
    .map(([lead, free, s1, a, s2, b, tail]) => (free ? `${lead}-${s1}0x${a}${tail}` : `${lead}+${s1}0x${a}${s2}0x${b}${tail}`));

  it('well-formed lines with blanks of both kinds and numbers of every length: all taken by the WASM loop', async () => {
    const w = await instantiateEngine('release') as unknown as TextExports;
    await fc.assert(fc.asyncProperty(fc.array(plainLine, { minLength: 1, maxLength: 30 }), async (lines) => {
      const text = new TextWasm(w, 't.mtrace', new Ledger(recorder([])), null);
      const chunk = Buffer.from(lines.map((l) => `${l}\n`).join(''));
      text.load(chunk);
      expect(text.take(chunk, 0)).toBe(chunk.length);
      expect(text.linesTaken).toBe(lines.length);
    }), { numRuns: PROPERTY_RUNS });
  });

  it('random line streams, with bad lines, cut at random: the same result or the same error', async () => {
    await fc.assert(fc.asyncProperty(stream, fc.array(fc.nat(4000), { maxLength: 8 }), fc.boolean(), async (bytes, cuts, lenient) => {
      await same(bytes, cuts.map((c) => c % (bytes.length + 1)), lenient);
    }), { numRuns: PROPERTY_RUNS });
  });
});
