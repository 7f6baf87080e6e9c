// MALLOC_CONF as jemalloc 5.3 reads it (src/policies/jemalloc/env.ts). The refusals and notes are
// heapsim's; what counts as a valid value follows jemalloc's parser, and one test checks the
// parser's reading of numbers against the installed library itself.
import { describe, it, expect } from 'vitest';
import { readJemallocEnv, parseMallocConf, jemallocStrtoumax } from '../../../src/policies/jemalloc/index.js';
import { UsageError } from '../../../src/errors.js';
import { oracleIt, runJemallocOracle } from './harness.js';

describe('MALLOC_CONF reader', () => {
  it('reads the settings the model uses, under the policy parameter names', () => {
    const r = readJemallocEnv('MALLOC_CONF=narenas:1,tcache:false,background_thread:false,dirty_decay_ms:0,muzzy_decay_ms:-1,' +
      'retain:true,oversize_threshold:0x100000,lg_extent_max_active_fit:010');
    expect(r.params).toEqual({
      narenas: 1, tcache: 0, dirty_decay_ms: 0, muzzy_decay_ms: -1, retain: 1, oversize_threshold: 1048576,
      lg_extent_max_active_fit: 8,
    });
    expect(r.notes).toEqual([]);
  });

  it('takes shell text: export, quotes, the last assignment wins; no MALLOC_CONF = defaults', () => {
    expect(readJemallocEnv('export MALLOC_CONF="tcache:false"\nMALLOC_CONF=\'dirty_decay_ms:5\'').params).toEqual({ dirty_decay_ms: 5 });
    expect(readJemallocEnv('').params).toEqual({});
  });

  it('ignores, with jemalloc\'s own words, the values jemalloc refuses; a later pair wins', () => {
    const r = parseMallocConf('tcache:yes,dirty_decay_ms:-2,narenas:0,oversize_threshold:12k,dirty_decay_ms:7,narenas:default');
    expect(r.params).toEqual({ dirty_decay_ms: 7 });
    expect(r.notes).toEqual([
      'tcache:yes ignored: jemalloc says "Invalid conf value"',
      'dirty_decay_ms:-2 ignored: jemalloc says "Out-of-range conf value"',
      'narenas:0 ignored: jemalloc says "Out-of-range conf value"',
      'oversize_threshold:12k ignored: jemalloc says "Invalid conf value"',
    ]);
  });

  it('stops at a malformed string, as jemalloc does', () => {
    const r = parseMallocConf('tcache:false,bad key:1,narenas:2');
    expect(r.params).toEqual({ tcache: 0 });
    expect(r.notes[0]).toMatch(/malformed at 'bad key:1,narenas:2'/);
    expect(parseMallocConf('tcache').notes[0]).toMatch(/ends with key 'tcache'/);
  });

  it('notes background_thread:true (not modelled) and refuses settings it does not read', () => {
    expect(parseMallocConf('background_thread:true').notes[0]).toMatch(/background_thread:true not modelled/);
    expect(() => parseMallocConf('tcache_max:4096')).toThrow(UsageError);
    expect(() => parseMallocConf('tcache_max:4096')).toThrow(/'tcache_max:4096' is not supported.*narenas, tcache/);
    expect(() => readJemallocEnv('MALLOC_ARENA_MAX=2')).toThrow(/'MALLOC_ARENA_MAX' is not read by jemalloc/);
  });

  it('reads numbers as malloc_strtoumax does (base 0, sign, whole value)', () => {
    expect(jemallocStrtoumax('0x1F')).toEqual({ value: 31n, used: 4, failed: false });
    expect(jemallocStrtoumax('017')).toEqual({ value: 15n, used: 3, failed: false });
    expect(jemallocStrtoumax('0')).toEqual({ value: 0n, used: 1, failed: false });
    expect(jemallocStrtoumax('-1').value).toBe((1n << 64n) - 1n);
    expect(jemallocStrtoumax('x').failed).toBe(true);
    expect(jemallocStrtoumax('99999999999999999999').failed).toBe(true);
  });

  oracleIt('the installed jemalloc reads the same values: a refused value keeps the default', async () => {
    // dirty_decay_ms:abc is refused, so frees stay dirty under the 10 s default: as the reader says
    const script = 'm 1 65536\nm 2 100\nf 1\np\n';
    const real = runJemallocOracle({ text: script }, { conf: 'narenas:1,tcache:false,dirty_decay_ms:abc', ops: true });
    expect(real.find((c) => c.kind === 'end')!.stats.dirtyBytes).toBe(68 * 1024);
    expect(parseMallocConf('dirty_decay_ms:abc').params.dirty_decay_ms).toBeUndefined();
    const zero = runJemallocOracle({ text: script }, { conf: 'narenas:1,tcache:false,dirty_decay_ms:0x0', ops: true });
    expect(zero.find((c) => c.kind === 'end')!.stats.dirtyBytes).toBe(0);
    expect(parseMallocConf('dirty_decay_ms:0x0').params.dirty_decay_ms).toBe(0);
  });
});
