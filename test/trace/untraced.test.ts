// Pointers the trace did not see, replayed as the program lived them, by the same rule in every
// reader (src/trace/events.ts): an untraced realloc allocates the new block of the new size; an
// allocation that returns an address (or id) still live frees the older block first (an implicit
// free, not an event). Expected event lines are worked out by hand from each input.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertTrace } from '../../src/trace/convert.js';
import { cli } from '../cli/helpers.js';
import { eventLines, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const write = (ext: string, text: string): string => {
  const path = join(tmp.dir, `u${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
};

// 0x100 live, 0x200 realloc'd without ever being allocated (untraced), its result freed later (a
// matched free now), 0x100 handed out again without a free (implicit free), a realloc whose new
// address is another live block (implicit free of that one), and a free of a pointer never seen.
const MTRACE = [
  '= Start',
  '@ ./p:[0x1] + 0x100 0x20',          // a 0 32
  '@ ./p:[0x2] < 0x200',               // untraced: the program got 0x300 of 0x40 bytes
  '@ ./p:[0x2] > 0x300 0x40',          // u 1 64
  '@ ./p:[0x3] + 0x100 0x30',          // 0x100 still live: i 0, then a 0 48
  '@ ./p:[0x4] + 0x400 0x10',          // a 2 16
  '@ ./p:[0x5] < 0x400',               // realloc 0x400 -> 0x100, which is live as block 0:
  '@ ./p:[0x5] > 0x100 0x80',          // i 0, then r 2 128 (the block keeps its id)
  '@ ./p:[0x6] - 0x300',               // f 1: the untraced realloc's block is a known block
  '@ ./p:[0x7] - 0x500',               // never seen: x unmatched-free
  '= End',
].join('\n') + '\n';

const MTRACE_LINES = [
  'a 0 32 @./p:[0x1]',
  'u 1 64 @./p:[0x2]',
  'i 0',
  'a 0 48 @./p:[0x3]',
  'a 2 16 @./p:[0x4]',
  'i 0',
  'r 2 128 @./p:[0x5]',
  'f 1',
  'x unmatched-free',
];

describe('untraced reallocs and implicit frees', () => {
  it('mtrace: an untraced realloc allocates the new block; a live address handed out again frees the older block', async () => {
    const { lines, ledger } = await eventLines(write('mtrace', MTRACE));
    expect(lines).toEqual(MTRACE_LINES);
    expect(ledger.events).toBe(7);                 // implicit frees are not events
    expect(ledger.untracedReallocs).toBe(1);
    expect(ledger.implicitFrees).toBe(2);
    expect(ledger.unmatchedFrees).toBe(1);
    expect(ledger.liveBlocks).toBe(1);             // block 2 (128 bytes at 0x100)
    expect(ledger.liveBytes).toBe(128);
  });

  it('the text form reads its own rules back: u, i, and an allocation into a live id', async () => {
    const { lines, ledger } = await eventLines(write('txt', '#heapsim-trace 1\na 1 10\na 1 20\nr 7 30\nr 1 0\nr 1 5\nu 9 4\ni 9\n'));
    expect(lines).toEqual(['a 1 10', 'i 1', 'a 1 20', 'u 7 30', 'f 1', 'x double-free', 'u 9 4', 'i 9']);
    expect(ledger.implicitFrees).toBe(2);
    expect(ledger.untracedReallocs).toBe(2);
    expect(ledger.events).toBe(6);
    expect(ledger.liveBytes).toBe(30);
  });

  it('the text form refuses u of a live id and i of an id that is not live, naming the line', async () => {
    await expect(eventLines(write('txt', '#heapsim-trace 1\na 1 10\nu 1 4\n'))).rejects.toMatchObject({ line: 3, message: expect.stringContaining('untraced realloc of block 1, which is live') });
    await expect(eventLines(write('txt', '#heapsim-trace 1\ni 4\n'))).rejects.toMatchObject({ line: 2, message: expect.stringContaining('implicit free of block 4, which is not live') });
  });

  it('.rep (ids as addresses): a realloc of an id never allocated is an untraced realloc', async () => {
    const { lines, ledger } = await eventLines(write('rep', '1000\n2\n3\n1\na 0 16\nr 1 64\nf 1\n'), { format: 'rep' });
    expect(lines).toEqual(['a 0 16', 'u 1 64', 'f 1']);
    expect(ledger.untracedReallocs).toBe(1);
  });

  it('converting to .hst and to text keeps both rules: the same events, counts and live bytes', async () => {
    const src = write('mtrace', MTRACE);
    for (const to of ['hst', 'text'] as const) {
      const out = join(tmp.dir, `conv${n++}.${to === 'hst' ? 'hst' : 'txt'}`);
      await convertTrace(src, out, to === 'hst' ? {} : { to: 'text' });
      const back = await eventLines(out);
      expect(back.lines).toEqual(MTRACE_LINES);
      expect(back.ledger.untracedReallocs).toBe(1);
      expect(back.ledger.implicitFrees).toBe(2);
      expect(back.ledger.events).toBe(7);
    }
  });

  it('the engine replays them: the untraced block is allocated, freed later, and implicit frees do not count as events', async () => {
    const r = await cli('run', write('mtrace', MTRACE), '--policy', 'first-fit', '--arch', 'x64', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.events).toBe(7);
    expect(doc.failedOps).toBe(0);                 // the free of 0x300 found its block
    expect(doc.program).toMatchObject({ liveBytes: 128, liveBlocks: 1, implicitFrees: 2 });
    expect(doc.input).toMatchObject({ untracedReallocs: 1, implicitFrees: 2, unmatchedFrees: 1 });
    expect(r.stderr).toMatch(/1 reallocs of pointers the trace never allocated \(replayed as allocations of the new size/);
    expect(r.stderr).toMatch(/2 allocations returned an address the trace still had live/);
  });
});
