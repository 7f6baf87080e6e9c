// Engine memories reused across runs (src/engine/memory-pool.ts): a run on a memory released by an
// earlier run, of any policy, gives the document of a run on a new memory, byte for byte.
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { peakHour } from '../../../src/workload/peak-hour.js';
import { runWorkload, type RunOptions } from '../../../src/run/run.js';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { Op } from '../../../src/engine/abi.js';
import { policyNames } from '../../../src/policies/registry.js';
import { EngineTrapError } from '../../../src/errors.js';
import {
  ENGINE_INITIAL_PAGES, ENGINE_MAXIMUM_PAGES, STATIC_PART_BYTES, dropPooledEngineMemories, pooledEngineMemories,
  releaseEngineMemory, takeEngineMemory,
} from '../../../src/engine/memory-pool.js';

const small = { baseLiveBlocks: 400, peakLiveBlocks: 3000, phaseEvents: [4000, 2000, 4000, 2000, 4000] as [number, number, number, number, number] };
const EVERY_EVENTS = 2500;
const GARBAGE_BYTE = 0xa5;

/** The kept memory with garbage above its static part: code that reads memory it never wrote shows. */
function poisonKeptMemory(): void {
  expect(pooledEngineMemories()).toBe(1);
  const m = takeEngineMemory();
  new Uint8Array(m.buffer).fill(GARBAGE_BYTE, STATIC_PART_BYTES);
  releaseEngineMemory(m);
}

const run = async (policy: string, seed: number, extra: Partial<RunOptions> = {}): Promise<string> =>
  JSON.stringify(await runWorkload(peakHour({ seed, ...small }), { policy, every: EVERY_EVENTS, ...extra }));

it('the pooled memory limits are the module\'s (asconfig.json)', () => {
  const options = JSON.parse(readFileSync(new URL('../../../asconfig.json', import.meta.url), 'utf8')).options;
  expect(options.importMemory).toBe(true);
  expect(ENGINE_INITIAL_PAGES).toBe(options.initialMemory);
  expect(ENGINE_MAXIMUM_PAGES).toBe(options.maximumMemory);
});

it('every policy gives the same document on a reused memory as on a new one, after any other run', async () => {
  const policies = policyNames();
  const fresh = new Map<string, string>();
  for (const [i, p] of policies.entries()) {
    dropPooledEngineMemories();
    fresh.set(p, await run(p, i));
  }
  // Forward then backward: each run takes the memory the previous (other) policy left dirty.
  dropPooledEngineMemories();
  const bigger = { ...small, peakLiveBlocks: 12000 };
  await runWorkload(peakHour({ seed: 99, ...bigger }), { policy: 'pool' }); // a larger memory to start from
  for (const [i, p] of [...policies, ...[...policies].reverse()].entries()) {
    if (i % 2 === 0) poisonKeptMemory(); // every other run on garbage, the rest on what the last run left
    expect(await run(p, policies.indexOf(p)), p).toBe(fresh.get(p));
  }
}, 60_000);

it('runs with a side engine (a trim at a mark) and debug builds reuse memories alike', async () => {
  dropPooledEngineMemories();
  const trim: Partial<RunOptions> = { trimAt: [{ at: 'peak', mark: 'peak', padBytes: 0 }] };
  const freshTrim = await run('first-fit', 5, trim);
  dropPooledEngineMemories();
  const freshDebug = await run('nt', 6, { build: 'debug' });
  dropPooledEngineMemories();
  await run('ptmalloc', 7);
  poisonKeptMemory();
  expect(await run('first-fit', 5, trim)).toBe(freshTrim);
  expect(pooledEngineMemories()).toBe(2);
  const other = takeEngineMemory(); // two kept: poison both
  poisonKeptMemory();
  new Uint8Array(other.buffer).fill(GARBAGE_BYTE, STATIC_PART_BYTES);
  releaseEngineMemory(other);
  expect(await run('nt', 6, { build: 'debug' })).toBe(freshDebug);
  expect(await run('first-fit', 5, trim)).toBe(freshTrim);
}, 60_000);

it('a reused memory is handed out with its static part zeroed (the instance then writes its data)', async () => {
  dropPooledEngineMemories();
  await run('nt', 3);
  expect(pooledEngineMemories()).toBe(1);
  const kept = takeEngineMemory();
  expect(pooledEngineMemories()).toBe(0);
  const bytes = new Uint8Array(kept.buffer);
  expect(bytes.length).toBeGreaterThan(STATIC_PART_BYTES); // the run grew it: this is the kept memory
  expect(bytes.subarray(0, STATIC_PART_BYTES).every((b) => b === 0)).toBe(true);
});

it('a released engine refuses calls; a trapped one gives no memory back', async () => {
  dropPooledEngineMemories();
  const e = await createEngine();
  const h = e.createHeap('pool');
  e.release();
  e.release();
  expect(pooledEngineMemories()).toBe(1);
  expect(() => e.sample()).toThrow(/released/);
  const ops = new OpBuffer(1);
  ops.alloc(h, 1, 64);
  expect(() => e.apply(ops)).toThrow(/released/);

  dropPooledEngineMemories();
  const t = await createEngine({ build: 'debug' });
  t.createHeap('first-fit');
  const bad = new OpBuffer(1);
  bad.push(Op.DEBUG_TRAP, 0, 0, 0, 0);
  expect(() => t.apply(bad)).toThrow(EngineTrapError);
  t.release();
  expect(pooledEngineMemories()).toBe(0);
});
