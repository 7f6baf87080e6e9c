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
