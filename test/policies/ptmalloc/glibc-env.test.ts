// parseGlibcEnv: glibc's reading of GLIBC_TUNABLES and MALLOC_*_ text (the behaviour against the
// real glibc is checked in ops-fidelity.test.ts; these are the parsing rules on their own).
import { describe, it, expect } from 'vitest';
import { parseGlibcEnv, parseGlibcEnvDetailed, glibcStrtoul } from '../../../src/policies/ptmalloc/glibc-env.js';
import { createEngine } from '../../../src/engine/engine.js';

describe('glibcStrtoul (the loader reads numbers this way)', () => {
  it('reads decimal, 0x hex and 0-prefixed octal up to the first other character', () => {
    expect(glibcStrtoul('131072')).toBe(131072n);
    expect(glibcStrtoul('0x20000')).toBe(131072n);
    expect(glibcStrtoul('0400000')).toBe(131072n);
    expect(glibcStrtoul('12k')).toBe(12n);
    expect(glibcStrtoul('abc')).toBe(0n);
    expect(glibcStrtoul('  +7')).toBe(7n);
    expect(glibcStrtoul('-1')).toBe((1n << 64n) - 1n);
  });
});

describe('parseGlibcEnv', () => {
  it('takes pasted shell text: export, quotes, several per line, GLIBC_TUNABLES lists', () => {
    const text = `export GLIBC_TUNABLES="glibc.malloc.tcache_count=0:glibc.malloc.mxfast=64"\nMALLOC_TRIM_THRESHOLD_=0x40000 MALLOC_TOP_PAD_='65536'`;
    expect(parseGlibcEnv(text)).toEqual({ tcache_count: 0, mxfast: 64, trim_threshold: 262144, top_pad: 65536 });
  });

  it('lets GLIBC_TUNABLES win over the MALLOC_*_ alias in either order', () => {
    expect(parseGlibcEnv('GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1000 MALLOC_MMAP_THRESHOLD_=5').mmap_threshold).toBe(1000);
    expect(parseGlibcEnv('MALLOC_MMAP_THRESHOLD_=5 GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1000').mmap_threshold).toBe(1000);
  });

  it('ignores what glibc ignores, and says so', () => {
    const r = parseGlibcEnvDetailed('GLIBC_TUNABLES=glibc.malloc.tcache_max=5000:glibc.malloc.arena_max=0:glibc.malloc.mxfast=161 MALLOC_MMAP_MAX_=-1 MALLOC_ARENA_TEST=0');
    expect(r.params).toEqual({});
    expect(r.ignored.map((i) => i.setting)).toEqual([
      'glibc.malloc.tcache_max=5000', 'glibc.malloc.arena_max=0', 'glibc.malloc.mxfast=161', 'MALLOC_MMAP_MAX_=-1', 'MALLOC_ARENA_TEST=0',
    ]);
    expect(r.ignored[1]!.reason).toMatch(/below glibc's minimum 1/);
  });

  it('reads the arena limit: MALLOC_ARENA_MAX, MALLOC_ARENA_TEST and their tunables', () => {
    expect(parseGlibcEnv('MALLOC_ARENA_MAX=2')).toEqual({ arena_max: 2 });
    expect(parseGlibcEnv('export MALLOC_ARENA_TEST=3 GLIBC_TUNABLES=glibc.malloc.arena_max=1')).toEqual({ arena_test: 3, arena_max: 1 });
    const r = parseGlibcEnvDetailed('MALLOC_ARENA_MAX=4 GLIBC_TUNABLES=glibc.malloc.arena_max=2');
    expect(r.params).toEqual({ arena_max: 2 });
    expect(r.ignored).toEqual([{ setting: 'arena_max from MALLOC_*_', reason: 'GLIBC_TUNABLES sets it too and wins' }]);
  });

  it('keeps the last assignment of a variable, as a shell does', () => {
    expect(parseGlibcEnv('MALLOC_TOP_PAD_=1 MALLOC_TOP_PAD_=2')).toEqual({ top_pad: 2 });
  });

  it('produces parameters the ptmalloc heap accepts, and a set threshold stops the dynamic rule', async () => {
    const e = await createEngine({ arch: 'x64' });
    const h = e.createHeap('ptmalloc', { params: parseGlibcEnv('MALLOC_MMAP_THRESHOLD_=131072') });
    const { OpBuffer } = await import('../../../src/engine/ops.js');
    const ops = new OpBuffer(4);
    ops.alloc(h, 0, 1 << 20);
    ops.free(h, 0);
    e.apply(ops);
    expect(e.sample().heaps[0]!.policyCounters.mmapThreshold).toBe(131072);
    const d = await createEngine({ arch: 'x64' });
    const g = d.createHeap('ptmalloc');
    d.apply(ops);
    expect(d.sample().heaps[g]!.policyCounters.mmapThreshold).toBe(1052672);
  });
});
