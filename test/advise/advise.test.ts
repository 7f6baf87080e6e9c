// heapsim advise: the catalogue that fits the platform, ranked runs, the exact changes, the
// baseline's settings carried into every remedy, and the same answer whatever the pool size.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../cli/helpers.js';
import { policySpecs } from '../../src/policies/registry.js';
import { remedyRequest, type AdviseOptions } from '../../src/advise/advise.js';

/**
 * A service-like program in heapsim's text format: three rounds of a peak of small buffers, all
 * freed but every 100th of the last round (a cache that pins the pages below it), then light
 * churn. Under glibc the freed chunks stay resident below the kept ones.
 */
function serviceTrace(marks: boolean): string {
  const lines: string[] = ['#heapsim-trace 1'];
  let id = 1;
  const BLOCKS = 12_000;
  if (marks) lines.push('mark before');
  for (let round = 0; round < 3; round++) {
    const ids: number[] = [];
    for (let i = 0; i < BLOCKS; i++) { ids.push(id); lines.push(`a ${id++} ${200 + (i % 7) * 48}`); }
    if (marks && round === 2) lines.push('mark peak');
    ids.forEach((b, i) => { if (round < 2 || i % 100 !== 0) lines.push(`f ${b}`); });
  }
  for (let i = 0; i < 800; i++) { lines.push(`a ${id} 64`, `f ${id++}`); }
  if (marks) lines.push('mark after');
  return lines.join('\n') + '\n';
}

let dir: string;
let plain: string;
let marked: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapsim-advise-'));
  plain = join(dir, 'service.txt');
  marked = join(dir, 'service-marks.txt');
  writeFileSync(plain, serviceTrace(false));
  writeFileSync(marked, serviceTrace(true));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run { rank: number; id: string; retainedBytes: number; changeBytes: number; change: string; failedAllocs: number; policy: string; marks: { label: string }[] }

