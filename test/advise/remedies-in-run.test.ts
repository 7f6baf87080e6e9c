// Remedies that are calls in the program run in the measured run itself: --trim-in-run (the
// library's trim call, as malloc_trim(0) / HeapCompact at a quiet point) and --private-heap (the
// peak's short-lived blocks on a heap created before the peak and destroyed after it), while
// --trim-at stays the verdict's what-if beside the run. advise ranks both on the changed run, and
// MALLOC_ARENA_MAX is one of its remedies on a threaded recording.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../cli/helpers.js';
import { recordEnvironment } from '../../src/trace/record/record.js';
import { policySpecs } from '../../src/policies/registry.js';

const unavailable = await recordEnvironment().then(() => undefined, (e: Error) => e.message);
if (unavailable !== undefined) console.warn(`SKIPPED advise on a threaded recording: ${unavailable}`);

/**
 * A service in heapsim's text format: long-lived objects, then a peak of short-lived buffers of
 * one to three KiB with a small record the service keeps after every 50th, all buffers freed,
 * then light churn. `quiet` follows the peak's last free, `after` the churn.
 */
function serviceTrace(): { text: string; windowBlocks: number } {
  const lines = ['#heapsim-trace 1'];
  let id = 1;
  for (let i = 0; i < 2000; i++) lines.push(`a ${id++} ${100 + (i % 13) * 24}`);
  lines.push('mark before');
  let windowBlocks = 0;
  for (let round = 0; round < 6; round++) {
    const buffers: number[] = [];
    for (let i = 0; i < 600; i++) {
      buffers.push(id);
      lines.push(`a ${id++} ${1024 + (i * 37) % 2048}`);
      windowBlocks++;
      if (i % 50 === 0) lines.push(`a ${id++} 200`); // kept: outlives the window
    }
    if (round === 5) lines.push('mark peak');
    for (const b of buffers) lines.push(`f ${b}`);
  }
  lines.push('mark quiet');
  for (let i = 0; i < 400; i++) lines.push(`a ${id} 64`, `f ${id++}`);
  lines.push('mark after');
  return { text: lines.join('\n') + '\n', windowBlocks };
}

interface Cp { label: string; event: number; program: { liveBytes: number }; heap: { committedBytes: number; residentBytes: number }; heaps: { heap: number; committedBytes: number }[] }
interface Doc {
  events: number;
  checkpoints: Cp[];
  diagnosis: { retainedBytes: number };
  trims?: { at: string; before: Cp; after: Cp }[];
  trimsInRun?: { at: string; call: string; event: number; releasedBytes: number; committedBeforeBytes: number; committedAfterBytes: number }[];
  privateHeap?: { heap: number; blocks: number; createdAtEvent: number; closedAtEvent: number; destroyedAtEvent: number };
}

