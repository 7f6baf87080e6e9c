// The page table against a model that knows only runs of equal pages (regression tests for the
// reliability report's failure 7: committing and touching 1 TiB grew engine memory by 256 MiB and
// took seconds per call). Random commits, decommits, touches and purges at every scale, from one
// page to a whole 1 TiB region, on x64 (the sparse table with uniform slots) and x86 (flat): every
// VM counter (committed, resident, their peaks, committed and uncommitted ranges, commit and
// decommit calls), every region's committed bytes and random pages' states equal the model's, the
// invariant check holds, and engine memory stays bounded by the boundaries, not the bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';

const PAGE = 4096;
const GiB = 2 ** 30;
const TiB = 2 ** 40;
const C = 1;
const R = 2;

/** A region's pages as runs: [startPage, endPage, state], sorted, covering the region exactly. */
type Run = [number, number, number];

class RegionModel {
  runs: Run[];
  constructor(readonly base: number, readonly pages: number) {
    this.runs = [[0, pages, 0]];
  }

  /** Applies f to pages [a, b); returns the old states' page counts. */
  apply(a: number, b: number, f: (s: number) => number): Map<number, number> {
    const old = new Map<number, number>();
    const out: Run[] = [];
    for (const [s, e, st] of this.runs) {
      if (e <= a || s >= b) { out.push([s, e, st]); continue; }
      if (s < a) out.push([s, a, st]);
      const lo = Math.max(s, a), hi = Math.min(e, b);
      old.set(st, (old.get(st) ?? 0) + hi - lo);
      out.push([lo, hi, f(st)]);
      if (e > b) out.push([b, e, st]);
    }
    // Merge neighbours with equal states.
    this.runs = [];
    for (const r of out) {
      const last = this.runs[this.runs.length - 1];
      if (last && last[2] === r[2] && last[1] === r[0]) last[1] = r[1];
      else this.runs.push(r);
    }
    return old;
  }

  count(pred: (s: number) => boolean): number {
    return this.runs.reduce((n, [s, e, st]) => n + (pred(st) ? e - s : 0), 0);
  }

  /** Maximal runs of committed and of uncommitted pages. */
  commitRuns(): { committed: number; uncommitted: number } {
    let committed = 0, uncommitted = 0, prev = -1;
    for (const [, , st] of this.runs) {
      const c = st & C;
      if (c !== prev) { if (c) committed++; else uncommitted++; }
      prev = c;
    }
    return { committed, uncommitted };
  }

  stateAt(page: number): number {
    return this.runs.find(([s, e]) => page >= s && page < e)![2];
  }
}

interface Model {
  regions: RegionModel[];
  committedPeak: number;
  residentPeak: number;
  commitCalls: number;
  decommitCalls: number;
}

function totals(m: Model): { committed: number; resident: number } {
  let committed = 0, resident = 0;
  for (const r of m.regions) {
    committed += r.count((s) => (s & C) !== 0) * PAGE;
    resident += r.count((s) => (s & R) !== 0) * PAGE;
  }
  return { committed, resident };
}

function notePeaks(m: Model): void {
  const t = totals(m);
  m.committedPeak = Math.max(m.committedPeak, t.committed);
  m.residentPeak = Math.max(m.residentPeak, t.resident);
}

type Step = { region: number; op: 'commit' | 'decommit' | 'touch' | 'purge'; scale: number; at: number; len: number };

/** Page counts at every level of the radix tree and across its boundaries. */
const SCALES = [1, 7, 512, 513, 2 ** 18 + 3, 2 ** 27 + 5, Infinity];

const step = fc.record({
  region: fc.nat(),
  op: fc.constantFrom('commit', 'decommit', 'touch', 'purge'),
  scale: fc.integer({ min: 0, max: SCALES.length - 1 }),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  len: fc.double({ min: 0, max: 1, noNaN: true }),
});

