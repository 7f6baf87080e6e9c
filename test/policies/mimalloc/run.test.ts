// The mimalloc policy through the command line: MIMALLOC_* via --env (the same environment given to
// the real library), the library's numbers under heap.native in every checkpoint and equal to the
// oracle's at the trace's marks, the diagnosis naming mimalloc's mechanisms, the mi_collect(true)
// what-if, and clear refusals.
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../../cli/helpers.js';
import { oracle, runOracle, scratchDir, NATIVE_FIELDS, type Native } from './harness.js';
import type { RunDocument, TrimResult } from '../../../src/report/types.js';

const BLOCKS = 2000;
const KEEP_EVERY = 50;

/**
 * 2000 blocks of 1 KiB .. 64 KiB (small and medium pages), then all but every 50th freed: the same
 * calls as a heapsim trace (with marks) and as an oracle op script (with checkpoints).
 */
function workload(): { trace: string; script: string } {
  const lines = ['#heapsim-trace 1'];
  const ops: string[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    lines.push(`a ${i} ${1024 * (1 + (i % 64))}`);
    ops.push(`m ${i} ${1024 * (1 + (i % 64))}`);
  }
  lines.push('mark peak');
  ops.push('p');
  for (let i = 0; i < BLOCKS; i++) {
    if (i % KEEP_EVERY === 0) continue;
    lines.push(`f ${i}`);
    ops.push(`f ${i}`);
  }
  lines.push('mark after');
  ops.push('p');
  const trace = join(scratchDir(), 'mi-run.trace');
  writeFileSync(trace, lines.join('\n') + '\n');
  return { trace, script: ops.join('\n') + '\n' };
}

const info = oracle();
if (info.skipReason) console.warn(`[mimalloc run] ${info.skipReason}`);
const withOracle = info.skipReason ? it.skip : it;

function runDoc(stdout: string): RunDocument {
  return JSON.parse(stdout) as RunDocument;
}

function nativeAt(doc: RunDocument, label: string): Native {
  const c = doc.checkpoints.find((x) => x.label === label);
  if (!c) throw new Error(`no checkpoint '${label}'`);
  return c.heap.native as Native;
}

const mechanisms = (doc: RunDocument): string[] => doc.diagnosis!.causes.map((c) => c.mechanism);

