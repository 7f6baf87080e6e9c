// The run verdict (src/report/verdict.ts) at every threshold: each comparison is tested exactly at
// its boundary and one byte (or one step) on the wrong side, so turning a `>=` into `>` or dropping
// a condition fails a test. Moments are hand-made; sizes are exact integers.
import { describe, expect, it } from 'vitest';
import { DEFAULT_VERDICT_THRESHOLDS, decideVerdict, type VerdictInput, type VerdictMoment } from '../../src/report/verdict.js';

const MiB = 1024 * 1024;

function m(label: string, event: number, liveBytes: number, committedBytes: number, residentBytes = committedBytes): VerdictMoment {
  return { label, event, liveBytes, committedBytes, residentBytes };
}

/**
 * A run that starts empty, peaks at 100 MiB committed with `peakLive` live (the live peak too), and
 * ends with `endLive` live and `endCommitted` committed. significant = max(1 MiB, 10 % × 100 MiB) = 10 MiB.
 */
function run(o: { endLive: number; endCommitted: number; endResident?: number; peakLive?: number; peakCommitted?: number; platform?: VerdictInput['platform']; marks?: VerdictMoment[] }): VerdictInput {
  const peakCommitted = o.peakCommitted ?? 100 * MiB;
  const peakLive = o.peakLive ?? 90 * MiB;
  return {
    platform: o.platform ?? 'windows',
    start: m('start', 0, 0, 0),
    marks: o.marks ?? [],
    peak: m('committed peak', 500, peakLive, peakCommitted),
    end: m('end', 1000, o.endLive, o.endCommitted, o.endResident),
    livePeak: { bytes: peakLive, event: 500 },
  };
}

const SIG = 10 * MiB; // max(minBytes 1 MiB, peakFraction 0.1 × 100 MiB)

describe('defaults', () => {
  it('are named and documented: 1 MiB, 10 % of the peak, 75 % of the live growth', () => {
    expect(DEFAULT_VERDICT_THRESHOLDS).toEqual({ minBytes: MiB, peakFraction: 0.1, liveStaysFraction: 0.75 });
    const v = decideVerdict(run({ endLive: 0, endCommitted: SIG }));
    expect(v.significantBytes).toBe(SIG);
    expect(v.thresholds).toEqual(DEFAULT_VERDICT_THRESHOLDS);
  });
});

