// The jemalloc policy through the command line: MALLOC_CONF via --env, the library's statistics
// under heap.native in every checkpoint, the diagnosis naming jemalloc's mechanisms, the purge
// what-if, and clear refusals.
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../../cli/helpers.js';
import { scratchDir } from './harness.js';
import type { RunDocument } from '../../../src/report/types.js';

/** 2000 blocks of 1 KiB .. 64 KiB, then every second one freed. */
function trace(): string {
  const lines = ['#heapsim-trace 1'];
  for (let i = 0; i < 2000; i++) lines.push(`a ${i} ${1024 * (1 + (i % 64))}`);
  lines.push('mark peak');
  for (let i = 0; i < 2000; i += 2) lines.push(`f ${i}`);
  lines.push('mark after');
  const file = join(scratchDir(), 'je-run.trace');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const NATIVE = ['stats.allocated', 'stats.active', 'stats.metadata', 'stats.resident', 'stats.mapped', 'stats.retained', 'dirtyBytes', 'muzzyBytes'];

describe('heapsim run --policy jemalloc', () => {
  it('puts the mallctl statistics under heap.native in every checkpoint; --env MALLOC_CONF sets the model', async () => {
    const file = trace();
    const keep = await cli('run', file, '--policy', 'jemalloc', '--json', '--env', 'MALLOC_CONF=tcache:false,dirty_decay_ms:-1');
    expect(keep.code, keep.stderr).toBe(0);
    const doc = JSON.parse(keep.stdout) as RunDocument;
    for (const c of doc.checkpoints) expect(Object.keys(c.heap.native as object).sort()).toEqual([...NATIVE].sort());
    const after = doc.checkpoints.find((c) => c.label === 'after')!.heap.native as Record<string, number>;
    expect(after.dirtyBytes).toBeGreaterThan(30 << 20);       // half the blocks freed, never purged
    expect(doc.diagnosis!.causes.map((c) => c.mechanism)).toContain('dirty pages awaiting decay (dirty_decay_ms)');

    const purge = await cli('run', file, '--policy', 'jemalloc', '--json', '--env', 'export MALLOC_CONF="tcache:false,dirty_decay_ms:0"');
    const p = (JSON.parse(purge.stdout) as RunDocument).checkpoints.find((c) => c.label === 'after')!.heap.native as Record<string, number>;
    expect(p.dirtyBytes).toBe(0);
    expect(p['stats.retained']).toBeGreaterThan(30 << 20);      // purged, still mapped
    expect(p['stats.allocated']).toBe(after['stats.allocated']);
  });

  it('--trim-at runs thread.tcache.flush + arena.<all>.purge and prints what it gave back', async () => {
    const r = await cli('run', trace(), '--policy', 'jemalloc', '--trim-at', 'after', '--env', 'MALLOC_CONF=dirty_decay_ms:-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}what thread\.tcache\.flush \+ arena\.<all>\.purge would give back at after \(event \d+\): /m);
  });

  it('refuses settings it does not read and bad parameter values, in one line', async () => {
    const unknown = await cli('run', trace(), '--policy', 'jemalloc', '--env', 'MALLOC_CONF=tcache_max:1024');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/MALLOC_CONF setting 'tcache_max:1024' is not supported/);
    const bad = await cli('run', trace(), '--policy', 'jemalloc', '--set', 'dirty_decay_ms=-2');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad value '-2'/);
    const flag = await cli('run', trace(), '--policy', 'jemalloc', '--set', 'tcache=2');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/tcache 2 must be 0 or 1/);
  });
});
