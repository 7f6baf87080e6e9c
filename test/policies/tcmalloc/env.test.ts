// TCMALLOC_* settings read as gperftools 2.10 reads them (src/policies/tcmalloc/env.ts); where a
// reading shows in the statistics, the real library gets the same text and must agree.
import { describe, it, expect } from 'vitest';
import { parseTcmallocEnv } from '../../../src/policies/tcmalloc/env.js';
import { UsageError } from '../../../src/errors.js';
import { oracle, runOracle, runSim, opsScript, firstDifference, workload } from './harness.js';

const info = oracle();
const itOracle = info.binary ? it : it.skip;

describe('parseTcmallocEnv', () => {
  it('reads the three settings the policy models', () => {
    expect(parseTcmallocEnv('TCMALLOC_RELEASE_RATE=2.5\nTCMALLOC_AGGRESSIVE_DECOMMIT=1\nTCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=8388608')).toEqual({
      params: { release_rate: 2.5, aggressive_decommit: 1, max_total_thread_cache_bytes: 8388608 }, ignored: [],
    });
  });

  it('reads numbers like strtod / strtoll and booleans by their first character, saying so', () => {
    const r = parseTcmallocEnv('TCMALLOC_RELEASE_RATE=3x\nTCMALLOC_AGGRESSIVE_DECOMMIT=yes\nTCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=12');
    expect(r.params).toEqual({ release_rate: 3, aggressive_decommit: 1, max_total_thread_cache_bytes: 512 * 1024 });
    expect(r.ignored.map((i) => i.setting)).toEqual([
      'TCMALLOC_RELEASE_RATE=3x', 'TCMALLOC_AGGRESSIVE_DECOMMIT=yes', 'TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=12',
    ]);
    expect(r.ignored[2]!.reason).toMatch(/within 524288 \.\. 1073741824 bytes: 524288/);
    expect(parseTcmallocEnv('TCMALLOC_RELEASE_RATE=-2').params.release_rate).toBe(0);
    expect(parseTcmallocEnv('TCMALLOC_AGGRESSIVE_DECOMMIT=false').params.aggressive_decommit).toBe(0);
    expect(parseTcmallocEnv('TCMALLOC_AGGRESSIVE_DECOMMIT=').params.aggressive_decommit).toBe(1);
    expect(parseTcmallocEnv('TCMALLOC_RELEASE_RATE=abc').params.release_rate).toBe(0);
    expect(parseTcmallocEnv('TCMALLOC_RELEASE_RATE=inf').params.release_rate).toBe(Infinity);
    expect(parseTcmallocEnv('TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=-1').params.max_total_thread_cache_bytes).toBe(1 << 30);
    expect(parseTcmallocEnv('TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=99999999999').params.max_total_thread_cache_bytes).toBe(1 << 30);
  });

  it('ignores TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD with a note and refuses anything else by name and line', () => {
    const r = parseTcmallocEnv('TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD=1073741824');
    expect(r.params).toEqual({});
    expect(r.ignored).toEqual([{ setting: 'TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD=1073741824', reason: expect.stringMatching(/prints? large allocations/) }]);
    expect(() => parseTcmallocEnv('TCMALLOC_RELEASE_RATE=1\nTCMALLOC_HEAP_LIMIT_MB=100')).toThrow(UsageError);
    expect(() => parseTcmallocEnv('TCMALLOC_RELEASE_RATE=1\nTCMALLOC_HEAP_LIMIT_MB=100')).toThrow(/line 2: 'TCMALLOC_HEAP_LIMIT_MB' is not a tcmalloc setting/);
    expect(() => parseTcmallocEnv('MALLOC_ARENA_MAX=2')).toThrow(/known: TCMALLOC_RELEASE_RATE/);
    expect(() => parseTcmallocEnv('TCMALLOC_RELEASE_RATE')).toThrow(/expected NAME=value/);
    expect(() => parseTcmallocEnv('TCMALLOC_RELEASE_RATE=nan')).toThrow(/not a number/);
  });
});

describe('the readings against the real library', () => {
  for (const text of ['TCMALLOC_AGGRESSIVE_DECOMMIT=yes', 'TCMALLOC_AGGRESSIVE_DECOMMIT=false', 'TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=12', 'TCMALLOC_RELEASE_RATE=100abc']) {
    itOracle(text, async () => {
      const eq = text.indexOf('=');
      const env = { [text.slice(0, eq)]: text.slice(eq + 1) };
      const ops = workload(5, { ops: 3000, maxLive: 1500 });
      const real = runOracle({ text: opsScript(ops) }, { ops: true, env, every: 10 });
      const sim = await runSim(ops, { every: 10, params: parseTcmallocEnv(text).params });
      expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
    });
  }
});