describe('heapsim advise', () => {
  it('a glibc trace: every glibc remedy and every other Linux allocator, ranked by retained bytes at the end', async () => {
    const r = await cli('advise', plain, '--json', '--jobs', '1');
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout).advice[0] as { platform: string; policy: string; held: string; quietPoints: { at: string }[]; runs: Run[]; notApplicable: { id: string }[]; baselineVerdict: { kind: string } };
    expect(a.platform).toBe('linux');
    expect(a.policy).toBe('ptmalloc');
    expect(a.held).toBe('resident');
    expect(a.baselineVerdict.kind).toBe('second-order');
    const ids = a.runs.map((x) => x.id);
    for (const id of ['baseline', 'glibc-malloc-trim', 'glibc-trim-threshold', 'glibc-mmap-threshold', 'glibc-top-pad', 'glibc-tcache-count']) expect(ids).toContain(id);
    // Every other registered Linux allocator that says how it is preloaded, from the registry.
    const preloads = policySpecs().filter((s) => s.platform === 'linux' && s.preload && s.name !== 'ptmalloc');
    expect(preloads.length).toBeGreaterThanOrEqual(2);
    for (const s of preloads) {
      const runs = a.runs.filter((x) => x.policy === s.name);
      expect(runs.length).toBe(s.preload!.variants.length);
      for (const x of runs) expect(x.change).toContain(`LD_PRELOAD=${s.preload!.library}`);
    }
    // One arena: the arena limit does not apply, and says so; glibc's trim call is its own entry.
    expect(a.notApplicable.map((n) => n.id)).toEqual(['library-trim', 'glibc-arena-max']);
    // Ranked: retained bytes at the end never decrease down the table; ranks are 1..n.
    expect(a.runs.map((x) => x.rank)).toEqual(a.runs.map((_, i) => i + 1));
    for (let i = 1; i < a.runs.length; i++) expect(a.runs[i]!.retainedBytes).toBeGreaterThanOrEqual(a.runs[i - 1]!.retainedBytes);
    const base = a.runs.find((x) => x.id === 'baseline')!;
    for (const x of a.runs) expect(x.changeBytes).toBe(x.retainedBytes - base.retainedBytes);
    // The quiet point is found without marks (after the last peak), and malloc_trim(0) there gives
    // pages back: the call is made in the measured run (the verdict's --trim-at is a what-if beside it).
    expect(a.quietPoints).toHaveLength(1);
    const trim = a.runs.find((x) => x.id === 'glibc-malloc-trim')!;
    expect(trim.change).toContain(`malloc_trim(0);  after event ${a.quietPoints[0]!.at}`);
    expect(trim.retainedBytes).toBeLessThan(base.retainedBytes / 2);
    expect(a.runs.find((x) => x.id === 'glibc-mmap-threshold')!.change).toBe('MALLOC_MMAP_THRESHOLD_=131072 ./your-program   (or Environment=MALLOC_MMAP_THRESHOLD_=131072 in its systemd unit)');
    for (const x of a.runs) expect(x.failedAllocs).toBe(0);
  });

  it('prints the baseline verdict, then the table, then each change; one worker or two give the same text', async () => {
    const one = await cli('advise', marked, '--policy', 'nt', '--set', 'lfh=0', '--jobs', '1');
    const two = await cli('advise', marked, '--policy', 'nt', '--set', 'lfh=0', '--jobs', '2');
    expect(one.code, one.stderr).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stderr).toMatch(/on 2 worker threads/);
    const t = one.stdout;
    expect(t).toMatch(/on nt \(windows remedies\)/);
    expect(t.indexOf('=== diagnosis ===')).toBeLessThan(t.indexOf('retained end MB'));
    expect(t.indexOf('retained end MB')).toBeLessThan(t.indexOf('the change to apply:'));
    for (const col of ['vs baseline MB', 'at before MB', 'at peak MB', 'peak commit MB', 'peak resident MB', 'failed allocs']) expect(t).toContain(col);
    expect(t).toContain("quiet points: 'after'");
    // The baseline has the LFH off (--set lfh=0): the remedy turns it on, with the call that does it.
    expect(t).toMatch(/nt-lfh: LFH on\n\s+ULONG mode = 2; HeapSetInformation\(hHeap, HeapCompatibilityInformation/);
    expect(t).toMatch(/nt-heapcompact: HeapCompact at the quiet points\n\s+HeapCompact\(GetProcessHeap\(\), 0\);.*at 'after'/);
    expect(t).toContain('DeCommitFreeBlockThreshold = 0x1000');
    expect(t).toMatch(/pool-release-empty-chunks: no custom pool/);
  });

  it('a custom pool on the NT heap: the release policy is a remedy on the pool layer', async () => {
    const r = await cli('advise', marked, '--policy', 'pool', '--set', 'parent=nt', '--json', '--jobs', '1');
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout).advice[0] as { platform: string; runs: Run[] };
    // The pool runs on any platform; its catalogue is the platform of... the baseline's top policy.
    const release = a.runs.find((x) => x.id === 'pool-release-empty-chunks');
    expect(release).toBeDefined();
    expect(release!.retainedBytes).toBeLessThanOrEqual(a.runs.find((x) => x.id === 'baseline')!.retainedBytes);
  });

  it('several inputs: one advice each, in order, with the same settings', async () => {
    const r = await cli('advise', marked, plain, '--policy', 'nt', '--set', 'lfh=1', '--json', '--jobs', '1');
    expect(r.code, r.stderr).toBe(0);
    const advice = JSON.parse(r.stdout).advice as { input: string; platform: string; runs: Run[] }[];
    expect(advice.map((a) => a.input)).toEqual([marked, plain]);
    for (const a of advice) {
      expect(a.platform).toBe('windows');
      // --set lfh=1 is the baseline: the LFH remedy turns it off.
      expect(a.runs.find((x) => x.id === 'nt-lfh')!.change).toMatch(/HEAP_NO_SERIALIZE/);
    }
    expect(r.stderr).toMatch(/2 baselines/);
  });

  it('every remedy starts from the baseline: its --env, --set and --trim-at, the remedy over them', () => {
    const o: AdviseOptions = {
      input: { workload: 'peak-hour', seed: 1 }, name: 'peak-hour', workloadParams: {}, jobs: 1,
      baseline: { policy: 'ptmalloc', set: { top_pad: 4096 }, layers: [], env: ['MALLOC_ARENA_MAX=1'], trimAt: [{ at: 'peak', mark: 'peak', padBytes: 0 }] },
    };
    o.baseline.trimInRun = [{ at: 'before', mark: 'before', padBytes: 0 }];
    const same = remedyRequest(o, { id: 'x', title: '', parameters: {}, explain: '', change: '', run: { env: ['MALLOC_TRIM_THRESHOLD_=131072'], trimInRun: [{ at: 'after', mark: 'after', padBytes: 0 }] } }, 10);
    expect(same.policy).toBe('ptmalloc');
    expect(same.params).toMatchObject({ arena_max: 1, trim_threshold: 131072, top_pad: 4096 });
    // The baseline's what-ifs stay what-ifs; the remedy's call joins the baseline's calls in the run.
    expect(same.trimAt!.map((t) => t.at)).toEqual(['peak']);
    expect(same.trimInRun!.map((t) => t.at)).toEqual(['before', 'after']);
    expect(same.every).toBe(10);
    // Another allocator: only its own settings; the baseline's glibc settings do not apply to it.
    const other = remedyRequest(o, { id: 'y', title: '', parameters: {}, explain: '', change: '', run: { policy: 'jemalloc', env: ['MALLOC_CONF=dirty_decay_ms:0'] } }, 10);
    expect(other.policy).toBe('jemalloc');
    expect(other.params).toEqual({ dirty_decay_ms: 0 });
    expect(other.trimAt).toBeUndefined();
    expect(other.trimInRun).toBeUndefined();
  });
});

