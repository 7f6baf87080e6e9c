// Property tests: random alloc/free/realloc sequences on a pool on the VM and on a pool over
// first-fit. After every batch the engine's invariants hold (engine.check() == 0) and every counter
// equals the TypeScript reference model's (test/policies/pool-model.ts); object addresses agree
// with the model's chunk and slot of each object (so LIFO reuse and carving order are checked).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine, type Engine, type HeapSample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { PoolModel, DEFAULT_POOL, type PoolConfig } from './pool-model.js';

const SEED = 0x5eed_9001;
const RUNS = 40;
const ID_SPACE = 96;          // ids 0..95 on the pool, 1000.. on the parent
const PARENT_ID_BASE = 1000;
const BATCH_OPS = 40;

type Step =
  | { op: 'alloc'; id: number; size: number; alignLog2: number }
  | { op: 'free'; id: number }
  | { op: 'realloc'; id: number; size: number }
  | { op: 'parentAlloc'; id: number; size: number }
  | { op: 'parentFree'; id: number }
  | { op: 'trim' };

// Mostly small objects (every class), some pass-through sizes, a few page-crossing ones.
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 301, max: 4096 }) },
  { weight: 2, arbitrary: fc.integer({ min: 4097, max: 70_000 }) },
);
const alignArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constantFrom(3, 4, 6, 12, 17) },
);
const idArb = fc.integer({ min: 0, max: ID_SPACE - 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('alloc' as const), id: idArb, size: sizeArb, alignLog2: alignArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('free' as const), id: idArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('realloc' as const), id: idArb, size: sizeArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('parentAlloc' as const), id: fc.integer({ min: 0, max: 7 }), size: sizeArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('parentFree' as const), id: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'trim' as const }) },
);
const configArb = fc.record({
  minShift: fc.integer({ min: 3, max: 5 }),
  classes: fc.integer({ min: 1, max: 9 }),
  chunkMultiple: fc.constantFrom(1, 2, 4, 16),
  releaseEmptyChunks: fc.boolean(),
});

interface Setup { e: Engine; pool: number; parent: number; model: PoolModel }

async function setUp(cfg: PoolConfig): Promise<Setup> {
  const e = await createEngine({ build: 'debug', arch: 'x64' });
  const parent = cfg.stacked ? e.createHeap('first-fit') : -1;
  const pool = e.createHeap('pool', {
    parent: cfg.stacked ? parent : undefined,
    params: {
      minObjectBytes: cfg.minObjectBytes, maxObjectBytes: cfg.maxObjectBytes, chunkBytes: cfg.chunkBytes,
      releaseEmptyChunks: cfg.releaseEmptyChunks ? 1 : 0,
    },
  });
  return { e, pool, parent, model: new PoolModel(cfg) };
}

function toConfig(c: { minShift: number; classes: number; chunkMultiple: number; releaseEmptyChunks: boolean }, stacked: boolean): PoolConfig {
  const minObjectBytes = 2 ** c.minShift;
  const maxObjectBytes = minObjectBytes * 2 ** (c.classes - 1);
  const chunkBytes = Math.max(4096, maxObjectBytes) * c.chunkMultiple;
  return { minObjectBytes, maxObjectBytes, chunkBytes, releaseEmptyChunks: c.releaseEmptyChunks, stacked };
}

function expectPoolMatches(s: HeapSample, m: PoolModel, where: string): void {
  const c = s.policyCounters;
  const want = {
    chunks: m.chunks.size, chunkBytes: m.chunkBytes, objectBusyBytes: m.objectBusyBytes, busyObjects: m.busyObjects,
    freeObjectBytes: m.freeObjectBytes, freeObjects: m.freeObjects, uncarvedBytes: m.uncarvedBytes,
    peakChunks: m.peakChunks, releasedChunks: m.released, reusedObjects: m.reused, carvedObjects: m.carvedTotal,
    ignoredTrims: m.trims,
    busyBytes: m.objectBusyBytes + m.passBytes, freeBytes: m.freeObjectBytes + m.uncarvedBytes,
    freeBlocks: m.freeObjects + m.tails, segments: m.chunks.size, virtualBlocks: m.passBlocks,
    virtualBytes: m.passBytes, committedBytes: m.heldBytes,
    reservedBytes: m.cfg.stacked ? m.heldBytes : m.chunkBytes + m.passReserved,
    requestedBytes: m.requested, liveBlocks: m.live.size, allocs: m.allocs, frees: m.frees,
    peakRequestedBytes: m.peakRequested, uncommittedRanges: 0,
  };
  const got = {
    chunks: c['chunks'], chunkBytes: c['chunkBytes'], objectBusyBytes: c['objectBusyBytes'], busyObjects: c['busyObjects'],
    freeObjectBytes: c['freeObjectBytes'], freeObjects: c['freeObjects'], uncarvedBytes: c['uncarvedBytes'],
    peakChunks: c['peakChunks'], releasedChunks: c['releasedChunks'], reusedObjects: c['reusedObjects'],
    carvedObjects: c['carvedObjects'], ignoredTrims: c['ignoredTrims'],
    busyBytes: s.busyBytes, freeBytes: s.freeBytes, freeBlocks: s.freeBlocks, segments: s.segments,
    virtualBlocks: s.virtualBlocks, virtualBytes: s.virtualBytes, committedBytes: s.committedBytes,
    reservedBytes: s.reservedBytes, requestedBytes: s.requestedBytes, liveBlocks: s.liveBlocks, allocs: s.allocs,
    frees: s.frees, peakRequestedBytes: s.peakRequestedBytes, uncommittedRanges: s.uncommittedRanges,
  };
  expect(got, where).toEqual(want);
}

