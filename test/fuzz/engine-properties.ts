// Fuzz properties of the embedding API: op buffers of any content applied to an engine, and
// requests to the engine service (what the worker receives as messages). The engine never traps
// and never corrupts its state on a bad op (every bad op is a counted failure and check() stays
// 0); the service answers every request with a document or a one-line error of a known kind.
import fc from 'fast-check';
import { expect } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { OpBuffer } from '../../src/engine/ops.js';
import { Op, OP_WORDS } from '../../src/engine/abi.js';
import { EngineStatusError, InputError } from '../../src/errors.js';
import { policySpecs } from '../../src/policies/registry.js';
import { EngineService } from '../../src/worker/service.js';
import { scratchFile, type FuzzProperty } from './properties.js';

const U64_EDGES = [0n, 1n, 16n, 4096n, 65536n, (1n << 32n) - 1n, 1n << 32n, 1n << 40n, 1n << 47n, (1n << 53n) + 1n, (1n << 63n), (1n << 64n) - 1n];
const size64 = fc.oneof(fc.bigInt({ min: 0n, max: 1n << 20n }), fc.constantFrom(...U64_EDGES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const OPCODES = Object.values(Op) as number[];

/** One op record: mostly meaningful opcodes, heaps and ids, sometimes anything at all. */
const opArb = fc.record({
  opcode: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...OPCODES) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  heap: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  arg: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
  id: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }) }, { weight: 1, arbitrary: fc.constantFrom(4095, 4096, 2 ** 27 - 1, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1) }),
  size: size64,
});
type RawOp = { opcode: number; heap: number; arg: number; id: number; size: bigint };

interface OpsCase {
  arch: 'x86' | 'x64';
  sampleEvery: number;
  heaps: Array<{ policy: number; parent: number }>;
  batches: RawOp[][];
}

const opsCaseArb: fc.Arbitrary<OpsCase> = fc.record({
  arch: fc.constantFrom('x86' as const, 'x64' as const),
  sampleEvery: fc.constantFrom(0, 1, 7, 1000),
  heaps: fc.array(fc.record({ policy: fc.nat(), parent: fc.integer({ min: -1, max: 2 }) }), { minLength: 1, maxLength: 3 }),
  batches: fc.array(fc.array(opArb, { maxLength: 40 }), { minLength: 1, maxLength: 4 }),
});

/** Writes raw records (any opcode, heap, arg, id, 64-bit size) into an OpBuffer. */
function rawBuffer(ops: RawOp[]): OpBuffer {
  const b = new OpBuffer(Math.max(1, ops.length));
  ops.forEach((o, i) => {
    const w = i * OP_WORDS;
    b.words[w] = (o.opcode & 0xff) | ((o.heap & 0xff) << 8) | ((o.arg & 0xffff) << 16);
    b.words[w + 1] = o.id >>> 0;
    b.words[w + 2] = Number(o.size & 0xffffffffn);
    b.words[w + 3] = Number(o.size >> 32n);
  });
  b.length = ops.length;
  return b;
}

/** Periodic samples a batch may ask for: a SKIP of 2^64 events must not take 2^64 samples. */
const MAX_SAMPLES_PER_BATCH = 8192; // assembly/engine.ts

const ops: FuzzProperty<OpsCase> = {
  name: 'op buffers × engine API',
  arbitrary: opsCaseArb,
  ciRuns: 80,
  async check(c) {
    const engine = await createEngine({ arch: c.arch, sampleEvery: c.sampleEvery });
    const specs = policySpecs();
    c.heaps.forEach((h, i) => {
      const spec = specs[h.policy % specs.length]!;
      try {
        engine.createHeap(spec.name, h.parent >= 0 && h.parent < i ? { parent: h.parent } : {}, i);
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(EngineStatusError); // e.g. a policy that cannot be stacked
      }
    });
    for (const batch of c.batches) {
      // Opcode 255 traps on purpose in debug builds only; the release engine answers BAD_OPCODE.
      const r = engine.apply(rawBuffer(batch));
      expect(r.failedOps).toBeGreaterThanOrEqual(0);
      expect(r.samples.length).toBeLessThanOrEqual(MAX_SAMPLES_PER_BATCH);
      expect(engine.check(), 'invariants after a batch').toBe(0);
    }
    const s = engine.sample();
    for (const h of s.heaps) {
      for (const v of [h.committedBytes, h.reservedBytes, h.requestedBytes, h.liveBlocks]) expect(Number.isFinite(v) && v >= 0).toBe(true);
    }
  },
};

// ---------------------------------------------------------------- the engine service

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, 0, -1, 1e300, NaN, '', 'peak-hour', 'first-fit', 'x64', 'constructor', '__proto__', true, [], {}),
  fc.string({ maxLength: 8 }), fc.integer(),
);

const requestArb = fc.record({
  input: fc.oneof(
    fc.record({ workload: fc.oneof(fc.constantFrom('peak-hour-nope', 'constructor', '__proto__'), anyValue), seed: anyValue }),
    fc.record({ trace: fc.oneof(fc.constantFrom('$TRACE', '$BAD', '/dev/null', 'missing.hst'), anyValue), format: anyValue, lenient: anyValue }),
    anyValue,
  ),
  policy: fc.oneof(fc.constantFrom('first-fit', 'nt', 'pool', 'constructor'), anyValue),
  arch: fc.oneof(fc.constantFrom('x86', 'x64'), anyValue),
  params: fc.oneof(fc.constant({}), fc.dictionary(fc.constantFrom('decommitBlockBytes', 'chunkBytes', '__proto__', 'constructor', 'x'), anyValue)),
  every: anyValue,
});

const service: FuzzProperty<Record<string, unknown>> = {
  name: 'requests × engine service (worker messages)',
  arbitrary: requestArb as fc.Arbitrary<Record<string, unknown>>,
  ciRuns: 100,
  async check(req) {
    const svc = new EngineService();
    const fix = (v: unknown): unknown => v === '$TRACE' ? scratchFile('svc.txt', '#heapsim-trace 1\na 0 16\nmark m\nf 0\n')
      : v === '$BAD' ? scratchFile('svc-bad.txt', '#heapsim-trace 1\nbogus\n') : v;
    const input = req.input !== null && typeof req.input === 'object' && 'trace' in (req.input as object)
      ? { ...(req.input as object), trace: fix((req.input as { trace: unknown }).trace) } : req.input;
    const started = performance.now();
    try {
      const doc = await svc.run({ ...req, input } as never);
      expect(typeof doc.events).toBe('number');
    } catch (err) {
      const known = err instanceof InputError || err instanceof EngineStatusError;
      expect(known, `${(err as Error)?.name}: ${(err as Error)?.message}`).toBe(true);
      expect((err as Error).message).not.toMatch(/\n/);
    }
    expect(performance.now() - started).toBeLessThan(20_000);
  },
};

export const ENGINE_PROPERTIES: FuzzProperty<never>[] = [ops, service] as unknown as FuzzProperty<never>[];
