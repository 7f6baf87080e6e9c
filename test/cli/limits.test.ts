// Simulated bytes cost no host memory (regression test for the reliability report's failure 7:
// `pool` with sixteen 1 TiB allocations on x64 grew host memory to 4.25 GB and trapped after 28 s).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { tempDir } from '../trace/helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const TiB = 2 ** 40;

it('pool with sixteen 1 TiB blocks on x64: every block served, 16 TiB committed, quickly', async () => {
  const path = join(tmp.dir, 'tib.txt');
  writeFileSync(path, '#heapsim-trace 1\n' + Array.from({ length: 16 }, (_, i) => `a ${i} ${TiB}\n`).join('') + 'mark end\n');
  const started = performance.now();
  const r = await cli('run', path, '--policy', 'pool', '--arch', 'x64', '--json');
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.failedOps).toBe(0);
  const end = doc.checkpoints.find((c: { label: string }) => c.label === 'end');
  expect(end.address.state.commit).toBeGreaterThanOrEqual(16 * TiB);
  expect(performance.now() - started).toBeLessThan(20_000);
  expect(process.memoryUsage().rss).toBeLessThan(1.5 * 2 ** 30);
});
