// Simulated bytes cost no host memory (regression test for the reliability report's failure 7:
// `pool` with sixteen 1 TiB allocations on x64 grew host memory to 4.25 GB and trapped after 28 s).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { tempDir } from '../trace/helpers.js';
import { createEngine, OpBuffer, policySpecs } from '../../src/index.js';

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

// Every policy, not just pool: simulated terabytes (served or failed) must not grow the engine's
// own memory. WebAssembly memory only grows, so its size after the run bounds what the policy used.
const ENGINE_MEMORY_BOUND_BYTES = 64 * 2 ** 20;
it.each(policySpecs().map((p) => p.name))('%s: terabyte blocks on x64 cost no engine memory', async (policy) => {
  const e = await createEngine({ arch: 'x64', profile: 'bare' });
  const heap = e.createHeap(policy);
  const ops = new OpBuffer(256);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 16; i++) ops.alloc(heap, i, TiB + i * 4096);
    for (let i = 16; i < 24; i++) ops.alloc(heap, i, 4 * TiB);
    for (let i = 0; i < 24; i += 2) ops.free(heap, i);
    for (let i = 24; i < 40; i++) ops.realloc(heap, i - 23, 2 * TiB);
    for (let i = 0; i < 24; i++) ops.free(heap, i);
    e.apply(ops);
    ops.clear();
  }
  expect(e.check(), 'invariants after the run').toBe(0);
  expect(e.memoryBytes).toBeLessThan(ENGINE_MEMORY_BOUND_BYTES);
});