describe('heapsim sweep takes what run takes', () => {
  it('--env goes to each policy that reads it, --trim-at to every job; the figures equal run --env / --trim-at', async () => {
    const env = ['--env', 'MALLOC_TOP_PAD_=0', '--env', 'MALLOC_CONF=dirty_decay_ms:0'];
    const s = await cli('sweep', marked, '--policy', 'ptmalloc,jemalloc', ...env, '--trim-at', 'peak', '--jobs', '1', '--json');
    expect(s.code, s.stderr).toBe(0);
    const rows = JSON.parse(s.stdout).runs as { policy: string; marks: { label: string; event: number; committedBytes: number }[] }[];
    for (const [row, line] of [[rows[0]!, 'MALLOC_TOP_PAD_=0'], [rows[1]!, 'MALLOC_CONF=dirty_decay_ms:0']] as const) {
      expect(row.marks.map((m) => m.label)).toEqual(['before', 'peak', 'trim-at peak: before', 'trim-at peak: after', 'after']);
      const run = await cli('run', marked, '--policy', row.policy, '--env', line, '--trim-at', 'peak', '--json');
      type Cp = { label: string; heap: { committedBytes: number } };
      const doc = JSON.parse(run.stdout) as { checkpoints: Cp[]; trims: { at: string; before: Cp; after: Cp }[] };
      // The what-if is the verdict's (doc.trims, beside the run); the sweep shows it after its mark.
      expect(doc.trims.map((t) => t.at)).toEqual(['peak']);
      const [b, p, a] = doc.checkpoints;
      expect(row.marks.map((m) => m.committedBytes)).toEqual([b!, p!, doc.trims[0]!.before, doc.trims[0]!.after, a!].map((c) => c.heap.committedBytes));
    }
    // Without the settings the ptmalloc row differs (the env line reached it).
    const plain = await cli('sweep', marked, '--policy', 'ptmalloc', '--trim-at', 'peak', '--jobs', '1', '--json');
    expect(JSON.parse(plain.stdout).runs[0].marks).not.toEqual(rows[0]!.marks);
  });

  it('an --env line no swept policy reads is a one-line usage error', async () => {
    const r = await cli('sweep', marked, '--policy', 'ptmalloc,nt', '--env', 'MALLOC_CONF=dirty_decay_ms:0', '--jobs', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--env MALLOC_CONF=dirty_decay_ms:0: no swept policy reads it/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
