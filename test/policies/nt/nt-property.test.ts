// Property tests of the nt policy: random op sequences run on the engine (debug build) and on the
// naive reference model of nt-model.ts. After every batch: every invariant holds (engine.check()
// is 0), the heap's records and large blocks are identical to the model's, every counter equals
// the model's recount, no two live blocks overlap and every user address is aligned.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { ntWalk } from '../../../src/policies/nt/view.js';
import { NtModel, defaultModelParams, type ModelParams } from './nt-model.js';

type Cmd =
  | { op: 'alloc'; size: number; alignLog2: number }
  | { op: 'free'; pick: number }
  | { op: 'realloc'; pick: number; size: number }
  | { op: 'trim'; pad: number };

// Popular sizes make the LFH switch buckets on (17 outstanding back-end allocations of one size).
function makeCmdArb(popular: number[], allocWeight: number, freeWeight: number): fc.Arbitrary<Cmd> {
  const sizeArb = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...popular) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
    { weight: 4, arbitrary: fc.integer({ min: 301, max: 6000 }) },
    { weight: 2, arbitrary: fc.integer({ min: 6001, max: 70000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 70001, max: 1_200_000 }) },
  );
  return fc.oneof(
    { weight: allocWeight, arbitrary: fc.record({ op: fc.constant('alloc' as const), size: sizeArb, alignLog2: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 4, max: 12 }) }) }) },
    { weight: freeWeight, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('realloc' as const), pick: fc.nat(), size: sizeArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('trim' as const), pad: fc.constantFrom(0, 4096, 65536) }) },
  );
}
const cmdArb = makeCmdArb([24, 40, 100, 256, 1000, 3000, 9000], 8, 6);
const lfhCmdArb = makeCmdArb([40, 1000, 9000], 10, 4);

const paramsArb = fc.record({
  arch: fc.constantFrom('x86' as const, 'x64' as const),
  segmentReserveBytes: fc.constantFrom(65536, 131072, 1 << 20),
  segmentCommitBytes: fc.constantFrom(4096, 8192, 65536),
  segmentGrowthFactor: fc.constantFrom(1, 2, 3),
  segmentReserveMaxBytes: fc.constantFrom(0, 1 << 21),
  decommitFreeBlockThreshold: fc.constantFrom(0, 1024, 4096, 16384),
  decommitTotalFreeThreshold: fc.constantFrom(0, 16384, 65536),
  virtualMemoryThreshold: fc.constantFrom(16384, 65536, 0),
  lfh: fc.constantFrom(0, 1),
  noSerialize: fc.constantFrom(0, 0, 1),
  virtCorrection: fc.constantFrom(0, 1, 2),
  virtLargeUcrBytes: fc.constantFrom(4096, 65536),
});

async function run(raw: ModelParams, batches: Cmd[][]): Promise<void> {
  const p: ModelParams = { ...raw };
  if (!p.virtualMemoryThreshold) p.virtualMemoryThreshold = defaultModelParams(p.arch).virtualMemoryThreshold;
  if (p.segmentCommitBytes > p.segmentReserveBytes) p.segmentCommitBytes = p.segmentReserveBytes;
  const engine = await createEngine({ arch: p.arch, build: 'debug' });
  const { arch: _arch, ...params } = p;
  const h = engine.createHeap('nt', { params: { ...params, lfhRandomChunks: 1 } });
  const model = new NtModel(p);
  const live: number[] = [];
  const sizes = new Map<number, number>();
  const aligns = new Map<number, number>();
  let nextId = 1;
  compare(engine, h, model, sizes, aligns);
  for (const batch of batches) {
    const ops = new OpBuffer(batch.length + 1);
    let modelFailures = 0;
    for (const c of batch) {
      if (c.op === 'alloc') {
        const id = nextId++;
        if (c.alignLog2) ops.alignedAlloc(h, id, c.size, 2 ** c.alignLog2); else ops.alloc(h, id, c.size);
        if (model.alloc(id, c.size, c.alignLog2)) { live.push(id); sizes.set(id, c.size); aligns.set(id, c.alignLog2); } else modelFailures++;
      } else if (c.op === 'free') {
        if (!live.length) continue;
        const id = live.splice(c.pick % live.length, 1)[0]!;
        ops.free(h, id);
        model.free(id);
        sizes.delete(id);
      } else if (c.op === 'realloc') {
        if (!live.length) continue;
        const id = live[c.pick % live.length]!;
        ops.realloc(h, id, c.size);
        if (model.realloc(id, c.size)) sizes.set(id, c.size); else modelFailures++;
      } else {
        ops.trim(h, c.pad);
        model.trim(c.pad);
      }
    }
    const r = engine.apply(ops);
    expect(r.failedOps).toBe(modelFailures);
    compare(engine, h, model, sizes, aligns);
  }
  const c = model.counters();
  coverage.runs++;
  if (c.decommittedBytes) coverage.decommits++;
  if (c.frontEndHeapType) coverage.lfh++;
  if (model.buckets.some((b) => b.held > 0)) coverage.userBlocks++;
  if (c.segments > 1) coverage.segments++;
  if (c.virtualBlocks) coverage.large++;
}