describe('heapsim run --policy mimalloc', () => {
  withOracle('heap.native in every checkpoint, equal to the real library run with the same MIMALLOC_* environment', async () => {
    const { trace, script } = workload();
    // Settings whose result does not depend on the real run's wall time (docs/mimalloc.md, Time).
    const delays0 = { MIMALLOC_DECOMMIT_DELAY: '0', MIMALLOC_SEGMENT_DECOMMIT_DELAY: '0' };
    for (const env of [
      delays0, { MIMALLOC_ALLOW_DECOMMIT: '0' }, { ...delays0, MIMALLOC_EAGER_COMMIT: '0' }, { MIMALLOC_ALLOW_DECOMMIT: '0', MIMALLOC_PAGE_RESET: '1' },
    ] as Record<string, string>[]) {
      const r = await cli('run', trace, '--policy', 'mimalloc', '--json', ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]));
      expect(r.code, r.stderr).toBe(0);
      const doc = runDoc(r.stdout);
      for (const c of doc.checkpoints) expect(Object.keys(c.heap.native as object).sort()).toEqual([...NATIVE_FIELDS].sort());
      const real = runOracle({ text: script }, { ops: true, env }).filter((c) => c.kind === 'at');
      expect(real.map((c) => c.event)).toEqual([BLOCKS, 2 * BLOCKS - BLOCKS / KEEP_EVERY]);
      expect([nativeAt(doc, 'peak'), nativeAt(doc, 'after')], JSON.stringify(env)).toEqual(real.map((c) => c.native));
    }
  }, 60_000);

  it('the diagnosis names where the freed memory is held, setting by setting', async () => {
    const { trace } = workload();
    const run = async (...env: string[]): Promise<RunDocument> => {
      const r = await cli('run', trace, '--policy', 'mimalloc', '--json', ...env.flatMap((e) => ['--env', e]));
      expect(r.code, r.stderr).toBe(0);
      return runDoc(r.stdout);
    };
    const pending = /^free slices not yet decommitted/;
    const eager = /^eager segment commit/;
    const defaults = await run();
    expect(mechanisms(defaults)[0]).toMatch(pending);            // 25 ms have not passed
    const keep = await run('MIMALLOC_ALLOW_DECOMMIT=0');
    expect(mechanisms(keep)[0]).toMatch(eager);
    expect(mechanisms(keep).some((m) => pending.test(m))).toBe(false);
    expect(keep.diagnosis!.causes[0]!.bytes).toBeGreaterThan(64 << 20);
    const now = await run('MIMALLOC_DECOMMIT_DELAY=0', 'MIMALLOC_SEGMENT_DECOMMIT_DELAY=0');
    expect(mechanisms(now).some((m) => pending.test(m) || eager.test(m))).toBe(false);
    expect(mechanisms(now)[0]).toMatch(/^free blocks in pages that still hold a live block/);
    expect(nativeAt(now, 'after').current_commit).toBeLessThan(nativeAt(keep, 'after').current_commit / 4);
  });

  withOracle('--trim-at performs mi_collect(true), as the real one at the same event', async () => {
    const { trace, script } = workload();
    const env = { MIMALLOC_ALLOW_DECOMMIT: '0' };
    const r = await cli('run', trace, '--policy', 'mimalloc', '--trim-at', 'after', '--json', '--env', 'MIMALLOC_ALLOW_DECOMMIT=0');
    expect(r.code, r.stderr).toBe(0);
    const doc = runDoc(r.stdout);
    const at = 2 * BLOCKS - BLOCKS / KEEP_EVERY;
    const real = runOracle({ text: script }, { ops: true, env, trimAt: at });
    // The trim runs beside the run the verdict reads; its before/after checkpoints are in `trims`.
    const [trim] = doc.trims as TrimResult[];
    expect(trim!.event).toBe(at);
    expect([trim!.before.heap.native, trim!.after.heap.native])
      .toEqual([real.find((c) => c.kind === 'before')!.native, real.find((c) => c.kind === 'after')!.native]);
    const text = await cli('run', trace, '--policy', 'mimalloc', '--trim-at', 'after', '--env', 'MIMALLOC_ALLOW_DECOMMIT=0');
    expect(text.stdout).toContain(`what mi_collect(true) would give back at after (event ${at})`);
  });

  it('refuses settings it does not model and bad parameter values, in one line', async () => {
    const { trace } = workload();
    const renamed = await cli('run', trace, '--policy', 'mimalloc', '--env', 'MIMALLOC_PURGE_DELAY=0');
    expect(renamed.code).toBe(2);
    expect(renamed.stderr).toMatch(/mimalloc 2\.0\.9 has no option 'purge_delay'/);
    const large = await cli('run', trace, '--policy', 'mimalloc', '--env', 'MIMALLOC_LARGE_OS_PAGES=1');
    expect(large.code).toBe(2);
    expect(large.stderr).toMatch(/MIMALLOC_LARGE_OS_PAGES: large \(2 MiB\) OS pages are not modelled/);
    const flag = await cli('run', trace, '--policy', 'mimalloc', '--set', 'allow_decommit=2');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/allow_decommit 2 must be 0 or 1/);
    for (const r of [renamed, large, flag]) {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const noted = await cli('run', trace, '--policy', 'mimalloc', '--env', 'MIMALLOC_SHOW_STATS=1');
    expect(noted.code, noted.stderr).toBe(0);
    expect(noted.stderr).toMatch(/MIMALLOC_SHOW_STATS=1 ignored: only prints/);
  });
});
