// The .hst reader gives the same events, counts, warnings and errors (message and byte offset)
// however its input is cut into chunks: a record cut by a chunk's end is decoded from the cut part
// and the first bytes of the next chunk, a long string or the trailer from the two joined.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HstParser, HstWriter, HST_EVENT_COUNT_OFFSET, hstEventCountBytes } from '../../src/trace/formats/hst.js';
import { Ledger } from '../../src/trace/ledger.js';
import type { EventSink } from '../../src/trace/events.js';

/** Every event the reader passes on, as text. */
class Recorder implements EventSink {
  readonly seen: string[] = [];
  alloc(id: number, size: number, caller: number): void { this.seen.push(`a ${id} ${size} ${caller}`); }
  calloc(id: number, size: number, caller: number): void { this.seen.push(`c ${id} ${size} ${caller}`); }
  alignedAlloc(id: number, size: number, align: number, caller: number): void { this.seen.push(`m ${id} ${size} ${align} ${caller}`); }
  realloc(id: number, size: number, caller: number): void { this.seen.push(`r ${id} ${size} ${caller}`); }
  free(id: number): void { this.seen.push(`f ${id}`); }
  skip(reason: number): void { this.seen.push(`x ${reason}`); }
  mark(label: number): void { this.seen.push(`k ${label}`); }
  tick(delta: number): void { this.seen.push(`t ${delta}`); }
  thread(tid: number): void { this.seen.push(`h ${tid}`); }
}

const LONG_CALLER = `lib/${'deep/'.repeat(40)}alloc.c:123 (make_things)`;
const CALLERS = ['a.c:1', LONG_CALLER, `${LONG_CALLER} #2`, 'ü.c:3'];
const LABELS = ['start', `phase ${'x'.repeat(150)}`];

type Step = { k: 'a' | 'c' | 'm' | 'r' | 'f' | 'mark' | 'tick'; n: number; size: number };

/** A valid version 2 file: ids above 16383 (three-byte varints), long caller and label strings. */
function hstBytes(steps: Step[]): Buffer {
  const ledger = new Ledger();
  const w = new HstWriter(ledger, () => 'text');
  ledger.out = w;
  const live: number[] = [];
  let nextId = 20_000;
  for (const s of steps) {
    const caller = s.n % 5 === 4 ? -1 : ledger.internCaller(CALLERS[s.n % CALLERS.length]!);
    if (s.k === 'a' || s.k === 'c' || s.k === 'm' || live.length === 0) {
      const id = nextId++;
      live.push(id);
      if (s.k === 'c') ledger.calloc(id, s.size, caller);
      else if (s.k === 'm') ledger.alignedAlloc(id, s.size, 2 ** (s.n % 13), caller);
      else ledger.alloc(id, s.size, caller);
    } else if (s.k === 'r') ledger.realloc(live[s.n % live.length]!, s.size + 1, caller);
    else if (s.k === 'f') ledger.free(live.splice(s.n % live.length, 1)[0]!);
    else if (s.k === 'mark') ledger.mark(ledger.internLabel(LABELS[s.n % LABELS.length]!));
    else ledger.tick(s.size);
  }
  w.end();
  const bytes = Buffer.concat(w.take());
  hstEventCountBytes(w.events).copy(bytes, HST_EVENT_COUNT_OFFSET);
  return bytes;
}

interface Outcome { error: string | null; seen: string[]; counts: unknown }

function read(bytes: Buffer, cuts: number[], lenient: boolean): Outcome {
  const rec = new Recorder();
  const ledger = new Ledger(rec);
  const parser = new HstParser({ file: 't.hst', lenient, ledger });
  let error: string | null = null;
  try {
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      // Each chunk in its own buffer, as a file stream hands them out.
      if (cut > from) parser.push(Buffer.from(bytes.subarray(from, cut)));
      from = Math.max(from, cut);
    }
    parser.finish();
  } catch (err) {
    error = (err as Error).message;
  }
  const { events, allocs, callocs, alignedAllocs, reallocs, frees, marks, ticks, liveBlocks, liveBytes, peakLiveBytes, peakEvent, idHighWater } = ledger;
  return {
    error,
    seen: rec.seen,
    counts: {
      events, allocs, callocs, alignedAllocs, reallocs, frees, marks, ticks, liveBlocks, liveBytes, peakLiveBytes, peakEvent, idHighWater,
      skips: [...ledger.skips], labels: ledger.labels, callers: ledger.callers, warnings: ledger.warnings, input: ledger.input,
    },
  };
}

const step: fc.Arbitrary<Step> = fc.record({
  k: fc.constantFrom('a', 'a', 'c', 'm', 'r', 'f', 'f', 'mark', 'tick'),
  n: fc.nat({ max: 1000 }),
  size: fc.oneof(fc.nat({ max: 100 }), fc.nat({ max: 2 ** 20 }), fc.nat({ max: 2 ** 40 })),
}) as fc.Arbitrary<Step>;

/** Cut positions: several small pieces, then pieces larger than what is joined to a carry. */
const cutsOf = (length: number): fc.Arbitrary<number[]> =>
  fc.array(fc.nat({ max: length }), { maxLength: 40 }).map((cs) => [...cs].sort((a, b) => a - b));

describe('.hst reader across chunk boundaries', () => {
  it('valid files: the same events and counts for any cutting', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 120 }).chain((steps) => {
      const bytes = hstBytes(steps);
      return fc.tuple(fc.constant(bytes), cutsOf(bytes.length));
    }), ([bytes, cuts]) => {
      const whole = read(bytes, [], false);
      expect(whole.error).toBeNull();
      expect(read(bytes, cuts, false)).toEqual(whole);
    }), { numRuns: 150 });
  });

  it('damaged files: the same error (message and byte offset) or the same --lenient counts for any cutting', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 80 }).chain((steps) => {
      const bytes = hstBytes(steps);
      return fc.tuple(
        fc.constant(bytes),
        fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }),
        fc.nat({ max: bytes.length }),
        cutsOf(bytes.length),
        fc.boolean(),
      );
    }), ([bytes, flips, keep, cuts, lenient]) => {
      const damaged = Buffer.from(bytes);
      for (const [at, value] of flips) damaged[at] = value;
      const input = damaged.subarray(0, Math.max(keep, 1));
      expect(read(input, cuts.filter((c) => c < input.length), lenient)).toEqual(read(input, [], lenient));
    }), { numRuns: 200 });
  });

  it('a one-byte cutting and a whole-file read agree on a file with every record kind', () => {
    const steps: Step[] = Array.from({ length: 300 }, (_, i) => ({ k: (['a', 'c', 'm', 'r', 'f', 'mark', 'tick', 'a', 'f'] as const)[i % 9], n: i * 7, size: i * 997 }));
    const bytes = hstBytes(steps);
    const everyByte = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    const whole = read(bytes, [], false);
    expect(whole.counts).toMatchObject({ events: expect.any(Number) });
    expect((whole.counts as { events: number }).events).toBeGreaterThan(200);
    expect(read(bytes, everyByte, false)).toEqual(whole);
    // Chunks just larger than the part joined to a carry, at every phase.
    for (let size = 83; size < 100; size++) {
      const cuts = Array.from({ length: Math.floor(bytes.length / size) }, (_, i) => (i + 1) * size);
      expect(read(bytes, cuts, false)).toEqual(whole);
    }
  });
});