const coverage = { runs: 0, decommits: 0, lfh: 0, userBlocks: 0, segments: 0, large: 0 };

function compare(engine: Engine, h: number, model: NtModel, sizes: Map<number, number>, aligns: Map<number, number>): void {
  expect(engine.check()).toBe(0);
  const walk = ntWalk(engine, h);
  const seg = walk.filter((r) => r.kind !== 'large' && r.kind !== 'chunk').map((r) => ({ address: r.address, bytes: r.bytes, kind: r.kind }));
  expect(seg).toEqual(model.records());
  const large = walk.filter((r) => r.kind === 'large').map((r) => ({ address: r.address, bytes: r.bytes })).sort((a, b) => a.address - b.address);
  expect(large).toEqual(model.largeBlocks());
  const s = engine.sample().heaps[0]!;
  const want = model.counters();
  const got: Record<string, number> = {
    ...s.policyCounters,
    uncommittedRanges: s.uncommittedRanges, busyBytes: s.busyBytes, freeBytes: s.freeBytes, freeBlocks: s.freeBlocks,
    segments: s.segments, virtualBlocks: s.virtualBlocks, virtualBytes: s.virtualBytes, liveBlocks: s.liveBlocks,
  };
  for (const [k, v] of Object.entries(want)) expect([k, got[k]]).toEqual([k, v]);
  // The engine's K_RESERVED/K_COMMITTED (VM per-owner counters) = segments + large blocks.
  expect(s.reservedBytes).toBe(want.segmentReservedBytes! + want.virtualBytes!);
  expect(s.committedBytes).toBe(want.segmentCommittedBytes! + want.virtualBytes!);
  // Live chunks lie inside user blocks, do not overlap, and their count adds up.
  const chunks = walk.filter((r) => r.kind === 'chunk').sort((a, b) => a.address - b.address);
  const userBlocks = walk.filter((r) => r.kind === 'userBlock');
  for (let i = 1; i < chunks.length; i++) expect(chunks[i - 1]!.address + chunks[i - 1]!.bytes).toBeLessThanOrEqual(chunks[i]!.address);
  for (const c of chunks) expect(userBlocks.some((u) => u.address <= c.address && c.address + c.bytes <= u.address + u.bytes)).toBe(true);
  expect(chunks.length + walk.filter((r) => r.kind === 'busy' || r.kind === 'large').length).toBe(sizes.size);
  // User addresses: aligned, and the requested bytes of live blocks never overlap.
  const G = engine.arch === 'x64' ? 16 : 8;
  const ranges: [number, number][] = [];
  for (const [id, size] of sizes) {
    const a = engine.blockOf(id).address;
    expect(a).toBeGreaterThan(0);
    expect(a % Math.max(G, 2 ** (aligns.get(id) ?? 0))).toBe(0);
    ranges.push([a, a + Math.max(size, 1)]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < ranges.length; i++) expect(ranges[i - 1]![1]).toBeLessThanOrEqual(ranges[i]![0]);
}

describe('nt policy against the reference model', () => {
  it('random op sequences: invariants, layout, counters, overlap, alignment', async () => {
    await fc.assert(
      fc.asyncProperty(paramsArb, fc.array(fc.array(cmdArb, { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 8 }),
        async (p, batches) => { await run(p as ModelParams, batches); }),
      { numRuns: 120 },
    );
  });

  it('long runs with the LFH on reach user-block retirement and many segments', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('x86' as const, 'x64' as const), fc.array(fc.array(lfhCmdArb, { minLength: 100, maxLength: 300 }), { minLength: 3, maxLength: 6 }),
        async (arch, batches) => {
          const p = { ...defaultModelParams(arch), segmentReserveBytes: 65536, segmentCommitBytes: 4096 };
          await run(p, batches);
        }),
      { numRuns: 25, endOnFailure: true },
    );
    // The generators must reach every mechanism in a fair share of runs.
    for (const k of ['decommits', 'lfh', 'userBlocks', 'segments', 'large'] as const) {
      expect([k, coverage[k] / coverage.runs > 0.1]).toEqual([k, true]);
    }
  });
});