describe('second-order: retained (committed − live) at the end ≥ significant, and the program freed ≥ significant since its live peak', () => {
  it('retained exactly at the threshold is second-order; one byte less is none', () => {
    const at = decideVerdict(run({ endLive: 5 * MiB, endCommitted: 5 * MiB + SIG }));
    expect(at.kind).toBe('second-order');
    expect(at.retainedBytes).toBe(SIG);
    expect(at.retainedAtEndBytes).toBe(SIG);
    expect(at.findings).toEqual([expect.objectContaining({ kind: 'second-order', bytes: SIG })]);
    const below = decideVerdict(run({ endLive: 5 * MiB, endCommitted: 5 * MiB + SIG - 1 }));
    expect(below.kind).toBe('none');
    expect(below.retainedBytes).toBe(0);
    expect(below.headline).toMatch(/^none: 10\.0 MiB held beyond live bytes at the end, below the 10\.0 MiB threshold$/);
  });

  it('the minBytes floor: with a 4 MiB peak, 10 % is 0.4 MiB and 1 MiB decides', () => {
    const small = { peakCommitted: 4 * MiB, peakLive: 3 * MiB };
    expect(decideVerdict(run({ ...small, endLive: 0, endCommitted: MiB })).kind).toBe('second-order');
    expect(decideVerdict(run({ ...small, endLive: 0, endCommitted: MiB - 1 })).kind).toBe('none');
    expect(decideVerdict(run({ ...small, endLive: 0, endCommitted: MiB - 1 }), { minBytes: 512 * 1024 }).kind).toBe('second-order');
  });

  it('the peakFraction: at 20 % the same 10 MiB is no longer significant', () => {
    const i = run({ endLive: 0, endCommitted: SIG, peakLive: 50 * MiB });
    expect(decideVerdict(i).kind).toBe('second-order');
    expect(decideVerdict(i, { peakFraction: 0.2 }).kind).toBe('none');
  });

  it('retained memory counts only after live bytes fell: freed exactly the threshold since the live peak, or one byte less', () => {
    // live peak 90 MiB; at the end 80 MiB live: freed exactly 10 MiB.
    // (The 80 MiB still live are a first-order finding of their own; liveStaysFraction 1 keeps them out.)
    const t = { liveStaysFraction: 1 };
    const freed = decideVerdict(run({ endLive: 80 * MiB, endCommitted: 80 * MiB + 15 * MiB }), t);
    expect(freed.kind).toBe('second-order');
    expect(freed.retainedBytes).toBe(15 * MiB);
    const notFreed = decideVerdict(run({ endLive: 80 * MiB + 1, endCommitted: 80 * MiB + 1 + 15 * MiB }), t);
    expect(notFreed.kind).toBe('none');
    expect(notFreed.headline).toMatch(/but the program never freed as much since its peak/);
    expect(decideVerdict(run({ endLive: 80 * MiB + 1, endCommitted: 80 * MiB + 1 + 15 * MiB })).findings.map((f) => f.kind)).toEqual(['first-order']);
  });

  it('Linux policies decide on resident bytes: committed but not resident is not retained RSS', () => {
    const i = run({ platform: 'linux', endLive: 0, endCommitted: 20 * MiB, endResident: SIG - 1 });
    expect(decideVerdict(i).kind).toBe('none');
    expect(decideVerdict({ ...i, platform: 'windows' }).kind).toBe('second-order');
    const linux = decideVerdict({ ...i, end: { ...i.end, residentBytes: SIG } });
    expect(linux.kind).toBe('second-order');
    // The bytes reported are still committed − live; resident − live beside them.
    expect(linux.retainedBytes).toBe(20 * MiB);
    expect(linux.retainedResidentAtEndBytes).toBe(SIG);
    expect(linux.headline).toBe('second-order: 20.0 MiB retained at the end (committed − live; 10.0 MiB of it resident)');
  });

  it('names the largest mechanism, and gives retained at each mark and the share of the peak growth still held', () => {
    const marks = [m('before', 100, 10 * MiB, 40 * MiB), m('after', 900, 10 * MiB, 85 * MiB)];
    const v = decideVerdict({
      ...run({ endLive: 10 * MiB, endCommitted: 85 * MiB, marks }),
      causes: [{ mechanism: 'small', bytes: 1 }, { mechanism: 'free blocks between live ones', bytes: 70 * MiB, layer: 'nt back end' }],
    });
    expect(v.kind).toBe('second-order');
    expect(v.headline).toBe('second-order: 75.0 MiB retained at the end (committed − live), mostly free blocks between live ones (nt back end)');
    expect(v.retainedAtMarks).toEqual([{ label: 'before', event: 100, bytes: 30 * MiB }, { label: 'after', event: 900, bytes: 75 * MiB }]);
    expect(v.reference).toBe('before');
    // (85 − 40) / (100 − 40) of the committed growth from `before` to the peak.
    expect(v.peakGrowthHeldPct).toBe(75);
  });
});

