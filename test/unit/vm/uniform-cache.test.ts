// The page table's leaf cache holds uniform slots too (pagetable.ts: a 2 MiB span whose pages all
// share a state is cached as that state's filled leaf). ptApply must drop such an entry before it
// changes a page of the span, or a later query answers from the old state. Random commits,
// decommits, touches and purges of whole spans and of single pages in them, on the x64 (sparse)
// table, with every page's state asked between the changes (which fills the cache) and compared
// with a plain array of states; release and debug builds (debug also checks each cached answer
// against a walk of the table).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine } from '../../../src/engine/engine.js';

const PAGE = 4096;
/** Pages in one leaf's span (pagetable.ts LEAF_BITS = 9): 2 MiB. */
const SPAN_PAGES = 512;
const SPANS = 4;
const BASE = 2 ** 40;   // a span boundary
const C = 1, R = 2;

type Op = { kind: 'commit' | 'decommit' | 'touch' | 'purge'; from: number; pages: number };

const rangeArb: fc.Arbitrary<{ from: number; pages: number }> = fc.oneof(
  // whole spans (uniform slots are made and changed whole)
  fc.record({ span: fc.integer({ min: 0, max: SPANS - 1 }), n: fc.integer({ min: 1, max: 2 }) })
    .map(({ span, n }) => ({ from: span * SPAN_PAGES, pages: Math.min(n, SPANS - span) * SPAN_PAGES })),
  // a page or a few inside or across spans (a uniform slot split)
  fc.record({ from: fc.integer({ min: 0, max: SPANS * SPAN_PAGES - 1 }), len: fc.integer({ min: 1, max: 3 }) })
    .map(({ from, len }) => ({ from, pages: Math.min(len, SPANS * SPAN_PAGES - from) })),
);
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('commit' as const, 'decommit' as const, 'touch' as const, 'purge' as const),
  range: rangeArb,
}).map(({ kind, range }) => ({ kind, ...range }));

describe.each(['release', 'debug'] as const)('page table cache of uniform spans (%s)', (build) => {
  it('answers every page as a plain array of states does after random changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), fc.array(fc.integer({ min: 0, max: SPANS * SPAN_PAGES - 1 }), { minLength: 8, maxLength: 8 }), async (ops, probes) => {
        const e = await createEngine({ arch: 'x64', build });
        const { base } = e.vm.reserve(SPANS * SPAN_PAGES * PAGE, { at: BASE });
        expect(base).toBe(BASE);
        const model = new Uint8Array(SPANS * SPAN_PAGES);
        const ask = (pages: number[]): void => {
          for (const p of pages) {
            const s = model[p]!;
            expect([e.vm.isCommitted(base + p * PAGE), e.vm.isResident(base + p * PAGE)], `page ${p}`).toEqual([(s & C) !== 0, (s & R) !== 0]);
          }
        };
        for (const op of ops) {
          // Ask first: the spans' states (uniform ones included) go into the cache.
          ask([op.from, op.from + op.pages - 1, ...probes]);
          const at = base + op.from * PAGE, bytes = op.pages * PAGE;
          const range = model.subarray(op.from, op.from + op.pages);
          if (op.kind === 'commit') { expect(e.vm.commit(at, bytes).ok).toBe(true); range.forEach((s, i) => { range[i] = s | C; }); }
          if (op.kind === 'decommit') { expect(e.vm.decommit(at, bytes).ok).toBe(true); range.fill(0); }
          if (op.kind === 'purge') { e.vm.purge(at, bytes); range.forEach((s, i) => { range[i] = s & ~R; }); }
          if (op.kind === 'touch') {
            const all = range.every((s) => s & C);
            expect(e.vm.touch(at, bytes).ok).toBe(all);
            if (all) range.fill(C | R);
          }
          ask([op.from, op.from + op.pages - 1, Math.max(0, op.from - 1), Math.min(model.length - 1, op.from + op.pages), ...probes]);
        }
        const every: number[] = [];
        for (let p = 0; p < model.length; p += 61) every.push(p);
        ask(every);
        expect(e.check()).toBe(0);
      }),
      { seed: 0x0c0ffee, numRuns: 40 },
    );
  });
});
