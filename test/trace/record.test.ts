// heapsim record on a real program (sort on a generated file, and python3 when present), then the
// recorded trace replayed. Skipped, with the reason printed, where glibc tracing is unavailable.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { recordEnvironment } from '../../src/trace/record/record.js';
import { cli } from '../cli/helpers.js';
import { hstHint } from '../../src/trace/formats/hst.js';
import { eventLines, idBoundAndPeakLive, tempDir } from './helpers.js';

const unavailable = await recordEnvironment().then(() => undefined, (e: Error) => e.message);
if (unavailable !== undefined) console.warn(`SKIPPED heapsim record tests: ${unavailable}`);
const python = spawnSync('python3', ['-c', 'pass']).status === 0;
if (unavailable === undefined && !python) console.warn('SKIPPED heapsim record python3 test: python3 not found');

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Unmatched frees found independently of heapsim's reader: `-` lines of pointers never `+`'d. */
function unmatchedFreeLines(mtrace: string): string[] {
  const live = new Set<string>();
  const out: string[] = [];
  let pendingOld: string | undefined;
  for (const line of mtrace.split('\n')) {
    const t = line.trim().split(/\s+/);
    const op = t.find((x) => ['+', '-', '<', '>', '!'].includes(x));
    if (op === undefined) continue;
    const ptr = t[t.indexOf(op) + 1]!;
    if (op === '+' || op === '>') {
      if (op === '>' && pendingOld !== undefined) live.delete(pendingOld);
      live.add(ptr);
    } else if (op === '<') pendingOld = ptr;
    else if (op === '-') {
      if (!live.delete(ptr)) out.push(line);
    }
  }
  return out;
}

/** glibc frees memory it allocated before mtrace() was called, at exit or in setenv & co. */
const FEW_UNMATCHED = 16;

