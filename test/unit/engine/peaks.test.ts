// Exact peaks and the program's own counters, asserted directly (not through a golden hash).
// - Hand-made sequences: a peak reached between two samples is reported with its event.
// - Property: for random op sequences on every policy (and the pool stacked on nt), with a sample
//   after every event, each peak equals the maximum over those samples and its event is the first
//   sample that reached it: per heap (committed, resident, reserved, requested), the heaps together,
//   the process, and the program's live bytes.
// - The program's live bytes and blocks are the same under every policy for the same ops, failed
//   allocations included; a failure names its event, size and reason; replay goes on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Peak, type Sample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SEED = 20_251_205;

describe('exact peaks between samples', () => {
  it('a large block allocated and freed between two samples: the peak and its event survive', async () => {
    const e = await createEngine({ arch: 'x86' });
    e.createHeap('first-fit');
    const before = e.sample();
    const ops = new OpBuffer(8);
    ops.alloc(0, 1, 100);            // event 1
    ops.alloc(0, 2, 8 * MiB);        // event 2: own reservation, 8 MiB committed
    ops.alloc(0, 3, 200);            // event 3
    ops.free(0, 2);                  // event 4: released
    ops.free(0, 1);                  // event 5
    e.apply(ops);
    const s = e.sample();
    const h = s.heaps[0]!;
    expect(h.committedBytes).toBeLessThan(1 * MiB);
    // 8 MiB block + its header rounded to whole pages, plus the segment's committed pages at event 2.
    expect(h.peaks.committedBytes.event).toBe(2);
    expect(h.peaks.committedBytes.bytes).toBeGreaterThanOrEqual(8 * MiB + before.heaps[0]!.committedBytes);
    expect(h.peakCommittedBytes).toBe(h.peaks.committedBytes.bytes);
    expect(h.peaks.reservedBytes.event).toBe(2);
    expect(h.peaks.reservedBytes.bytes).toBeGreaterThanOrEqual(8 * MiB + before.heaps[0]!.reservedBytes);
    expect(h.reservedBytes).toBeLessThanOrEqual(h.peaks.reservedBytes.bytes - 8 * MiB); // the block's reservation is gone
    expect(h.peaks.requestedBytes).toEqual({ bytes: 100 + 8 * MiB + 200, event: 3 });
    expect(h.peakRequestedBytes).toBe(100 + 8 * MiB + 200);
    expect(s.program.peaks.liveBytes).toEqual({ bytes: 100 + 8 * MiB + 200, event: 3 });
    expect(s.program.peaks.heapsCommittedBytes).toEqual(h.peaks.committedBytes);
    expect(s.program.peaks.processCommittedBytes).toEqual(h.peaks.committedBytes); // a bare profile: only the heap
    expect(s.program.atCommittedPeak.liveBytes).toBe(100 + 8 * MiB);
    expect(s.program).toMatchObject({ liveBytes: 200, liveBlocks: 1, failedAllocs: 0, failedBytes: 0, firstFailure: null });
    // The VM's own process peaks agree with the engine's (they are taken inside every commit).
    expect(s.vm.committedPeakBytes).toBe(s.program.peaks.processCommittedBytes.bytes);
  });

  it('a profile laid out before the first event is a peak at event 0', async () => {
    const e = await createEngine({ arch: 'x86', profile: 'windows-service-x86' });
    e.createHeap('first-fit');
    const s = e.sample();
    expect(s.program.peaks.processCommittedBytes).toEqual({ bytes: s.vm.committedBytes, event: 0 });
    expect(s.vm.committedBytes).toBeGreaterThan(100 * MiB);
    // The profile's regions belong to no heap: the heaps' committed is the heap's own.
    expect(s.program.heapsCommittedBytes).toBe(s.heaps[0]!.committedBytes);
  });

  it('an implicit free is not an event and is counted; in replay mode a failed allocation is the program\'s, replay goes on', async () => {
    const e = await createEngine({ arch: 'x86', replay: true });
    e.createHeap('first-fit');
    const ops = new OpBuffer(8);
    ops.alloc(0, 1, 64);              // event 1
    ops.implicitFree(0, 1);           // not an event
    ops.alloc(0, 1, 32);              // event 2
    ops.alloc(0, 2, 3 * 1024 * MiB);  // event 3: more than the x86 user space
    ops.realloc(0, 2, 1 * MiB);       // event 4: the program's block 2 is placed now
    ops.alloc(0, 3, 3 * 1024 * MiB);  // event 5: fails again
    ops.free(0, 3);                   // event 6: frees the program's block, no failed op
    const r = e.apply(ops);
    expect(r.failedOps).toBe(2);
    expect(r.firstFailure).toEqual({ op: 3, status: 'OUT_OF_MEMORY' });
    const s = e.sample();
    expect(s.event).toBe(6);
    expect(s.program).toMatchObject({
      liveBytes: 32 + 1 * MiB, liveBlocks: 2, failedAllocs: 2, failedBytes: 6 * 1024 * MiB, implicitFrees: 1,
      firstFailure: { event: 3, sizeBytes: 3 * 1024 * MiB, reason: 'address-space', heap: 0 },
    });
    // The program held its failed 3 GiB block, its 1 MiB realloc and the second failed block at event 5.
    expect(s.program.peaks.liveBytes).toEqual({ bytes: 32 + 1 * MiB + 3 * 1024 * MiB, event: 5 });
    expect(s.heaps[0]!).toMatchObject({ liveBlocks: 2, requestedBytes: 32 + 1 * MiB, failedAllocs: 2 });
    expect(e.blockOf(2).address).toBeGreaterThan(0);
    expect(e.check()).toBe(0);
  });

  it('a size the policy cannot serve at all is a policy limit, not an address-space failure', async () => {
    const e = await createEngine({ arch: 'x86' });
    e.createHeap('first-fit');
    const ops = new OpBuffer(1);
    ops.alloc(0, 0, 2 ** 40);
    e.apply(ops);
    expect(e.sample().program.firstFailure).toEqual({ event: 1, sizeBytes: 2 ** 40, reason: 'policy-limit', heap: 0 });
  });
});