async function run(arch: 'x64' | 'x86', sizes: number[], steps: Step[]): Promise<void> {
  const e: Engine = await createEngine({ arch });
  const m: Model = { regions: [], committedPeak: 0, residentPeak: 0, commitCalls: 0, decommitCalls: 0 };
  for (const [i, size] of sizes.entries()) {
    // x64: regions on 2 TiB boundaries (every level of the radix tree aligned), the odd ones 64 KiB
    // past one, so ranges start and end both on and off the tree's slot boundaries.
    const at = arch === 'x64' ? (i + 1) * 2 * TiB + (i % 2) * 65536 : undefined;
    const r = e.vm.reserve(size, { at });
    expect(r.status).toBe('OK');
    m.regions.push(new RegionModel(r.base, size / PAGE));
  }
  for (const s of steps) {
    const region = m.regions[s.region % m.regions.length]!;
    const maxLen = Math.min(region.pages, SCALES[s.scale]!);
    const len = Math.max(1, Math.floor(s.len * maxLen));
    const a = Math.min(region.pages - len, Math.floor(s.at * (region.pages - len + 1)));
    const addr = region.base + a * PAGE;
    if (s.op === 'commit') {
      expect(e.vm.commit(addr, len * PAGE).ok).toBe(true);
      m.commitCalls++;
      region.apply(a, a + len, (st) => st | C);
    } else if (s.op === 'decommit') {
      expect(e.vm.decommit(addr, len * PAGE).ok).toBe(true);
      m.decommitCalls++;
      region.apply(a, a + len, () => 0);
    } else if (s.op === 'purge') {
      const purged = e.vm.purge(addr, len * PAGE);
      const old = region.apply(a, a + len, (st) => st & ~R);
      expect(purged).toBe((old.get(C | R) ?? 0) * PAGE);
    } else {
      // Touch the committed pages from `a` on (resident or not), if `a` is committed (touching
      // uncommitted pages is refused).
      const at = region.runs.findIndex(([rs, re, st]) => a >= rs && a < re && (st & C));
      if (at < 0) {
        expect(e.vm.touch(addr, len * PAGE).status).toBe('NOT_COMMITTED');
        continue;
      }
      let last = at;
      while (last + 1 < region.runs.length && (region.runs[last + 1]![2] & C)) last++;
      const end = Math.min(region.runs[last]![1], a + len);
      expect(e.vm.touch(addr, (end - a) * PAGE).ok).toBe(true);
      region.apply(a, end, (st) => st | R);
    }
    notePeaks(m);
  }
  const vm = e.sample().vm;
  const t = totals(m);
  let committedRuns = 0, uncommittedRuns = 0;
  for (const r of m.regions) {
    const runs = r.commitRuns();
    committedRuns += runs.committed;
    uncommittedRuns += runs.uncommitted;
  }
  expect({
    committedBytes: vm.committedBytes, residentBytes: vm.residentBytes, committedPeakBytes: vm.committedPeakBytes,
    residentPeakBytes: vm.residentPeakBytes, committedRanges: vm.committedRanges, uncommittedRanges: vm.uncommittedRanges,
    commitCalls: vm.commitCalls, decommitCalls: vm.decommitCalls,
  }).toEqual({
    committedBytes: t.committed, residentBytes: t.resident, committedPeakBytes: m.committedPeak,
    residentPeakBytes: m.residentPeak, committedRanges: committedRuns, uncommittedRanges: uncommittedRuns,
    commitCalls: m.commitCalls, decommitCalls: m.decommitCalls,
  });
  const walked = e.vm.walk().filter((w) => !w.free);
  expect(walked.map((w) => w.committedBytes)).toEqual(m.regions.map((r) => r.count((s) => (s & C) !== 0) * PAGE));
  for (const r of m.regions) {
    for (const page of [0, r.pages - 1, Math.floor(r.pages / 2), Math.floor(r.pages / 3)]) {
      const st = r.stateAt(page);
      expect(e.vm.isCommitted(r.base + page * PAGE)).toBe((st & C) !== 0);
      expect(e.vm.isResident(r.base + page * PAGE)).toBe((st & R) !== 0);
    }
  }
  expect(e.check()).toBe(0);
  // Engine memory follows the runs, not the bytes (a page byte per 4 KiB would be 256 MiB per TiB).
  expect(e.engineTableBytes().vm).toBeLessThan(arch === 'x64' ? 16 * 2 ** 20 : 2 * 2 ** 20);
}