describe.skipIf(unavailable !== undefined)('heapsim record', () => {
  it('records sort on a generated file; the trace replays cleanly', async () => {
    const input = join(tmp.dir, 'numbers.txt');
    writeFileSync(input, Array.from({ length: 20_000 }, (_, i) => String((i * 7919) % 20_011)).join('\n') + '\n');
    const trace = join(tmp.dir, 'sort.mtrace');
    const rec = await cli('record', '-o', trace, '--', 'sort', '-n', input, '-o', join(tmp.dir, 'sorted.txt'));
    expect(rec.code).toBe(0);
    const events = Number(/(\d+) events captured/.exec(rec.stderr)?.[1]);
    expect(events).toBeGreaterThan(100);
    const text = readFileSync(trace, 'utf8');
    expect(text.startsWith('= Start\n')).toBe(true);
    // No malformed line (stats is not --lenient), and the event count matches what record printed.
    const stats = await cli('stats', trace, '--json');
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect(s.events.total).toBe(events);
    expect(s.input.malformedLines).toBe(0);
    expect(s.input.truncatedLastLine).toBe(0);
    // The only unmatched frees are glibc's own, of memory allocated before tracing began.
    const unmatched = unmatchedFreeLines(text);
    expect(s.unmatchedFrees).toBe(unmatched.length);
    expect(unmatched.length).toBeLessThanOrEqual(FEW_UNMATCHED);
    for (const line of unmatched) expect(line).toMatch(/\/libc\.so\.6:/);
    // And it runs through the engine with the same event count.
    const run = await cli('run', trace, '--policy', 'first-fit', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).events).toBe(events);
  });

  it.skipIf(!python)('records python3 -c; children write FILE.<pid>, never the main file', async () => {
    const trace = join(tmp.dir, 'py.mtrace');
    // Strings over 512 bytes bypass pymalloc, so each one is a malloc call glibc traces.
    const script = 'import subprocess; d = ["x" * (600 + i % 50) for i in range(6000)]; subprocess.run(["true"]); print(len(d))';
    const rec = await cli('record', '-o', trace, '--', 'python3', '-c', script);
    expect(rec.code).toBe(0);
    expect(existsSync(trace)).toBe(true);
    const s = JSON.parse((await cli('stats', trace, '--json')).stdout);
    expect(s.events.alloc).toBeGreaterThan(6000);
    expect(s.input.malformedLines).toBe(0);
    expect(s.unmatchedFrees).toBeLessThanOrEqual(FEW_UNMATCHED);
    // The `true` child has its own file.
    expect(rec.stderr).toMatch(/child processes wrote \d+ more trace files/);
  });

  it('records every thread (.hst by default, text): thread ids, exits, callers and times', async () => {
    const source = join(import.meta.dirname, '..', 'oracle', 'pthreads-workload.c');
    const binary = join(tmp.dir, 'pthreads-workload');
    const cc = spawnSync(process.env.CC ?? 'cc', ['-O2', '-pthread', '-o', binary, source], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    // Two waves of 3 workers: 6 threads besides the main one, each ends before the program does.
    const hst = join(tmp.dir, 'threads.hst');
    const rec = await cli('record', '-o', hst, '--', binary, '3', '300');
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.stderr).toMatch(/; 7 threads, 6 exits\)/);
    expect(readFileSync(hst).subarray(0, 4).toString('latin1')).not.toBe('= St'); // not mtrace
    const s = JSON.parse((await cli('stats', hst, '--json')).stdout);
    expect(s.format).toBe('hst');
    expect(s.threads).toBe(7);
    expect(s.threadEnds).toBe(6);
    expect(s.input.malformedLines).toBe(0);
    // A version 3 header whose hint is the truth: the id bound and the peak of live blocks.
    expect(hstHint(readFileSync(hst))).toEqual({ ...idBoundAndPeakLive((await eventLines(hst)).lines), events: s.events.total });
    // Every worker makes 300 allocations of its own (malloc, calloc or aligned_alloc) and its list.
    const workers = (s.perThread as { allocs: number; ends: number }[]).filter((t) => t.ends === 1);
    expect(workers).toHaveLength(6);
    for (const t of workers) expect(t.allocs).toBeGreaterThanOrEqual(301);
    // The same recorder writes text: thread switches and ends, ticks, callers naming the program.
    const txt = join(tmp.dir, 'threads.txt');
    expect((await cli('record', '--format', 'text', '-o', txt, '--', binary, '3', '300')).code).toBe(0);
    const lines = readFileSync(txt, 'utf8').split('\n');
    const ids = new Set(lines.filter((l) => l.startsWith('thread ')).map((l) => l.split(' ')[1]));
    const ends = lines.filter((l) => l.startsWith('thread-end '));
    expect(ids.size).toBe(7);
    expect(ends).toHaveLength(6);
    for (const e of ends) expect(ids.has(e.split(' ')[1])).toBe(true);
    expect(lines.filter((l) => /^tick \d+$/.test(l)).length).toBeGreaterThan(100);
    expect(lines.some((l) => /^a \d+ \d+ @.*pthreads-workload\+0x[0-9a-f]+/.test(l))).toBe(true);
    // mtrace stays available, one thread, no times.
    const mt = join(tmp.dir, 'threads.trace');
    expect((await cli('record', '--format', 'mtrace', '-o', mt, '--', binary, '1', '50')).code).toBe(0);
    expect(readFileSync(mt, 'utf8').startsWith('= Start\n')).toBe(true);
  });

  it('says what is wrong when the program does not exist', async () => {
    const r = await cli('record', '-o', join(tmp.dir, 'x.mtrace'), '--', 'heapsim-no-such-program');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot run 'heapsim-no-such-program'");
  });

  it('passes on the exit code of the program', async () => {
    const r = await cli('record', '-o', join(tmp.dir, 'f.mtrace'), '--', 'sh', '-c', 'exit 3');
    expect(r.code).toBe(3);
  });
});

describe('heapsim record usage', () => {
  it('wants a command after --', async () => {
    const r = await cli('record', '-o', 'x.mtrace');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('after --');
  });
});

describe('heapsim record without a C compiler', () => {
  it('says a C compiler is needed and how to get one', async () => {
    const saved = process.env.CC;
    process.env.CC = 'heapsim-no-such-compiler';
    try {
      if (process.platform !== 'linux') return; // the platform error comes first there
      const r = await cli('record', '-o', 'x.mtrace', '--', 'true');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/needs (a C compiler|glibc)/);
      if (unavailable === undefined) expect(r.stderr).toContain('set CC');
    } finally {
      if (saved === undefined) delete process.env.CC;
      else process.env.CC = saved;
    }
  });
});
