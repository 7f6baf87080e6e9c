// The WASM mtrace line loop and address map (src/trace/formats/text-wasm.ts, assembly/trace/text/)
// against the JavaScript reader (the reference, `textDecoder: 'js'`): the same events in the same
// order, the same counts, callers, leak summary and input counts for every mtrace fixture and for
// random line streams (valid lines, unusual ones the loop leaves to the host, and malformed ones),
// and the same error (message, file and line) or the same --lenient result, however the input is
// cut into chunks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventSink } from '../../src/trace/events.js';
import { openTrace, type TraceStream } from '../../src/trace/read.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const PROPERTY_RUNS = 60;

function streamOf(bytes: Buffer, cuts: readonly number[]): TraceStream {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...[...cuts].sort((a, b) => a - b), bytes.length]) {
    if (cut > from) pieces.push(Buffer.from(bytes.subarray(from, cut)));
    from = Math.max(from, cut);
  }
  return {
    name: 't.mtrace', gzip: false, sourceBytes: bytes.length, bytesRead: () => 0,
    chunks: (async function* () { yield* pieces; })(),
  };
}

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

/** What one reader made of the bytes: events, counts, callers, leaks, or its error. */
async function read(bytes: Buffer, cuts: readonly number[], lenient: boolean, textDecoder: 'js' | 'wasm'): Promise<unknown> {
  const events: unknown[] = [];
  let input;
  try {
    input = await openTrace(streamOf(bytes, cuts), recorder(events), { format: 'mtrace', lenient, textDecoder });
    for await (const chunk of input.chunks) input.parser.push(chunk);
    input.parser.finish();
  } catch (err) {
    return { events, error: err instanceof Error ? `${err.name}: ${err.message} ${JSON.stringify(err)}` : String(err) };
  }
  const l = input.ledger;
  return {
    events,
    counts: [l.events, l.allocs, l.callocs, l.reallocs, l.untracedReallocs, l.frees, l.implicitFrees, [...l.skips]],
    live: [l.liveBlocks, l.liveBytes, l.peakLiveBytes, l.peakEvent, l.idHighWater],
    input: l.input,
    callers: l.callers,
    threads: l.threadCounts(),
    leaks: l.leakSummary(),
  };
}

async function same(bytes: Buffer, cuts: readonly number[], lenient: boolean): Promise<unknown> {
  const js = await read(bytes, cuts, lenient, 'js');
  const wasm = await read(bytes, cuts, lenient, 'wasm');
  expect(wasm).toEqual(js);
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

  // Lines from a small world of addresses and callers, so that frees, double frees, unmatched
  // frees, reused addresses, realloc pairs (good and broken) and callers seen again all happen;
  // plus lines the WASM loop leaves to the host and lines that are malformed.
  const address = fc.constantFrom('0x1000', '0x1010', '0x2000', '0x7f0000001000', '0x55d0c5a4a2a0', '0x00001000',
    '0x20000000000000', '0xffffffffffffffff', '(nil)', '0', '0x10000000000000000', '0X1000', '0x');
  const size = fc.constantFrom('0x10', '0x0', '0', '0x800000000000', '0x7fffffffffff', '0x20000000000000',
    '0x10000000000000000', '0xAbC', '16', '0x1');
  const caller = fc.constantFrom('', '@ ./prog:[0x401196] ', '@ ./lib.so:[0x401196] ', '@ ./prog:(main+0x1a)[0x4011b2] ',
    '@ /usr/lib/x86_64-linux-gnu/libstdc++.so.6:(_Znwm+0x1c)[0x7f00aabbccdd] ', '@ ', '@\t./prog:[0x1]\t', 'x ./prog:[0x1] ', '@ Ünï:[0x2] ');
  const line = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(caller, address, size).map(([c, a, s]) => `${c}+ ${a} ${s}`) },
    { weight: 5, arbitrary: fc.tuple(caller, address).map(([c, a]) => `${c}- ${a}`) },
    { weight: 3, arbitrary: fc.tuple(caller, address, address, size).map(([c, a, b, s]) => `${c}< ${a}\n${c}> ${b} ${s}`) },
    { weight: 1, arbitrary: fc.tuple(caller, address).map(([c, a]) => `${c}< ${a}`) },
    { weight: 1, arbitrary: fc.tuple(caller, address, size).map(([c, a, s]) => `${c}> ${a} ${s}`) },
    { weight: 1, arbitrary: fc.tuple(caller, address, size).map(([c, a, s]) => `${c}! ${a} ${s}`) },
    { weight: 1, arbitrary: fc.constantFrom('', '   ', '= Start', '= End', '=End', '= Middle', 'garbage', '+ 0x1000', '@ ./p:[0x1] - 0x1000 0x10',
      '@ ./p:[0x1] ++ 0x1000 0x10', '\t+\t0x3000\t0x30\t', '  - 0x3000  ', '@ ./p:[0x1] + 0x1000 0x10 extra', '+ 0x4000 0x40\r') },
  );
  const stream = fc.tuple(fc.array(line, { maxLength: 60 }), fc.boolean(), fc.boolean()).map(([ls, crlf, finalNewline]) => {
    const text = ls.join('\n').split('\n').join(crlf ? '\r\n' : '\n');
    return Buffer.from(finalNewline && text.length > 0 ? `${text}\n` : text);
  });

  it('random line streams, with bad lines, cut at random: the same result or the same error', async () => {
    await fc.assert(fc.asyncProperty(stream, fc.array(fc.nat(4000), { maxLength: 8 }), fc.boolean(), async (bytes, cuts, lenient) => {
      await same(bytes, cuts.map((c) => c % (bytes.length + 1)), lenient);
    }), { numRuns: PROPERTY_RUNS });
  });
});