describe('page table runs', () => {
  it('x64: random operations at every scale on regions up to 1 TiB match the run model', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }),
      (steps) => run('x64', [64 * 1024, 2 ** 21 + 65536, 3 * GiB, TiB, TiB], steps)), { numRuns: 40 });
  });

  // Small ranges inside uniform slots (whole regions committed, then touched or purged whole): the
  // one-leaf fast paths of ptApply, where a uniform slot above the leaf covers the range and the op
  // changes nothing (a touch of resident pages), or changes it (split), or the leaf exists.
  it('x64: small ranges inside whole committed and touched regions match the run model', async () => {
    const SMALL = SCALES.indexOf(513), WHOLE = SCALES.indexOf(Infinity);
    const whole = (region: number, op: Step['op']): Step => ({ region, op, scale: WHOLE, at: 0, len: 1 });
    const small = fc.record({
      region: fc.nat(),
      op: fc.constantFrom('commit', 'decommit', 'touch', 'touch', 'purge'),
      scale: fc.integer({ min: 0, max: SMALL }),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      len: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    const phase = fc.tuple(fc.nat({ max: 2 }), fc.constantFrom<Step['op']>('touch', 'purge', 'commit'), fc.array(small, { maxLength: 12 }))
      .map(([r, op, steps]) => [whole(r, op), ...steps]);
    await fc.assert(fc.asyncProperty(fc.array(phase, { minLength: 1, maxLength: 5 }), (phases) =>
      run('x64', [2 ** 21 + 65536, 3 * GiB, 8 * 2 ** 21], [whole(0, 'commit'), whole(1, 'commit'), whole(2, 'commit'), ...phases.flat()])), { numRuns: 40 });
  });

  // One- and two-page operations on small regions: pages of mixed states side by side in one leaf
  // (touchPages answers a touch of pages already resident from the cached leaf or the flat table).
  it('one- and two-page operations on small regions match the run model (x64 and x86)', async () => {
    const tiny = fc.record({
      region: fc.nat(),
      op: fc.constantFrom('commit', 'decommit', 'touch', 'touch', 'purge'),
      scale: fc.constant(SCALES.indexOf(7)),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      len: fc.double({ min: 0, max: 0.4, noNaN: true }),   // 1 or 2 pages of a scale-7 range
    });
    for (const arch of ['x64', 'x86'] as const) {
      const e = await createEngine({ arch });
      const base = e.vm.reserve(16 * PAGE).base;
      expect(e.vm.commit(base, 16 * PAGE).ok).toBe(true);
      expect(e.vm.touch(base + PAGE, PAGE).ok).toBe(true);
      expect(e.vm.touch(base + PAGE, 2 * PAGE).ok).toBe(true);       // resident, then committed only
      expect(e.vm.touch(base, 2 * PAGE).ok).toBe(true);              // committed only, then resident
      expect(e.sample().vm.residentBytes).toBe(3 * PAGE);
      await fc.assert(fc.asyncProperty(fc.array(tiny, { minLength: 1, maxLength: 60 }),
        (steps) => run(arch, [16 * PAGE, 8 * PAGE], steps)), { numRuns: 30 });
    }
  });

  it('x86: the flat table gives the same counters', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }),
      (steps) => run('x86', [64 * 1024, 2 ** 21 + 65536, 64 * 2 ** 20], steps)), { numRuns: 15 });
  });

  it('splits a uniform slot where a range ends inside it and folds it back when it is whole again', async () => {
    const e = await createEngine({ arch: 'x64' });
    const leaf = 512 * PAGE, l2 = 512 * leaf;            // 2 MiB and 1 GiB of address space
    const base = e.vm.reserve(4 * l2, { at: 2 * TiB }).base;
    const empty = e.engineTableBytes().vm;
    const vm = (): { c: number; r: number } => { const v = e.sample().vm; return { c: v.committedBytes, r: v.residentBytes }; };
    expect(e.vm.commit(base, 2 * l2).ok).toBe(true);      // two whole level-2 slots: uniform, no leaves
    expect(e.engineTableBytes().vm - empty).toBeLessThan(8 * 1024);
    expect(e.vm.touch(base + 3 * PAGE, 10 * PAGE).ok).toBe(true);          // inside a uniform leaf: split
    expect(vm()).toEqual({ c: 2 * l2, r: 10 * PAGE });
    expect(e.vm.purge(base, leaf)).toBe(10 * PAGE);                        // the leaf is all C again
    expect(e.vm.touch(base + l2 - PAGE, 2 * PAGE).ok).toBe(true);          // across a level-1 boundary
    expect(vm()).toEqual({ c: 2 * l2, r: 2 * PAGE });
    expect(e.vm.decommit(base + leaf + PAGE, PAGE).ok).toBe(true);         // a hole in a uniform leaf
    expect(vm()).toEqual({ c: 2 * l2 - PAGE, r: 2 * PAGE });
    expect(e.sample().vm.committedRanges).toBe(2);
    expect(e.vm.isCommitted(base + leaf + PAGE)).toBe(false);
    expect(e.vm.isCommitted(base + leaf)).toBe(true);
    expect(e.vm.purge(base, 4 * l2)).toBe(2 * PAGE);
    expect(e.vm.commit(base, 4 * l2).ok).toBe(true);                       // everything whole again
    expect(vm()).toEqual({ c: 4 * l2, r: 0 });
    expect(e.sample().vm.committedRanges).toBe(1);
    expect(e.engineTableBytes().vm - empty).toBeLessThan(8 * 1024);        // folded back: no leaves left
    expect(e.vm.decommit(base, 4 * l2).ok).toBe(true);
    expect(e.engineTableBytes().vm).toBe(empty);
    expect(e.check()).toBe(0);
  });

  it('committing, touching and releasing 16 one-TiB blocks costs little memory and time', async () => {
    const e = await createEngine({ arch: 'x64' });
    const started = performance.now();
    const bases: number[] = [];
    for (let i = 0; i < 16; i++) {
      const r = e.vm.reserve(TiB);
      expect(r.status).toBe('OK');
      expect(e.vm.commit(r.base, TiB).ok).toBe(true);
      expect(e.vm.touch(r.base, TiB).ok).toBe(true);
      bases.push(r.base);
    }
    const vm = e.sample().vm;
    expect(vm.committedBytes).toBe(16 * TiB);
    expect(vm.residentBytes).toBe(16 * TiB);
    expect(e.engineTableBytes().vm).toBeLessThan(2 ** 20);
    for (const b of bases) expect(e.vm.release(b).ok).toBe(true);
    expect(e.sample().vm.committedBytes).toBe(0);
    expect(e.check()).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000); // it took minutes, page by page
  });
});
