// The binary format: text → .hst → text is lossless, for the fixture and for random event streams;
// damaged files are rejected with the file named.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { convertTrace } from '../../src/trace/convert.js';
import { HST_MAGIC, OP_ALLOC } from '../../src/trace/formats/hst.js';
import { SKIP_REASON_NAMES } from '../../src/trace/events.js';
import { MAX_REQUEST_BYTES } from '../../src/trace/ledger.js';
import { eventLines, fixture, tempDir } from './helpers.js';
import { hstFile } from './hst-bytes.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const file = (ext: string): string => join(tmp.dir, `t${n++}.${ext}`);

describe('.hst round trip', () => {
  it('text → hst → text gives back the same file, byte for byte', async () => {
    const canonical = file('txt');
    await convertTrace(fixture('sample.txt'), canonical, { to: 'text' });
    const hst = file('hst');
    await convertTrace(canonical, hst);
    const back = file('txt');
    await convertTrace(hst, back, { to: 'text' });
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(canonical, 'utf8'));
    expect(readFileSync(hst).subarray(0, HST_MAGIC.length)).toEqual(HST_MAGIC);
  });

  it('an mtrace converted to .hst replays the same events, callers and counts', async () => {
    const hst = file('hst');
    const r = await convertTrace(fixture('basic.mtrace'), hst);
    expect(r.stats.events).toBe(10);
    const direct = await eventLines(fixture('basic.mtrace'));
    const viaHst = await eventLines(hst);
    expect(viaHst.lines).toEqual(direct.lines);
    expect(viaHst.ledger.unmatchedFrees).toBe(1);
    expect(viaHst.ledger.doubleFrees).toBe(1);
  });

  it('a realloc that would take the live bytes beyond 2^47 is refused on the first read: `x failed-alloc` on the way back (seed 550774803)', async () => {
    const head = ['#heapsim-trace 1', '# converted by heapsim from text', 'a 0 0', 'a 1 80', 'm 2 0 1', 'r 2 70368744177622'];
    for (const [last, back] of [['r 0 70368744177627', 'x failed-alloc'], ['r 0 70368744177626', 'r 0 70368744177626']] as const) {
      const src = file('txt');
      writeFileSync(src, [...head, last].join('\n') + '\n'); // 80 + 70368744177622 + 70368744177626 = 2^47
      const hst = file('hst');
      await convertTrace(src, hst);
      const out = file('txt');
      await convertTrace(hst, out, { to: 'text' });
      expect(readFileSync(out, 'utf8')).toBe([...head, back].join('\n') + '\n');
    }
  });

  it('is lossless for random event streams', async () => {
    // Random but valid streams: ids chosen from free/live sets, every kind of event.
    const step = fc.oneof(
      fc.record({ k: fc.constantFrom('a', 'c'), size: fc.nat({ max: 2 ** 36 }), caller: fc.option(fc.constantFrom('x.c:1', 'y.c:2 (f)', 'ü.c:3'), { nil: undefined }) }),
      fc.record({ k: fc.constant('m'), size: fc.nat(), alignLog: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ k: fc.constantFrom('r', 'f'), pick: fc.nat(), size: fc.integer({ min: 1, max: 2 ** 46 }) }),
      fc.record({ k: fc.constant('x'), reason: fc.integer({ min: 0, max: SKIP_REASON_NAMES.length - 1 }) }),
      fc.record({ k: fc.constant('mark'), label: fc.constantFrom('a', 'peak hour', 'ende ✓') }),
      fc.record({ k: fc.constantFrom('tick', 'thread', 'thread-end'), v: fc.nat() }),
    );
    await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
      const live: number[] = [];
      // Requested bytes per live id and their total: a stream is valid (read as written) only
      // while the total stays within MAX_REQUEST_BYTES; a realloc beyond is refused by every
      // reader (a failed allocation, `x failed-alloc` on the way back), so none is generated.
      const sizes = new Map<number, number>();
      let liveBytes = 0;
      let next = 0;
      const lines = ['#heapsim-trace 1', '# converted by heapsim from text'];
      for (const s of steps) {
        if (s.k === 'a' || s.k === 'c' || s.k === 'm') {
          const id = next++;
          live.push(id);
          sizes.set(id, s.size);
          liveBytes += s.size;
          const caller = 'caller' in s && s.caller !== undefined ? ` @${s.caller}` : '';
          lines.push(s.k === 'm' ? `m ${id} ${s.size} ${2 ** s.alignLog}` : `${s.k} ${id} ${s.size}${caller}`);
        } else if ((s.k === 'r' || s.k === 'f') && live.length > 0) {
          const i = s.pick % live.length;
          const id = live[i]!;
          if (s.k === 'r') {
            if (liveBytes - sizes.get(id)! + s.size > MAX_REQUEST_BYTES) continue;
            liveBytes += s.size - sizes.get(id)!;
            sizes.set(id, s.size);
            lines.push(`r ${id} ${s.size}`);
          } else {
            liveBytes -= sizes.get(id)!;
            lines.push(`f ${live.splice(i, 1)[0]}`);
          }
        } else if (s.k === 'x') lines.push(`x ${SKIP_REASON_NAMES[s.reason]}`);
        else if (s.k === 'mark') lines.push(`mark ${s.label}`);
        else if (s.k === 'tick' || s.k === 'thread' || s.k === 'thread-end') lines.push(`${s.k} ${s.v}`);
      }
      const text = lines.join('\n') + '\n';
      const src = file('txt');
      writeFileSync(src, text);
      const hst = file('hst');
      await convertTrace(src, hst);
      const back = file('txt');
      await convertTrace(hst, back, { to: 'text' });
      expect(readFileSync(back, 'utf8')).toBe(text);
    }), { numRuns: 60 });
  });
});

describe('.hst damage', () => {
  it('rejects a file cut before its END record', async () => {
    const hst = file('hst');
    await convertTrace(fixture('basic.mtrace'), hst);
    const bytes = readFileSync(hst);
    const cut = file('hst');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    const err = await eventLines(cut).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(cut);
    expect((err as InputError).message).toMatch(/truncated/);
  });

  it('rejects a wrong version and an unknown opcode', async () => {
    const v99 = file('hst');
    writeFileSync(v99, hstFile([], { version: 99 }));
    await expect(eventLines(v99)).rejects.toThrow(/unsupported .hst version 99/);
    const badOp = file('hst');
    writeFileSync(badOp, hstFile([0x1e, 0x00]));
    await expect(eventLines(badOp)).rejects.toThrow(/unknown .hst opcode 0x1e at byte offset 24/);
  });

  it('checks the END record against the events read', async () => {
    const wrong = file('hst');
    writeFileSync(wrong, hstFile([OP_ALLOC, 0, 16], { endCount: 5 }));
    await expect(eventLines(wrong)).rejects.toThrow(/END record says 5 events but the file holds 1/);
  });
});