type Act = { k: 'alloc'; size: number } | { k: 'free'; pick: number } | { k: 'realloc'; pick: number; size: number } | { k: 'trim' };

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 600 }) },
  { weight: 3, arbitrary: fc.integer({ min: 601, max: 40 * KiB }) },
  { weight: 1, arbitrary: fc.integer({ min: 40 * KiB, max: 3 * MiB }) },
  { weight: 1, arbitrary: fc.constant(1500 * MiB) },   // fails on x86 once a few are live
);
const actArb: fc.Arbitrary<Act> = fc.oneof(
  { weight: 6, arbitrary: sizeArb.map((size) => ({ k: 'alloc' as const, size })) },
  { weight: 5, arbitrary: fc.nat().map((pick) => ({ k: 'free' as const, pick })) },
  { weight: 2, arbitrary: fc.record({ pick: fc.nat(), size: sizeArb }).map((r) => ({ k: 'realloc' as const, ...r })) },
  { weight: 1, arbitrary: fc.constant({ k: 'trim' as const }) },
);

/** Applies the actions with a sample after every event; returns every sample, the first one before any event. */
async function samplesOf(stack: string[], acts: Act[]): Promise<{ engine: Engine; samples: Sample[] }> {
  const engine = await createEngine({ arch: 'x86', sampleEvery: 1, replay: true });
  for (let i = stack.length - 1; i >= 0; i--) engine.createHeap(stack[i]!, i < stack.length - 1 ? { parent: i + 1 } : {}, i);
  const samples = [engine.sample()];
  const live: number[] = [];
  let next = 0;
  let ops = new OpBuffer(acts.length + 1);
  acts.forEach((a, i) => {
    if (a.k === 'alloc') { live.push(next); ops.alloc(0, next++, a.size); }
    else if (a.k === 'free' && live.length) ops.free(0, live.splice(a.pick % live.length, 1)[0]!);
    else if (a.k === 'realloc' && live.length) ops.realloc(0, live[a.pick % live.length]!, a.size);
    else if (a.k === 'trim') ops.trim(stack.length - 1, 0);
    if (i % 50 === 49) { samples.push(...engine.apply(ops).samples); ops = new OpBuffer(acts.length + 1); }
  });
  samples.push(...engine.apply(ops).samples);
  expect(engine.check()).toBe(0);
  return { engine, samples };
}

/** The maximum over samples and the event of the first sample that reached it. */
function maxOver(samples: Sample[], get: (s: Sample) => number): Peak {
  let best = { bytes: -1, event: 0 };
  for (const s of samples) { const v = get(s); if (v > best.bytes) best = { bytes: v, event: s.event }; }
  return best;
}