// Every live object's address = its chunk's base + slot × class bytes, one base per model chunk.
function expectAddressesMatch(e: Engine, m: PoolModel, where: string): void {
  const bases = new Map<number, number>();
  for (const [id, b] of m.live) {
    const a = e.blockOf(id).address;
    expect(a, where).toBeGreaterThan(0);
    if (b.kind === 'pass') {
      expect(a % 2 ** b.alignLog2, where).toBe(0);
      continue;
    }
    expect(a % 8, where).toBe(0);
    const base = a - b.slot * m.classBytes(b.cls);
    const known = bases.get(b.chunk.seq);
    if (known === undefined) bases.set(b.chunk.seq, base);
    else expect(base, `${where}: id ${id} in chunk ${b.chunk.seq}`).toBe(known);
  }
}

async function check(stacked: boolean, cfgIn: Parameters<typeof toConfig>[0], steps: Step[]): Promise<void> {
  const cfg = toConfig(cfgIn, stacked);
  const { e, pool, parent, model } = await setUp(cfg);
  const direct = new Map<number, number>(); // parent ids → bytes (the program's own parent blocks)
  let parentPeak = 0;
  const parentRequested = (): number => [...direct.values()].reduce((t, v) => t + v, 0) + model.heldBytes;
  const ops = new OpBuffer(BATCH_OPS);
  for (let i = 0; i < steps.length; i += BATCH_OPS) {
    ops.clear();
    for (const st of steps.slice(i, i + BATCH_OPS)) {
      switch (st.op) {
        case 'alloc':
          if (model.live.has(st.id)) continue;
          if (st.alignLog2) ops.alignedAlloc(pool, st.id, st.size, 2 ** st.alignLog2);
          else ops.alloc(pool, st.id, st.size);
          model.alloc(st.id, st.size, st.alignLog2);
          break;
        case 'free':
          if (!model.live.has(st.id)) continue;
          ops.free(pool, st.id);
          model.free(st.id);
          break;
        case 'realloc':
          if (!model.live.has(st.id)) continue;
          ops.realloc(pool, st.id, st.size);
          model.realloc(st.id, st.size);
          break;
        case 'parentAlloc':
          if (!stacked || direct.has(st.id)) continue;
          ops.alloc(parent, PARENT_ID_BASE + st.id, st.size);
          direct.set(st.id, st.size);
          break;
        case 'parentFree':
          if (!stacked || !direct.has(st.id)) continue;
          ops.free(parent, PARENT_ID_BASE + st.id);
          direct.delete(st.id);
          break;
        case 'trim':
          ops.trim(pool);
          model.trims++;
          break;
      }
      if (st.op !== 'free' && st.op !== 'parentFree' && st.op !== 'trim') parentPeak = Math.max(parentPeak, parentRequested());
    }
    const r = e.apply(ops);
    const where = `batch ${i / BATCH_OPS}`;
    expect(r.failedOps, `${where} ${JSON.stringify(r.firstFailure)}`).toBe(0);
    expect(e.check(), where).toBe(0);
    const s = e.sample();
    const ps = s.heaps.find((x) => x.heap === pool)!;
    expectPoolMatches(ps, model, where);
    expectAddressesMatch(e, model, where);
    if (stacked) {
      const f = s.heaps.find((x) => x.heap === parent)!;
      expect(f.requestedBytes, where).toBe(parentRequested());
      expect(f.liveBlocks, where).toBe(direct.size + model.chunks.size + model.passBlocks);
      expect(f.peakRequestedBytes, where).toBe(parentPeak);
      expect(f.busyBytes, where).toBeGreaterThanOrEqual(ps.committedBytes);
      expect(f.committedBytes, where).toBeGreaterThanOrEqual(f.busyBytes);
      expect(s.vm.committedBytes, where).toBe(f.committedBytes);
    } else {
      expect(s.vm.committedBytes, where).toBe(ps.committedBytes);
    }
  }
}

describe('pool: property tests against the reference model', () => {
  it('pool on the VM', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(stepArb, { minLength: 50, maxLength: 400, size: 'max' }), (cfg, steps) => check(false, cfg, steps)),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('pool over first-fit', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(stepArb, { minLength: 50, maxLength: 400, size: 'max' }), (cfg, steps) => check(true, cfg, steps)),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  it('pool with default parameters, long sequences, both placements', async () => {
    const defaults = { minShift: Math.log2(DEFAULT_POOL.minObjectBytes), classes: 9, chunkMultiple: 16, releaseEmptyChunks: false };
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(stepArb, { minLength: 500, maxLength: 1500, size: 'max' }), (stacked, steps) => check(stacked, defaults, steps)),
      { seed: SEED + 2, numRuns: 12 },
    );
  });
});
