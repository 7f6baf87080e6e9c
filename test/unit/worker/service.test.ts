// The engine service gives the same answers in the calling thread and in a worker thread, moves op
// buffers instead of copying them, keeps our error classes across the boundary and can cancel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxy } from 'comlink';
import { OpBuffer } from '../../../src/engine/ops.js';
import { EngineService } from '../../../src/worker/service.js';
import { startNodeWorker, type NodeEngineWorker } from '../../../src/worker/node.js';
import { UsageError } from '../../../src/errors.js';
import { runWorkload } from '../../../src/run/run.js';
import { makeWorkload } from '../../../src/workload/index.js';
import type { Checkpoint } from '../../../src/report/types.js';

function someOps(): OpBuffer {
  const ops = new OpBuffer(64);
  for (let id = 0; id < 40; id++) ops.alloc(0, id, 16 + id * 300);
  for (let id = 0; id < 40; id += 3) ops.free(0, id);
  ops.realloc(0, 1, 70_000);
  ops.free(0, 999); // unknown id: a failed op, counted, not thrown
  ops.mark(0);
  return ops;
}

let worker: NodeEngineWorker;
beforeAll(async () => { worker = await startNodeWorker(); });
afterAll(async () => { await worker?.terminate(); });

describe('EngineService in this thread and in a worker thread', () => {
  const apis = (): [string, EngineService | NodeEngineWorker['api']][] => [['local', new EngineService()], ['worker', worker.api]];

  it('engine-level calls give identical batch results and samples', async () => {
    const results = [];
    for (const [, api] of apis()) {
      const e = await api.createEngine({ arch: 'x64' });
      expect(await api.createHeap(e, 'first-fit', { params: { decommitBlockBytes: '4K' } })).toBe(0);
      expect(await api.label(e, 'after-churn')).toBe(0);
      const batch = await api.apply(e, someOps());
      const end = await api.sample(e, 'end');
      results.push({ batch, end, events: await api.events(e), check: await api.check(e) });
      await api.disposeEngine(e);
    }
    const [local, remote] = results;
    expect(local!.batch.failedOps).toBe(1);
    expect(local!.batch.samples.map((s) => s.label)).toEqual(['after-churn']);
    expect(local!.check).toBe(0);
    expect(remote).toEqual(local);
  });

  it('a whole run gives the same document as runWorkload and streams its checkpoints', async () => {
    const request = { input: { workload: 'peak-hour', seed: 4 }, policy: 'first-fit', every: 100_000 };
    const direct = await runWorkload(makeWorkload('peak-hour', { seed: 4 }), { policy: 'first-fit', every: 100_000 });
    for (const [, api] of apis()) {
      const seen: Checkpoint[] = [];
      const doc = await api.run(request, proxy((cp: Checkpoint) => { seen.push(cp); }));
      expect(JSON.stringify(doc)).toBe(JSON.stringify(direct));
      // Checkpoint callbacks from the worker are messages; let the last ones arrive.
      await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((c) => c.label)).toEqual(direct.checkpoints.map((c) => c.label));
    }
  });

  it('op buffers are transferred to a worker, not copied', async () => {
    const e = await worker.api.createEngine();
    await worker.api.createHeap(e, 'first-fit');
    const ops = someOps();
    expect(ops.words.byteLength).toBeGreaterThan(0);
    const r = await worker.api.apply(e, ops);
    expect(r.failedOps).toBe(1);
    expect(ops.words.byteLength).toBe(0); // detached: its memory moved to the worker
    // In this thread nothing moves: the same call leaves the buffer usable.
    const local = new EngineService();
    const l = await local.createEngine();
    await local.createHeap(l, 'first-fit');
    const again = someOps();
    await local.apply(l, again);
    expect(again.words.byteLength).toBeGreaterThan(0);
  });

  it('user errors keep their class and one-line message across the thread boundary', async () => {
    const err = await worker.api.run({ input: { workload: 'nope' }, policy: 'first-fit' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^unknown workload 'nope'/);
    const bad = await worker.api.createHeap(12345, 'first-fit').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UsageError);
  });

  it('cancel() stops a run in a worker between batches', async () => {
    let checkpoints = 0;
    const running = worker.api.run(
      { runId: 'r1', input: { workload: 'peak-hour', seed: 1 }, policy: 'first-fit', every: 1000 },
      proxy(() => { checkpoints++; }),
    );
    while (checkpoints < 3) await new Promise((r) => setTimeout(r, 5));
    expect(await worker.api.cancel('r1')).toBe(true);
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('run cancelled');
    expect(checkpoints).toBeLessThan(650);
    expect(await worker.api.cancel('r1')).toBe(false);
  });
});