const STACKS = [['first-fit'], ['nt'], ['ptmalloc'], ['pool'], ['pool', 'nt']];

describe('exact peaks equal the maximum over a sample after every event (property)', () => {
  it.each(STACKS.map((s) => [s.join(' on '), s]))('%s', async (_name, stack) => {
    await fc.assert(fc.asyncProperty(fc.array(actArb, { minLength: 1, maxLength: 400 }), async (acts) => {
      const { samples } = await samplesOf(stack as string[], acts);
      const last = samples[samples.length - 1]!;
      const p = last.program.peaks;
      expect(p.liveBytes).toEqual(maxOver(samples, (s) => s.program.liveBytes));
      expect(p.heapsCommittedBytes).toEqual(maxOver(samples, (s) => s.program.heapsCommittedBytes));
      expect(p.heapsResidentBytes).toEqual(maxOver(samples, (s) => s.program.heapsResidentBytes));
      expect(p.processCommittedBytes).toEqual(maxOver(samples, (s) => s.vm.committedBytes));
      expect(p.processResidentBytes).toEqual(maxOver(samples, (s) => s.vm.residentBytes));
      for (const h of last.heaps) {
        const of = (s: Sample) => s.heaps.find((x) => x.heap === h.heap)!;
        expect(h.peaks.committedBytes).toEqual(maxOver(samples, (s) => of(s).committedBytes));
        expect(h.peaks.residentBytes).toEqual(maxOver(samples, (s) => of(s).residentBytes));
        expect(h.peaks.reservedBytes).toEqual(maxOver(samples, (s) => of(s).reservedBytes));
        expect(h.peaks.requestedBytes).toEqual(maxOver(samples, (s) => of(s).requestedBytes));
      }
      // The heaps' committed bytes are the root heaps' own (a stacked heap's are inside its parent's).
      for (const s of samples) {
        expect(s.program.heapsCommittedBytes).toBe(s.heaps.filter((h) => h.parent < 0).reduce((a, h) => a + h.committedBytes, 0));
      }
    }), { seed: SEED, numRuns: 12 });
  });
});

describe('C semantics (the engine\'s default): a failed call leaves the caller nothing', () => {
  it('a failed allocation keeps the id free; a failed realloc keeps the old block; both are counted', async () => {
    const e = await createEngine({ arch: 'x86' });
    e.createHeap('first-fit');
    const ops = new OpBuffer(8);
    ops.alloc(0, 1, 3 * 1024 * MiB);  // event 1: fails
    ops.alloc(0, 1, 64);              // event 2: the id is free, this succeeds
    ops.realloc(0, 1, 3 * 1024 * MiB); // event 3: fails, block 1 keeps its 64 bytes
    ops.free(0, 2);                   // event 4: never allocated: UNKNOWN_ID
    const r = e.apply(ops);
    expect(r.failedOps).toBe(3);
    const s = e.sample();
    expect(s.program).toMatchObject({ liveBytes: 64, liveBlocks: 1, failedAllocs: 2, failedBytes: 6 * 1024 * MiB });
    expect(s.program.firstFailure).toMatchObject({ event: 1, reason: 'address-space' });
    expect(e.blockOf(1).requestedBytes).toBe(64);
    expect(e.check()).toBe(0);
  });
});

describe('the program\'s live bytes do not depend on the policy', () => {
  it('the same ops give the same live bytes, blocks and failures at every event on every policy', async () => {
    await fc.assert(fc.asyncProperty(fc.array(actArb, { minLength: 1, maxLength: 300 }), async (acts) => {
      const runs = await Promise.all(STACKS.map((s) => samplesOf(s, acts)));
      const live = (r: { samples: Sample[] }) => r.samples.map((s) => `${s.event}:${s.program.liveBytes}:${s.program.liveBlocks}`).join(' ');
      for (const r of runs.slice(1)) expect(live(r)).toBe(live(runs[0]!));
      // Failed calls are each policy's own (they may differ), but they never change what the program holds.
      for (const r of runs) {
        const last = r.samples[r.samples.length - 1]!;
        if (last.program.failedAllocs) expect(last.program.firstFailure!.event).toBeGreaterThan(0);
        else expect(last.program.firstFailure).toBeNull();
      }
    }), { seed: SEED + 1, numRuns: 8 });
  });
});
