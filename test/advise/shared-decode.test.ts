// Shared decoding: a sweep over one trace decodes it once per thread, and the runs are the same
// as when every run reads the file itself.
import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeSweep } from '../../src/sweep/execute.js';
import { planSweep } from '../../src/sweep/plan.js';
import { setDecodedTraceCache, traceDecodes } from '../../src/trace/decoded-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'heapsim-decode-'));
afterAll(() => { setDecodedTraceCache(true); rmSync(dir, { recursive: true, force: true }); });

function trace(): string {
  const lines = ['#heapsim-trace 1', 'mark start'];
  for (let i = 1; i <= 3000; i++) lines.push(`a ${i} ${32 + (i % 13) * 24}`);
  lines.push('mark peak');
  for (let i = 1; i <= 3000; i++) if (i % 10) lines.push(`f ${i}`);
  lines.push('mark end-of-work');
  return lines.join('\n') + '\n';
}

describe('shared decoding', () => {
  it('one decode per thread for a sweep of one trace; the same documents as streaming each run', async () => {
    const path = join(dir, 't.txt');
    writeFileSync(path, trace());
    // Four policies that have a trim call (--trim-at is a usage error on tlsf, which has none).
    const jobs = planSweep({ inputs: [path], policies: ['ptmalloc', 'first-fit', 'nt', 'jemalloc'], settings: [], seeds: [1] });
    setDecodedTraceCache(false);
    const streamed = await executeSweep(jobs, { jobs: 1, trimAt: [{ at: 'peak', mark: 'peak', padBytes: 0 }] });
    setDecodedTraceCache(true);
    const before = traceDecodes();
    const shared = await executeSweep(jobs, { jobs: 1, trimAt: [{ at: 'peak', mark: 'peak', padBytes: 0 }] });
    expect(traceDecodes() - before).toBe(1);
    expect(JSON.stringify(shared.docs)).toBe(JSON.stringify(streamed.docs));
    // A changed file is decoded again.
    appendFileSync(path, 'a 99999 64\n');
    await executeSweep(jobs.slice(0, 1), { jobs: 1 });
    expect(traceDecodes() - before).toBe(2);
  });
});
