// The CI gate: --fail-on, --max-retained, --max-peak make `run` exit 1 (a limit failed, named on
// stderr), 0 when the run passes, 2 for a usage error; --threshold changes the verdict.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { tempDir } from '../trace/helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** 200 blocks of 20000 bytes, then `tail`, then the 200 freed. */
function trace(name: string, tail: string[]): string {
  const lines = ['#heapsim-trace 1'];
  for (let i = 0; i < 200; i++) lines.push(`a ${i} 20000`);
  lines.push(...tail);
  for (let i = 0; i < 200; i++) lines.push(`f ${i}`);
  const path = join(tmp.dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
// A 2000-byte block allocated after the 200 pins the break: glibc keeps the 4 MB below it.
const RETAINING = trace('retaining.txt', ['a 200 2000']);
// Nothing above them: the freed blocks merge into top and free() trims the break.
const RETURNING = trace('returning.txt', []);

describe('heapsim run --fail-on / --max-retained / --max-peak', () => {
  it('--fail-on second-order exits 1 on a trace that retains memory, naming the limit; 0 on one that gives it back', async () => {
    const bad = await cli('run', RETAINING, '--policy', 'ptmalloc', '--fail-on', 'second-order');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^verdict: second-order: 3\.\d MiB retained at the end/m);
    expect(bad.stderr).toMatch(/^heapsim run: limit failed: verdict second-order \(--fail-on second-order\): second-order: /m);
    const good = await cli('run', RETURNING, '--policy', 'ptmalloc', '--fail-on', 'second-order');
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^verdict: none: /m);
    expect(good.stderr).not.toMatch(/limit failed/);
  });

  it('--fail-on takes a list; a kind the run does not have passes', async () => {
    expect((await cli('run', RETAINING, '--policy', 'ptmalloc', '--fail-on', 'out-of-memory,first-order')).code).toBe(0);
    expect((await cli('run', RETAINING, '--policy', 'ptmalloc', '--fail-on', 'first-order,second-order')).code).toBe(1);
  });

  it('--max-retained and --max-peak compare with the verdict\'s retained bytes and the exact peak', async () => {
    const doc = JSON.parse((await cli('run', RETAINING, '--policy', 'ptmalloc', '--json')).stdout);
    const retained = doc.diagnosis.retainedAtEndBytes as number;
    const peak = doc.peaks.committedBytes.bytes as number;
    expect(retained).toBeGreaterThan(3_900_000);
    // At the limit passes; one byte over fails.
    expect((await cli('run', RETAINING, '--policy', 'ptmalloc', '--max-retained', String(retained))).code).toBe(0);
    const over = await cli('run', RETAINING, '--policy', 'ptmalloc', '--max-retained', String(retained - 1), '--json');
    expect(over.code).toBe(1);
    expect(JSON.parse(over.stdout).diagnosis.kind).toBe('second-order'); // the document is still printed
    expect(over.stderr).toMatch(new RegExp(`^heapsim run: limit failed: retained ${retained} bytes .* > --max-retained ${retained - 1} bytes`, 'm'));
    expect((await cli('run', RETAINING, '--policy', 'ptmalloc', '--max-peak', String(peak))).code).toBe(0);
    const high = await cli('run', RETAINING, '--policy', 'ptmalloc', '--max-peak', '1M');
    expect(high.code).toBe(1);
    expect(high.stderr).toMatch(new RegExp(`limit failed: peak committed ${peak} bytes \\([\\d.]+ MiB\\) at event ${doc.peaks.committedBytes.event} > --max-peak 1048576 bytes \\(1\\.0 MiB\\)`));
    // Every failed limit is named.
    const all = await cli('run', RETAINING, '--policy', 'ptmalloc', '--max-peak', '1M', '--max-retained', '1M', '--fail-on', 'second-order');
    expect(all.stderr.match(/limit failed/g)).toHaveLength(3);
  });

  it('--threshold changes the verdict, and the gate follows it', async () => {
    const raised = await cli('run', RETAINING, '--policy', 'ptmalloc', '--threshold', 'minBytes=8M', '--fail-on', 'second-order', '--json');
    expect(raised.code).toBe(0);
    const d = JSON.parse(raised.stdout).diagnosis;
    expect(d.kind).toBe('none');
    expect(d.thresholds).toEqual({ minBytes: 8 * 1048576, peakFraction: 0.1, liveStaysFraction: 0.75 });
    expect(JSON.parse((await cli('run', RETAINING, '--policy', 'ptmalloc', '--threshold', 'peakFraction=50%', '--json')).stdout).diagnosis.thresholds.peakFraction).toBe(0.5);
  });

  it.each([
    [['--fail-on', 'bogus'], /--fail-on: unknown verdict 'bogus' \(one of out-of-memory, first-order, second-order\)/],
    [['--fail-on', ','], /--fail-on wants one or more of/],
    [['--max-peak', 'lots'], /--max-peak wants a size in bytes/],
    [['--max-retained=-1'], /--max-retained wants a size in bytes \(K\/M\/G accepted\), got '-1'/],
    [['--threshold', 'nope=1'], /--threshold: unknown threshold 'nope' \(known: minBytes, peakFraction, liveStaysFraction\)/],
    [['--threshold', 'peakFraction=2'], /--threshold peakFraction wants a share from 0 to 1/],
    [['--threshold', 'minBytes'], /--threshold wants NAME=VALUE/],
    [['--threshold', 'constructor=1'], /unknown threshold 'constructor'/],
  ])('%j is a usage error: one line, exit 2', async (args, message) => {
    const r = await cli('run', RETAINING, '--policy', 'ptmalloc', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('run --help documents the gate and the thresholds with their defaults', async () => {
    const h = (await cli('run', '--help')).stdout;
    expect(h).toMatch(/--fail-on KIND\[,KIND\] +exit 1 when the verdict is one of: out-of-memory, first-order, second-order/);
    expect(h).toMatch(/minBytes \(default 1\.0 MiB\)/);
    expect(h).toMatch(/peakFraction \(default 0\.1\)/);
    expect(h).toMatch(/liveStaysFraction \(default 0\.75\)/);
    expect(h).toMatch(/--max-retained SIZE/);
    expect(h).toMatch(/--max-peak SIZE/);
  });
});
