// Traces as run inputs of the engine service: by path (Node) and as a Blob read in chunks (what a
// dropped File is in the browser), gzip or not, in this thread and in a worker: all give the
// document runWorkload gives for the same trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EngineService } from '../../../src/worker/service.js';
import { startNodeWorker, type NodeEngineWorker } from '../../../src/worker/node.js';
import { runWorkload } from '../../../src/run/run.js';
import { traceWorkload } from '../../../src/trace/workload.js';
import { syntheticMtrace } from '../../../src/trace/synthetic.js';
import { InputError } from '../../../src/errors.js';

let dir = '';
let plain = '';
let gz = '';
let worker: NodeEngineWorker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'heapsim-trace-input-'));
  const text = syntheticMtrace({ events: 30_000, liveTarget: 2000, seed: 9 });
  plain = join(dir, 't.mtrace');
  gz = join(dir, 't.mtrace.gz');
  writeFileSync(plain, text);
  writeFileSync(gz, gzipSync(text));
  worker = await startNodeWorker();
});

afterAll(async () => {
  await worker?.terminate();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('trace inputs', () => {
  it('path and Blob, plain and gzip, here and in a worker: the same document as runWorkload', async () => {
    const options = { policy: 'first-fit', every: 5000 };
    const expected = await runWorkload(await traceWorkload(plain), options);
    expect(expected.events).toBe(30_000);
    const local = new EngineService();
    const name = plain;
    const docs = [
      await local.run({ input: { trace: plain }, ...options }),
      await local.run({ input: { trace: gz, name }, ...options }),
      await local.run({ input: { trace: new Blob([readFileSync(plain)]), name }, ...options }),
      await local.run({ input: { trace: new Blob([readFileSync(gz)]), name }, ...options }),
      await worker.api.run({ input: { trace: plain }, ...options }),
      await worker.api.run({ input: { trace: new Blob([readFileSync(gz)]), name }, ...options }),
    ];
    for (const doc of docs) expect(JSON.stringify(doc)).toBe(JSON.stringify(expected));
  });

  it('reports trace progress in bytes as well as events', async () => {
    const seen: [number, number | undefined, number | undefined][] = [];
    await new EngineService().run({ input: { trace: new Blob([readFileSync(plain)]), name: 'x' }, policy: 'first-fit' },
      undefined, (events, read, total) => { seen.push([events, read, total]); });
    expect(seen.length).toBeGreaterThan(0);
    const last = seen[seen.length - 1]!;
    expect(last[0]).toBe(30_000);
    expect(last[2]).toBe(readFileSync(plain).length);
  });

  it('bad traces are one-line InputErrors naming the input, across the worker boundary too', async () => {
    const junk = new Blob(['this is not a trace\nnor is this\n']);
    const local = await new EngineService().run({ input: { trace: junk, name: 'junk.txt' }, policy: 'first-fit' }).catch((e: unknown) => e);
    expect(local).toBeInstanceOf(InputError);
    expect((local as InputError).describe()).toMatch(/^junk\.txt: cannot tell the trace format/);
    const brokenGzip = new Blob([readFileSync(gz).subarray(0, 2000)]);
    const remote = await worker.api.run({ input: { trace: brokenGzip, name: 'cut.gz' }, policy: 'first-fit' }).catch((e: unknown) => e);
    expect(remote).toBeInstanceOf(InputError);
    expect((remote as InputError).describe()).toMatch(/^cut\.gz/);
    expect((remote as Error).message).not.toContain('\n');
  });
});
