// MIMALLOC_* settings read as mimalloc 2.0.9 reads them (options.c), and checked against the real
// library: the same pasted settings given to the oracle's environment and, through the reader, to
// the policy give the same numbers.
import { describe, it, expect } from 'vitest';
import { parseMimallocEnv, mimallocOptionValue } from '../../../src/policies/mimalloc/env.js';
import { oracle, runOracle, runSim, parseOps, firstDifference } from './harness.js';

describe('mimallocOptionValue (mi_option_init)', () => {
  it('reads words, substrings of the word lists and whole decimal numbers', () => {
    expect(mimallocOptionValue('')).toBe(1);
    expect(mimallocOptionValue('yes')).toBe(1);
    expect(mimallocOptionValue('on')).toBe(1);
    expect(mimallocOptionValue('ru')).toBe(1);      // a substring of "1;TRUE;YES;ON", as strstr sees it
    expect(mimallocOptionValue('Off')).toBe(0);
    expect(mimallocOptionValue('false')).toBe(0);
    expect(mimallocOptionValue('0')).toBe(0);
    expect(mimallocOptionValue('250')).toBe(250);
    expect(mimallocOptionValue('  -1')).toBe(-1);
    expect(mimallocOptionValue('25ms')).toBeUndefined();
    expect(mimallocOptionValue('0x10')).toBeUndefined();
    expect(mimallocOptionValue('99999999999999999999')).toBe(Number(9223372036854775807n));
  });
});

describe('parseMimallocEnv', () => {
  it('takes pasted shell text, names in any case, and gives policy parameters', () => {
    const r = parseMimallocEnv('export MIMALLOC_DECOMMIT_DELAY=0 mimalloc_segment_decommit_delay="0"\nMIMALLOC_ALLOW_DECOMMIT=no MIMALLOC_EAGER_COMMIT=1 MIMALLOC_PAGE_RESET=0');
    expect(r.params).toEqual({ decommit_delay: 0, segment_decommit_delay: 0, allow_decommit: 0, eager_commit: 1, page_reset: 0 });
    expect(r.ignored).toEqual([]);
  });

  it('takes the first of two settings of one option and the old name only when the new one is absent', () => {
    const r = parseMimallocEnv('MIMALLOC_DECOMMIT_DELAY=5 mimalloc_decommit_delay=7 MIMALLOC_RESET_DELAY=9');
    expect(r.params).toEqual({ decommit_delay: 5 });
    expect(r.ignored.map((i) => i.setting)).toEqual(['mimalloc_decommit_delay=7', 'MIMALLOC_RESET_DELAY=9']);
    expect(parseMimallocEnv('MIMALLOC_RESET_DELAY=9').params).toEqual({ decommit_delay: 9 });
  });

  it('reports values mimalloc refuses and options that change nothing here', () => {
    const r = parseMimallocEnv('MIMALLOC_DECOMMIT_DELAY=25ms MIMALLOC_SHOW_STATS=1 MIMALLOC_EAGER_COMMIT_DELAY=4');
    expect(r.params).toEqual({});
    expect(r.ignored.map((i) => i.setting)).toEqual(['MIMALLOC_DECOMMIT_DELAY=25ms', 'MIMALLOC_SHOW_STATS=1', 'MIMALLOC_EAGER_COMMIT_DELAY=4']);
    expect(r.ignored[0]!.reason).toMatch(/invalid value/);
  });

  it('turns any value but 0 of a switch on, as mi_option_is_enabled does', () => {
    expect(parseMimallocEnv('MIMALLOC_PAGE_RESET=2 MIMALLOC_EAGER_COMMIT=-1 MIMALLOC_ALLOW_DECOMMIT=off').params)
      .toEqual({ page_reset: 1, eager_commit: 1, allow_decommit: 0 });
  });

  it('refuses what it does not model, unknown options and other variables, naming them', () => {
    expect(() => parseMimallocEnv('MIMALLOC_DECOMMIT_DELAY=-1')).toThrow(/negative delays are not modelled/);
    expect(() => parseMimallocEnv('MIMALLOC_LARGE_OS_PAGES=1')).toThrow(/MIMALLOC_LARGE_OS_PAGES: large \(2 MiB\) OS pages are not modelled/);
    expect(() => parseMimallocEnv('MIMALLOC_RESERVE_OS_MEMORY=1G')).toThrow(/arenas are not modelled/);
    expect(() => parseMimallocEnv('MIMALLOC_PURGE_DELAY=0')).toThrow(/mimalloc 2.0.9 has no option 'purge_delay'/);
    expect(() => parseMimallocEnv('MALLOC_ARENA_MAX=1')).toThrow(/not a mimalloc setting/);
    expect(() => parseMimallocEnv('MIMALLOC_DECOMMIT_DELAY')).toThrow(/not NAME=VALUE/);
  });
});

describe('settings read by parseMimallocEnv behave as the real library with the same environment', () => {
  const info = oracle();
  const test = info.skipReason ? it.skip : it;
  test('word values, old names and case', async () => {
    const env = { MIMALLOC_ALLOW_DECOMMIT: 'off', mimalloc_reset_delay: '0', MIMALLOC_SEGMENT_DECOMMIT_DELAY: 'no', MIMALLOC_EAGER_COMMIT: 'FALSE' };
    const text = 'm 1 200000\nm 2 100\nf 1\nm 3 3000000\nf 3\nf 2\nm 4 70000\np\n';
    const params = parseMimallocEnv(Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')).params;
    expect(params).toEqual({ allow_decommit: 0, decommit_delay: 0, segment_decommit_delay: 0, eager_commit: 0 });
    const real = runOracle({ text }, { ops: true, every: 1, env });
    const sim = await runSim(parseOps(text), { every: 1, params });
    expect(firstDifference(real, sim.checkpoints)).toBeUndefined();
  });
});
