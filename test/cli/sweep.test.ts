// heapsim sweep: plan order, determinism across pool sizes, output formats, one-line errors.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers.js';
import { syntheticMtrace } from '../../src/trace/synthetic.js';
import { planSweep, settingAxes } from '../../src/sweep/plan.js';

const AXES = ['peak-hour', '--policy', 'first-fit,pool', '--seed', '1,2'];

describe('heapsim sweep', () => {
  it('--jobs 1 (this thread) and --jobs 2 (two worker threads) print identical results', async () => {
    const one = await cli('sweep', ...AXES, '--jobs', '1', '--json');
    const two = await cli('sweep', ...AXES, '--jobs', '2', '--json');
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(one.stderr).toMatch(/4 runs on the main thread/);
    expect(two.stderr).toMatch(/4 runs on 2 worker threads/);
    expect(two.stdout).toBe(one.stdout);
    const rows = JSON.parse(one.stdout).runs;
    // Plan order: policies as given, seeds innermost.
    expect(rows.map((r: { policy: string; seed: number }) => `${r.policy} ${r.seed}`)).toEqual([
      'first-fit 1', 'first-fit 2', 'pool 1', 'pool 2',
    ]);
    for (const r of rows) {
      expect(r.marks.map((m: { label: string }) => m.label)).toEqual(['before', 'peak', 'after']);
      expect(r.peakCommittedBytes).toBeGreaterThanOrEqual(Math.max(...r.marks.map((m: { committedBytes: number }) => m.committedBytes)));
    }
    // Pinned verdicts: peak-hour's after mark keeps tens of MiB committed that the program freed.
    expect(rows.map((r: { diagnosis: string }) => r.diagnosis)).toEqual(['second-order', 'second-order', 'second-order', 'second-order']);
    for (const r of rows) {
      expect(r.retainedBytes).toBeGreaterThan(40 * 1024 * 1024);
      expect(r.failedAllocs).toBe(0);
      // The exact peak is an event of the run, at or above every mark, and not a mark's value.
      expect(r.peakEvent).toBeGreaterThan(0);
      expect(r.peakEvent).toBeLessThan(650_000);
      expect(r.peakCommittedBytes).toBeGreaterThan(Math.max(...r.marks.map((m: { committedBytes: number }) => m.committedBytes)));
    }
    // Each run equals a plain `heapsim run` of the same job.
    const single = JSON.parse((await cli('run', 'peak-hour', '--seed', '2', '--policy', 'pool', '--json')).stdout);
    expect(rows[3].marks.map((m: { committedBytes: number }) => m.committedBytes)).toEqual(single.checkpoints.map((c: { heap: { committedBytes: number } }) => c.heap.committedBytes));
  });

  it('takes trace files beside workloads; seeds apply to workloads only; same results for any --jobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heapsim-sweep-'));
    try {
      const trace = join(dir, 'small.mtrace');
      writeFileSync(trace, syntheticMtrace({ events: 20_000, liveTarget: 1000, seed: 2 }));
      const args = ['sweep', trace, '--policy', 'first-fit,pool', '--seed', '1,2', '--json'];
      const one = await cli(...args, '--jobs', '1');
      const two = await cli(...args, '--jobs', '2');
      expect(one.code).toBe(0);
      expect(two.stdout).toBe(one.stdout);
      const rows = JSON.parse(one.stdout).runs;
      expect(rows.map((r: { input: string; policy: string; seed: number | null; events: number }) => [r.input, r.policy, r.seed, r.events]))
        .toEqual([[trace, 'first-fit', null, 20_000], [trace, 'pool', null, 20_000]]);
      const single = JSON.parse((await cli('run', trace, '--policy', 'pool', '--json')).stdout);
      expect(rows[1].marks.map((m: { committedBytes: number }) => m.committedBytes))
        .toEqual(single.checkpoints.map((c: { heap: { committedBytes: number } }) => c.heap.committedBytes));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--csv: a header and one line per run with per-mark columns; --set values change the runs', async () => {
    const r = await cli('sweep', 'peak-hour', '--set', 'decommitBlockBytes=4K,1M', '--jobs', '2', '--csv');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const head = lines[0]!.split(',');
    expect(head.slice(0, 12)).toEqual(['input', 'policy', 'settings', 'seed', 'events', 'failed_ops', 'failed_allocs', 'first_failed_event',
      'peak_committed_bytes', 'peak_event', 'diagnosis', 'retained_bytes']);
    expect(head).toContain('after_committed_bytes');
    // No two columns share a name: the mark `peak` would give `peak_event`, a run column.
    expect(new Set(head).size).toBe(head.length);
    expect(head).toContain('mark_peak_event');
    expect(head).toContain('mark_peak_reserved_bytes');
    // Pinned verdicts: a 4 KiB decommit threshold gives the memory back, a 1 MiB one keeps it.
    const cell = (line: number, name: string): string => lines[line]!.split(',')[head.indexOf(name)]!;
    expect([cell(1, 'diagnosis'), cell(2, 'diagnosis')]).toEqual(['none', 'second-order']);
    expect(Number(cell(2, 'retained_bytes'))).toBeGreaterThan(250 * 1024 * 1024);
    expect(lines[1]!.split(',').slice(0, 5)).toEqual(['peak-hour', 'first-fit', 'decommitBlockBytes=4K', '1', '650000']);
    expect(lines[2]!.split(',').slice(0, 3)).toEqual(['peak-hour', 'first-fit', 'decommitBlockBytes=1M']);
    // A 1 MiB decommit threshold keeps more committed after the peak than a 4 KiB one.
    const after = head.indexOf('after_committed_bytes');
    expect(Number(lines[2]!.split(',')[after])).toBeGreaterThan(Number(lines[1]!.split(',')[after]));
  });

  it('the default table shows each run and its marks', async () => {
    const r = await cli('sweep', 'peak-hour', '--jobs', '1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^input\s+policy\s+settings/);
    expect(r.stdout).toMatch(/^input +policy +settings +seed +events +failed allocs +peak commit MiB +peak event +verdict +retained MiB +mark/);
    expect(r.stdout).toMatch(/peak-hour\s+first-fit\s+-\s+1\s+650000\s+0\s+544\.5\s+399452\s+second-order\s+56\.8\s+before/);
    expect(r.stdout.match(/\b(before|peak|after)\s+\d+/g)).toHaveLength(3);
  });

  it('plans the cross product: inputs, policies, --set keys in the order given (first outermost), seeds', () => {
    const jobs = planSweep({
      inputs: ['peak-hour'], policies: ['first-fit'],
      settings: settingAxes(['decommitTotalBytes=0,256K', 'decommitBlockBytes=4K,64K,1M']), seeds: [7, 3],
    });
    expect(jobs.map((j) => j.index)).toEqual([...jobs.keys()]);
    expect(jobs.map((j) => `${j.settings.map(([k, v]) => `${k[8]}${v}`).join('/')}#${j.seed}`)).toEqual([
      'T0/B4K#7', 'T0/B4K#3', 'T0/B64K#7', 'T0/B64K#3', 'T0/B1M#7', 'T0/B1M#3',
      'T256K/B4K#7', 'T256K/B4K#3', 'T256K/B64K#7', 'T256K/B64K#3', 'T256K/B1M#7', 'T256K/B1M#3',
    ]);
  });

  it.each([
    [['sweep', '--jobs', '1'], /at least one workload/],
    [['sweep', 'peak-hour', '--policy', 'first-fit,nope'], /unknown policy 'nope'/],
    [['sweep', 'peak-hour', '--policy', 'first-fit,'], /--policy: empty item/],
    [['sweep', 'peak-hour', '--set', 'nope=1,2'], /has no parameter 'nope'/],
    [['sweep', 'peak-hour', '--policy', 'first-fit,pool', '--set', 'chunkBytes=64K'], /policy 'first-fit' has no parameter 'chunkBytes'/],
    [['sweep', 'peak-hour', '--set', 'decommitBlockBytes=4K,'], /empty value/],
    [['sweep', 'peak-hour', '--set', 'decommitBlockBytes=x'], /bad value 'x'/],
    [['sweep', 'peak-hour', '--set', 'decommitBlockBytes=1', '--set', 'decommitBlockBytes=2'], /given twice/],
    [['sweep', 'peak-hour', '--jobs', '0'], /--jobs must be an integer >= 1/],
    [['sweep', 'peak-hour', '--seed', '1,x'], /--seed wants a non-negative integer/],
    [['sweep', 'peak-hour', '--json', '--csv'], /exclude each other/],
    [['sweep', 'nowhere'], /unknown workload 'nowhere'/],
  ])('bad input %j: one line on stderr, exit 2', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