let dir: string;
let trace: string;
let windowBlocks: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapsim-inrun-'));
  trace = join(dir, 'service.txt');
  const t = serviceTrace();
  writeFileSync(trace, t.text);
  windowBlocks = t.windowBlocks;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runDoc(...args: string[]): Promise<Doc> {
  const r = await cli('run', trace, '--json', ...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Doc;
}

const at = (d: Doc, label: string): Cp => d.checkpoints.find((c) => c.label === label)!;

describe('--trim-in-run: the trim call made in the measured run', () => {
  it('changes the run from its point on (same events, same live bytes); --trim-at leaves the run as it was', async () => {
    const base = await runDoc('--policy', 'ptmalloc');
    const whatIf = await runDoc('--policy', 'ptmalloc', '--trim-at', 'quiet');
    const inRun = await runDoc('--policy', 'ptmalloc', '--trim-in-run', 'quiet');
    // The what-if is beside the run: every checkpoint as in the baseline, the trim in doc.trims.
    expect(whatIf.checkpoints).toEqual(base.checkpoints);
    expect(whatIf.trims!.map((t) => t.at)).toEqual(['quiet']);
    expect(whatIf.trimsInRun).toBeUndefined();
    // In the run: the program is the same (events, live bytes), the heap from 'quiet' on is not.
    expect(inRun.checkpoints.map((c) => [c.label, c.event, c.program.liveBytes])).toEqual(base.checkpoints.map((c) => [c.label, c.event, c.program.liveBytes]));
    expect(at(inRun, 'peak')).toEqual(at(base, 'peak'));
    expect(at(inRun, 'quiet')).toEqual(at(base, 'quiet'));
    const t = inRun.trimsInRun!;
    expect(t).toHaveLength(1);
    expect(t[0]!.call).toBe('malloc_trim(0)');
    expect(t[0]!.event).toBe(at(base, 'quiet').event);
    expect(t[0]!.releasedBytes).toBeGreaterThan(1024 * 1024);
    expect(at(inRun, 'after').heap.residentBytes).toBeLessThan(at(base, 'after').heap.residentBytes - 1024 * 1024);
    // The verdict reads the changed run.
    expect(inRun.diagnosis.retainedBytes).toBeLessThan(base.diagnosis.retainedBytes);
  });

  it('HeapCompact on the NT heap; at the last event the end checkpoint shows the call', async () => {
    const base = await runDoc('--policy', 'nt');
    const inRun = await runDoc('--policy', 'nt', '--trim-in-run', 'after');
    expect(inRun.trimsInRun![0]!.call).toBe('HeapCompact');
    const last = inRun.checkpoints[inRun.checkpoints.length - 1]!;
    expect(last.label).toBe('end');
    expect(last.event).toBe(base.events);
    expect(last.heap.committedBytes).toBe(inRun.trimsInRun![0]!.committedAfterBytes);
    // The text report says what the calls made in the run gave back, apart from the what-ifs.
    const text = await cli('run', trace, '--policy', 'nt', '--trim-in-run', 'quiet', '--private-heap', 'before..quiet');
    expect(text.stdout).toMatch(/trim calls made in the run \(--trim-in-run; the verdict reads the run with them\):\n {2}HeapCompact at quiet \(event \d+\) gave back/);
    expect(text.stdout).toMatch(new RegExp(`private heap 1 \\(--private-heap before\\.\\.quiet\\): ${windowBlocks} blocks, .* destroyed at event \\d+`));
  });

  it('refuses the end of the run, a policy with no trim call and an unknown mark, in one line', async () => {
    for (const args of [['--trim-in-run', 'end'], ['--policy', 'tlsf', '--trim-in-run', 'quiet'], ['--trim-in-run', 'nosuchmark']]) {
      const r = await cli('run', trace, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--trim-in-run/);
    }
  });
});

describe('--private-heap: the peak\'s short-lived blocks on a heap of their own', () => {
  it('routes the window\'s blocks freed in it, destroys the heap at the window\'s end; the program is unchanged', async () => {
    const base = await runDoc('--policy', 'nt');
    const ph = await runDoc('--policy', 'nt', '--private-heap', 'before..quiet');
    expect(ph.checkpoints.map((c) => [c.label, c.event, c.program.liveBytes])).toEqual(base.checkpoints.map((c) => [c.label, c.event, c.program.liveBytes]));
    const log = ph.privateHeap!;
    // Every buffer of the peak, none of the kept records.
    expect(log.blocks).toBe(windowBlocks);
    expect(log.createdAtEvent).toBe(at(base, 'before').event);
    expect(log.destroyedAtEvent).toBe(at(base, 'quiet').event);
    expect(at(ph, 'peak').heaps.map((h) => h.heap)).toEqual([0, log.heap]);
    expect(at(ph, 'after').heaps.map((h) => h.heap)).toEqual([0]);
    // The process heap only grew by what the program keeps: it holds less than the baseline's.
    expect(at(ph, 'after').heap.committedBytes).toBeLessThan(at(base, 'after').heap.committedBytes);
    // The peak's growth never reached the process heap.
    expect(at(ph, 'peak').heap.committedBytes).toBe(at(base, 'before').heap.committedBytes);
  });

  it('refuses a window that ends at the end of the run or before it starts', async () => {
    for (const w of ['before..end', '300..200', 'before']) {
      const r = await cli('run', trace, '--policy', 'nt', '--private-heap', w);
      expect(r.code, w).toBe(2);
      expect(r.stderr).toMatch(/--private-heap/);
    }
  });

  it('advise offers it on Windows heaps: the window from the quiet point before the peak to the one after, ranked on the changed run', async () => {
    const r = await cli('advise', trace, '--policy', 'nt', '--json', '--jobs', '1');
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout).advice[0] as { runs: { id: string; parameters: Record<string, string>; change: string; retainedBytes: number }[] };
    const ph = a.runs.find((x) => x.id === 'nt-private-heap')!;
    expect(ph.parameters).toEqual({ from: 'before', to: 'quiet' });
    expect(ph.change).toMatch(/HeapCreate\(0, 0, 0\);\s+at 'before'.*HeapDestroy\(peak\);\s+at 'quiet'/);
    const base = a.runs.find((x) => x.id === 'baseline')!;
    expect(ph.retainedBytes).toBeLessThan(base.retainedBytes);
    // HeapCompact is made in the run too: at the quiet points, not beside the run.
    const hc = a.runs.find((x) => x.id === 'nt-heapcompact')!;
    expect(hc.change).toMatch(/HeapCompact\(GetProcessHeap\(\), 0\);/);
  });
});

