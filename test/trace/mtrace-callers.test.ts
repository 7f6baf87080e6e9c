// mtrace callers are interned by an FNV-1a hash of their bytes, confirmed by comparing the bytes:
// two callers with the same hash stay two callers, each keeping its own blocks, and each is found
// again later. `./prog:[0x446a19]` and `./prog:[0x4f55e6]` have the same 32-bit FNV-1a hash
// (0x69802f1d). `npm run mutate` (StrykerJS on src/trace/formats/mtrace.ts) found the collision path
// untested.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cli } from '../cli/helpers.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

it('two callers with one hash stay apart, and each is recognised again', async () => {
  const path = join(tmp.dir, 'collide.mtrace');
  writeFileSync(path, [
    '= Start',
    '@ ./prog:[0x446a19] + 0x1000 0x10',
    '@ ./prog:[0x4f55e6] + 0x2000 0x20',
    '@ ./prog:[0x446a19] + 0x3000 0x30',
    '@ ./prog:[0x4f55e6] + 0x4000 0x40',
    '@ ./prog:[0x4f55e6] + 0x5000 0x50',
    '@ ./prog:[0x446a1] + 0x6000 0x1', // a prefix of the first: not the same caller
    '= End', '',
  ].join('\n'));
  const r = await cli('stats', path, '--json');
  expect(r.code, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout) as { neverFreed: { topCallers: Array<{ caller: string; blocks: number; bytes: number }> } };
  expect(s.neverFreed.topCallers).toEqual([
    { caller: './prog:[0x4f55e6]', blocks: 3, bytes: 0x20 + 0x40 + 0x50 },
    { caller: './prog:[0x446a19]', blocks: 2, bytes: 0x10 + 0x30 },
    { caller: './prog:[0x446a1]', blocks: 1, bytes: 1 },
  ]);
});

// The WASM line loop hashes a caller by its length and last 16 bytes (assembly/trace/text/mtrace.ts
// callerHash) and confirms a hit by comparing all its bytes, a word at a time: callers of one
// length that differ only before their last 16 bytes (two libraries, one relative address) have
// one hash there, and stay apart only by that comparison, whichever word the difference is in.
it('callers of one length and one tail, different before it, stay apart in the WASM loop', async () => {
  const path = join(tmp.dir, 'tail.mtrace');
  const callers = ['./liba.so:[0x401196]', './libb.so:[0x401196]', '/usr/lib/x86_64-linux-gnu/libA.so.6:[0x401196]',
    '/usr/lib/x86_64-linux-gnu/libB.so.6:[0x401196]', 'X/usr/lib/x86_64-linux-gnu/libB.so.6:[0x401196]', 'Y/usr/lib/x86_64-linux-gnu/libB.so.6:[0x401196]'];
  const lines = ['= Start'];
  callers.forEach((c, i) => {
    for (let k = 0; k <= i; k++) lines.push(`@ ${c} + 0x${(0x10000 * (i + 1) + 0x100 * k).toString(16)} 0x${(i + 1).toString(16)}`);
  });
  writeFileSync(path, [...lines, '= End', ''].join('\n'));
  const r = await cli('stats', path, '--json');
  expect(r.code, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout) as { neverFreed: { topCallers: Array<{ caller: string; blocks: number; bytes: number }> } };
  expect(s.neverFreed.topCallers.map((c) => [c.caller, c.blocks])).toEqual(callers.map((c, i) => [c, i + 1]).reverse());
});
