// first-fit's property-test machinery: a talc-style action generator (alloc, free, realloc,
// aligned alloc, trim, applied to a live index modulo the live count), a reference model of what
// the program holds, and checks after every batch. (Every policy also runs the conformance suite,
// test/policies/kit/conformance.ts, with the invariants all policies share.)
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

export type Action =
  | { kind: 'alloc'; sizeBytes: number }
  | { kind: 'aligned'; sizeBytes: number; alignLog2: number }
  | { kind: 'free'; index: number }
  | { kind: 'realloc'; index: number; sizeBytes: number }
  | { kind: 'trim' }
  | { kind: 'batch' };

export function actionArb(maxSizeBytes: number): fc.Arbitrary<Action> {
  const size = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 256 }) },
    { weight: 3, arbitrary: fc.integer({ min: 257, max: 16384 }) },
    { weight: 1, arbitrary: fc.integer({ min: 16385, max: maxSizeBytes }) },
  );
  return fc.oneof(
    { weight: 10, arbitrary: size.map((sizeBytes) => ({ kind: 'alloc' as const, sizeBytes })) },
    { weight: 1, arbitrary: fc.record({ sizeBytes: size, alignLog2: fc.integer({ min: 5, max: 12 }) }).map((r) => ({ kind: 'aligned' as const, ...r })) },
    { weight: 8, arbitrary: fc.nat().map((index) => ({ kind: 'free' as const, index })) },
    { weight: 3, arbitrary: fc.record({ index: fc.nat(), sizeBytes: size }).map((r) => ({ kind: 'realloc' as const, ...r })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'trim' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'batch' as const }) },
  );
}

interface LiveBlock { id: number; sizeBytes: number; alignBytes: number }

/** Applies actions in batches (a 'batch' action ends one) and checks invariants after each batch. */
export function runActions(engine: Engine, heap: number, actions: Action[]): void {
  const live: LiveBlock[] = [];
  const freeIds: number[] = [];
  let nextId = 0;
  let ops = new OpBuffer(actions.length + 1);
  const flush = () => {
    const r = engine.apply(ops);
    expect(r.failedOps, `batch failure ${JSON.stringify(r.firstFailure)}`).toBe(0);
    checkInvariants(engine, heap, live);
    ops = new OpBuffer(actions.length + 1);
  };
  for (const a of actions) {
    switch (a.kind) {
      case 'alloc':
      case 'aligned': {
        const id = freeIds.length ? freeIds.pop()! : nextId++;
        if (a.kind === 'alloc') ops.alloc(heap, id, a.sizeBytes);
        else ops.alignedAlloc(heap, id, a.sizeBytes, 2 ** a.alignLog2);
        live.push({ id, sizeBytes: a.sizeBytes, alignBytes: a.kind === 'aligned' ? 2 ** a.alignLog2 : 16 });
        break;
      }
      case 'free': {
        if (!live.length) break;
        const k = a.index % live.length;
        const b = live[k]!;
        live[k] = live[live.length - 1]!;
        live.pop();
        ops.free(heap, b.id);
        freeIds.push(b.id);
        break;
      }
      case 'realloc': {
        if (!live.length) break;
        const b = live[a.index % live.length]!;
        ops.realloc(heap, b.id, a.sizeBytes);
        b.sizeBytes = a.sizeBytes;
        break;
      }
      case 'trim': ops.trim(heap, 0); break;
      case 'batch': flush(); break;
    }
  }
  flush();
}

const PAGE = 4096;

export function checkInvariants(engine: Engine, heap: number, live: LiveBlock[]): void {
  expect(engine.check(), 'engine invariant number').toBe(0);
  const sample = engine.sample();
  const h = sample.heaps.find((x) => x.heap === heap)!;
  expect(h.liveBlocks).toBe(live.length);
  expect(h.requestedBytes).toBe(live.reduce((s, b) => s + b.sizeBytes, 0));
  // No two live blocks overlap; each is aligned and lies in committed pages.
  const spans = live.map((b) => {
    const { address, requestedBytes } = engine.blockOf(b.id);
    expect(address, `id ${b.id} live`).toBeGreaterThan(0);
    expect(requestedBytes).toBe(b.sizeBytes);
    expect(address % b.alignBytes, `alignment of id ${b.id}`).toBe(0);
    const end = address + Math.max(1, b.sizeBytes);
    for (let p = Math.floor(address / PAGE) * PAGE; p < end; p += PAGE) {
      expect(engine.vm.isCommitted(p), `page ${p.toString(16)} of id ${b.id} committed`).toBe(true);
    }
    return [address, end] as const;
  }).sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  // Committed bytes cover what the program holds.
  expect(h.committedBytes).toBeGreaterThanOrEqual(h.busyBytes);
}