describe.skipIf(unavailable !== undefined)('advise on a recorded threaded program that retains memory under glibc', () => {
  it('ranks every glibc remedy, MALLOC_ARENA_MAX=2 (thread arenas keep free memory; its run has one) and every other Linux allocator', async () => {
    const source = join(import.meta.dirname, '..', 'oracle', 'pthreads-workload.c');
    const binary = join(dir, 'pthreads-workload');
    const cc = spawnSync(process.env.CC ?? 'cc', ['-O2', '-pthread', '-o', binary, source], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const hst = join(dir, 'threads.hst');
    const rec = await cli('record', '-o', hst, '--', binary, '4', '1500');
    expect(rec.code, rec.stderr).toBe(0);
    const r = await cli('advise', hst, '--json', '--jobs', '1');
    expect(r.code, r.stderr).toBe(0);
    type Run = { id: string; policy: string; change: string; explain: string; verdict: { causes: { mechanism: string }[] } };
    const a = JSON.parse(r.stdout).advice[0] as { runs: Run[]; notApplicable: { id: string }[]; baselineVerdict: { kind: string } };
    expect(a.baselineVerdict.kind).toBe('second-order');
    expect(a.notApplicable.map((n) => n.id)).toEqual(['library-trim']);
    const ids = a.runs.map((x) => x.id);
    for (const id of ['baseline', 'glibc-malloc-trim', 'glibc-trim-threshold', 'glibc-mmap-threshold', 'glibc-top-pad', 'glibc-tcache-count', 'glibc-arena-max']) expect(ids).toContain(id);
    for (const s of policySpecs().filter((p) => p.platform === 'linux' && p.preload && p.name !== 'ptmalloc')) {
      expect(a.runs.filter((x) => x.policy === s.name)).toHaveLength(s.preload!.variants.length);
    }
    const threadArenas = (x: Run): number => Number(/free chunks kept in (\d+) thread arena/.exec(x.verdict.causes.map((c) => c.mechanism).join('\n'))?.[1] ?? 0);
    const base = a.runs.find((x) => x.id === 'baseline')!;
    expect(threadArenas(base)).toBeGreaterThan(1);
    const am = a.runs.find((x) => x.id === 'glibc-arena-max')!;
    expect(am.change).toBe('MALLOC_ARENA_MAX=2 ./your-program   (or Environment=MALLOC_ARENA_MAX=2 in its systemd unit)');
    expect(am.explain).toMatch(/thread arenas keep \d+ free bytes/);
    // The quiet point says where in the program it is: the recording has callers.
    const trim = a.runs.find((x) => x.id === 'glibc-malloc-trim')!;
    expect(trim.change).toMatch(/malloc_trim\(0\);  after event \d+ \(.*; the last call before it from .*pthreads-workload\+0x[0-9a-f]+/);
    // Two arenas: the main one and one thread arena all the threads share.
    expect(threadArenas(am)).toBeLessThanOrEqual(1);
  });
});

describe('other libraries\' trim calls and sweep --trim-in-run', () => {
  it('advise on a jemalloc baseline offers its own trim call at the quiet points, made in the run', async () => {
    const r = await cli('advise', trace, '--policy', 'jemalloc', '--json', '--jobs', '1');
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout).advice[0] as { notApplicable: { id: string }[]; runs: { id: string; title: string; change: string; parameters: Record<string, string> }[] };
    const t = a.runs.find((x) => x.id === 'library-trim')!;
    expect(t.title).toBe('thread.tcache.flush + arena.<all>.purge at the quiet points');
    expect(t.parameters.at).toBe('quiet,after');
    expect(t.change).toMatch(/^call {2}thread\.tcache\.flush \+ arena\.<all>\.purge {2}at mark 'quiet'/);
    // glibc's own entries do not apply to jemalloc, and say so.
    expect(a.notApplicable.map((n) => n.id)).toContain('glibc-malloc-trim');
  });

  it('sweep --trim-in-run: every job makes the call in its run; its before and after are columns', async () => {
    const s = await cli('sweep', trace, '--policy', 'ptmalloc,nt', '--trim-in-run', 'quiet', '--jobs', '1', '--json');
    expect(s.code, s.stderr).toBe(0);
    const rows = JSON.parse(s.stdout).runs as { policy: string; marks: { label: string; committedBytes: number }[] }[];
    for (const row of rows) {
      expect(row.marks.map((m) => m.label)).toEqual(['before', 'peak', 'quiet', 'trim quiet: before', 'trim quiet: after', 'after']);
      const doc = await runDoc('--policy', row.policy, '--trim-in-run', 'quiet');
      expect(row.marks.find((m) => m.label === 'after')!.committedBytes).toBe(at(doc, 'after').heap.committedBytes);
    }
  });
});
