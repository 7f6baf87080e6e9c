// heapsim stats and convert through main(), in memory.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticMtrace } from '../../src/trace/synthetic.js';
import { cli } from '../cli/helpers.js';
import { fixture, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('heapsim stats', () => {
  it('--json: events by kind, peak and when, never-freed blocks, histograms, distinct sizes', async () => {
    const r = await cli('stats', fixture('basic.mtrace'), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.format).toBe('mtrace');
    expect(s.events).toEqual({
      total: 10, alloc: 4, calloc: 0, alignedAlloc: 0, realloc: 1, free: 1,
      skipped: { 'unmatched-free': 1, 'unmatched-realloc': 0, 'double-free': 1, 'failed-alloc': 2, 'free-null': 0, 'unknown-result': 0 },
    });
    // 32 + 256 live, then the realloc to 1024: 1280 bytes after event 3.
    expect(s.peakLiveBytes).toBe(1280);
    expect(s.peakEvent).toBe(3);
    expect(s.neverFreed).toMatchObject({ blocks: 3, bytes: 304 });
    expect(s.neverFreed.topSizes[0]).toEqual({ sizeBytes: 256, blocks: 1, bytes: 256 });
    expect(s.neverFreed.topCallers.map((c: { caller: string }) => c.caller)).toEqual(['./prog:(main+0x1a)[0x4011b2]', './prog:[0x401200]']);
    // Requested sizes 32, 256, 1024 (realloc), 0, 48.
    expect(s.sizeHistogram).toEqual([
      { min: 0, max: 0, count: 1 }, { min: 32, max: 63, count: 2 }, { min: 256, max: 511, count: 1 }, { min: 1024, max: 2047, count: 1 },
    ]);
    // One block freed: allocated at event 1, freed at event 4 → lifetime 3.
    expect(s.lifetimeHistogram).toEqual([{ min: 2, max: 3, count: 1 }]);
    expect(s.distinctSizes).toBe(5);
    for (const v of [s.peakLiveBytes, s.neverFreed.bytes]) expect(Number.isInteger(v)).toBe(true);
  });

  it('prints a readable summary with the skipped counts', async () => {
    const r = await cli('stats', fixture('threads.ltrace'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('events: 20');
    expect(r.stdout).toMatch(/skipped 4 \(unmatched-free 1, free-null 1, unknown-result 2\)/);
    expect(r.stdout).toContain('threads: 3');
    expect(r.stdout).toContain('4 lines that are not allocator calls ignored');
  });

  it('gives the same statistics for a trace and its .hst conversion', async () => {
    const hst = join(tmp.dir, 'lt.hst');
    await cli('convert', fixture('threads.ltrace'), '-o', hst);
    const a = JSON.parse((await cli('stats', fixture('threads.ltrace'), '--json')).stdout);
    const b = JSON.parse((await cli('stats', hst, '--json')).stdout);
    for (const k of ['events', 'peakLiveBytes', 'peakEvent', 'neverFreed', 'sizeHistogram', 'lifetimeHistogram', 'distinctSizes', 'threads']) {
      expect(b[k], k).toEqual(a[k]);
    }
  });

  it('is a usage error without a file, and names a missing file', async () => {
    expect((await cli('stats')).code).toBe(2);
    const r = await cli('stats', join(tmp.dir, 'nope.mtrace'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.mtrace');
  });
});

describe('heapsim convert', () => {
  it('reports the events converted and what was skipped', async () => {
    const out = join(tmp.dir, 'basic.hst');
    const r = await cli('convert', fixture('basic.mtrace'), '-o', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('10 events from mtrace');
    expect(r.stdout).toContain('1 double frees');
  });

  it('writes .hst far smaller than the mtrace text it came from', async () => {
    const text = join(tmp.dir, 'big.mtrace');
    writeFileSync(text, syntheticMtrace({ events: 20_000 }));
    const out = join(tmp.dir, 'big.hst');
    expect((await cli('convert', text, '-o', out)).code).toBe(0);
    expect(statSync(out).size).toBeLessThan(statSync(text).size / 5);
  });

  it('leaves no output file behind when the input is bad', async () => {
    const out = join(tmp.dir, 'bad.hst');
    const r = await cli('convert', fixture('malformed.mtrace'), '-o', out);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('bad.hst'))).toEqual([]);
  });

  it('needs -o', async () => {
    const r = await cli('convert', fixture('basic.mtrace'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-o FILE');
  });
});