describe('first-order: live bytes grew by ≥ significant and kept ≥ liveStaysFraction of their growth to the live peak', () => {
  it('live growth exactly at the threshold is first-order; one byte less is none', () => {
    // End: live = 10 MiB kept of a 12 MiB live peak (83 % ≥ 75 %), committed = live (nothing retained).
    const at = decideVerdict(run({ peakLive: 12 * MiB, endLive: SIG, endCommitted: SIG }));
    expect(at.kind).toBe('first-order');
    expect(at.retainedBytes).toBe(SIG);
    expect(at.liveGrowthBytes).toBe(SIG);
    expect(decideVerdict(run({ peakLive: 12 * MiB, endLive: SIG - 1, endCommitted: SIG - 1 })).kind).toBe('none');
  });

  it('kept exactly 75 % of the growth to the live peak is first-order; less is none (the live bytes came back)', () => {
    expect(decideVerdict(run({ peakLive: 80 * MiB, endLive: 60 * MiB, endCommitted: 60 * MiB + 5 * MiB })).kind).toBe('first-order');
    // 60 MiB − 1 byte kept of 80 MiB: below 75 %; the freed 20 MiB are not retained either (5 MiB < 10 MiB).
    expect(decideVerdict(run({ peakLive: 80 * MiB, endLive: 60 * MiB - 1, endCommitted: 60 * MiB + 5 * MiB })).kind).toBe('none');
    expect(decideVerdict(run({ peakLive: 80 * MiB, endLive: 60 * MiB - 1, endCommitted: 60 * MiB + 5 * MiB }), { liveStaysFraction: 0.5 }).kind).toBe('first-order');
  });

  it('growth is measured from the first mark when there are two marks or more, from the start otherwise', () => {
    const marks = [m('before', 100, 30 * MiB, 40 * MiB), m('after', 1000, 35 * MiB, 45 * MiB)];
    const withMarks = decideVerdict(run({ peakLive: 40 * MiB, endLive: 35 * MiB, endCommitted: 45 * MiB, marks }));
    expect(withMarks.reference).toBe('before');
    expect(withMarks.kind).toBe('none');           // +5 MiB from `before` is not significant
    const oneMark = decideVerdict(run({ peakLive: 40 * MiB, endLive: 35 * MiB, endCommitted: 45 * MiB, marks: [marks[1]!] }));
    expect(oneMark.reference).toBe('start');
    expect(oneMark.kind).toBe('first-order');      // +35 MiB from the start
  });

  it('names the callers of never-freed bytes when the trace has callers', () => {
    const v = decideVerdict({ ...run({ peakLive: 12 * MiB, endLive: 11 * MiB, endCommitted: 11 * MiB }), topCallers: [{ key: 'parse.c:42', blocks: 3, bytes: 9 * MiB }] });
    expect(v.headline).toBe('first-order: the program\'s live bytes grew by 11.0 MiB and stayed, mostly from parse.c:42');
    expect(v.findings[0]!.summary).toContain('never freed, by caller: parse.c:42 9.0 MiB in 3 blocks');
  });
});

describe('both leaks, and out-of-memory', () => {
  it('both present: findings lists each with its bytes, kind names the larger', () => {
    // live grew 40 MiB (kept all), and 30 MiB retained after 45 MiB were freed since the live peak.
    const i = run({ peakLive: 85 * MiB, endLive: 40 * MiB, endCommitted: 70 * MiB, marks: [] });
    const v = decideVerdict({ ...i, start: m('start', 0, 0, 0) }, { liveStaysFraction: 0.4 });
    expect(v.findings.map((f) => [f.kind, f.bytes])).toEqual([['first-order', 40 * MiB], ['second-order', 30 * MiB]]);
    expect(v.kind).toBe('first-order');
    expect(v.retainedBytes).toBe(40 * MiB);
  });

  it('any failed allocation makes it out-of-memory, with the first failing event, its size and reason; leaks stay findings', () => {
    const i = { ...run({ endLive: 0, endCommitted: 20 * MiB }), failures: { count: 1, bytes: 4096, first: { event: 77, sizeBytes: 4096, reason: 'address-space' as const, heap: 0 } } };
    const v = decideVerdict(i);
    expect(v.kind).toBe('out-of-memory');
    expect(v.headline).toBe('out-of-memory: 1 allocation failed, the first at event 77 (4.0 KiB: address space exhausted); also second-order, 20.0 MiB');
    expect(v.findings.map((f) => f.kind)).toEqual(['out-of-memory', 'second-order']);
    expect(v.findings[0]).toMatchObject({ bytes: 4096 });
    expect(decideVerdict({ ...i, failures: { count: 0, bytes: 0, first: null } }).kind).toBe('second-order');
  });
});
