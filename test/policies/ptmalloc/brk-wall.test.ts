// The real glibc behind a wall: when a mapping borders the break, sbrk fails and glibc maps
// substitute heap memory (1 MiB at least) instead of failing the malloc. The model leaves this out
// (docs/ptmalloc.md, "sbrk failure"); this test keeps the documented fact measured on this machine,
// with the top_pad of 0 that made `run peak-hour --policy ptmalloc --set top_pad=0` fail on x86.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { oracle, scratchDir } from './harness.js';

const SOURCE = join(import.meta.dirname, '..', '..', 'oracle', 'brk-wall.c');
const info = oracle();
const itOracle = info.binary ? it : it.skip;

describe('glibc when the break cannot grow', () => {
  itOracle('serves every malloc from mapped substitutes, with top_pad 0 as with 128 KiB, and counts them in arena', () => {
    const binary = join(scratchDir(), 'brk-wall');
    const cc = spawnSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-o', binary, SOURCE], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const count = 90_000, size = 100; // 112-byte chunks: about 10 MB behind the wall
    for (const topPad of [0, 128 * 1024]) {
      const r = spawnSync(binary, [String(topPad), String(count), String(size)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const [ok, failed, arena, brkMoved] = r.stdout.trim().split(' ').map(Number);
      expect(ok).toBe(count);
      expect(failed).toBe(0);
      expect(brkMoved).toBe(0);
      expect(arena).toBeGreaterThanOrEqual(count * 112); // every block is in the arena, none in the break beyond the wall
    }
  });
});
