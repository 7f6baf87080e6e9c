// The diagnosis core on hand-made series: each verdict, each named threshold, the causes, and
// series built from simulation checkpoints. Plus the label matcher used by analyze --against.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DIAGNOSIS_THRESHOLDS, deriveCauses, diagnose, seriesFromCheckpoints,
} from '../../src/report/diagnose.js';
import type { SeriesPoint } from '../../src/report/diagnose.js';
import { matchLabels } from '../../src/report/match-labels.js';
import type { Checkpoint, HeapCounters } from '../../src/report/types.js';

const MB = 1024 * 1024;

/** A series from [label, committed MB, busy MB] with reserved fixed at 2 GB. */
function series(points: Array<[string, number, number]>): SeriesPoint[] {
  return points.map(([label, c, b]) => ({
    label, committedBytes: c * MB, reservedBytes: 2048 * MB, busyBytes: b * MB, freeBytes: (c - b) * MB,
  }));
}

describe('diagnose', () => {
  it('second-order: committed stays up while busy returns; retained = committed growth', () => {
    const d = diagnose(series([['before', 600, 350], ['peak', 1100, 850], ['after', 1100, 352]]));
    expect(d.kind).toBe('second-order');
    expect(d.retainedBytes).toBe(500 * MB - 2 * MB);
    expect(d.summary).toMatch(/^second-order: over "before" → "after" committed 600\.0 MiB → 1100\.0 MiB \(\+500\.0 MiB\) and stayed up \(100 % of the peak's growth still committed\)/);
    expect(d.summary).toContain('busy 350.0 MiB → 352.0 MiB (+2.0 MiB) returned to about the earlier level');
  });

  it('first-order: busy grows and stays; retained = the busy growth', () => {
    const d = diagnose(series([['1', 200, 190], ['2', 300, 290], ['3', 400, 388]]));
    expect(d.kind).toBe('first-order');
    expect(d.retainedBytes).toBe(198 * MB);
    expect(d.summary).toMatch(/^first-order: .*busy 190\.0 MiB → 388\.0 MiB \(\+198\.0 MiB\) grew and stayed/);
  });

  it('none: no significant growth, or committed memory given back', () => {
    expect(diagnose(series([['a', 1000, 500], ['b', 1040, 520]])).kind).toBe('none'); // 4 % < 5 %
    const back = diagnose(series([['a', 600, 350], ['b', 1100, 850], ['c', 620, 360]]));
    expect(back.kind).toBe('none');
    expect(back.summary).toMatch(/^none: committed memory rose and went back down/);
    const one = diagnose(series([['only', 600, 350]]));
    expect(one).toMatchObject({ kind: 'none', retainedBytes: 0 });
    expect(one.summary).toContain('at least two');
  });

  it('each threshold is a named, overridable parameter', () => {
    expect(DEFAULT_DIAGNOSIS_THRESHOLDS).toEqual({
      significantGrowthFraction: 0.05, significantGrowthMinBytes: MB, commitStaysUpFraction: 0.75, busyReturnFraction: 0.25, busyStaysFraction: 0.75,
    });
    // Committed keeps 80 % of its peak growth: "stays up" at 75 %, not at 90 %.
    const s = series([['a', 600, 350], ['b', 1100, 850], ['c', 1000, 350]]);
    expect(diagnose(s).kind).toBe('second-order');
    expect(diagnose(s, { thresholds: { commitStaysUpFraction: 0.9 } }).kind).toBe('none');
    // Busy keeps 30 % of the committed growth: more than busyReturnFraction, so the verdict goes
    // to the larger part (retained 350 MB > live 150 MB) and the summary names the live part.
    const partly = series([['a', 600, 350], ['b', 1100, 850], ['c', 1100, 500]]);
    const p = diagnose(partly);
    expect(p.kind).toBe('second-order');
    expect(p.retainedBytes).toBe(350 * MB);
    expect(p.summary).toContain('150.0 MiB of it is still in use: a first-order part');
    expect(diagnose(partly, { thresholds: { busyReturnFraction: 0.5 } }).summary).toContain('returned to about the earlier level');
    // Most of the growth live: first-order, even though busy fell from its peak.
    expect(diagnose(series([['a', 600, 350], ['b', 1100, 850], ['c', 1100, 700]])).kind).toBe('first-order');
    // A tiny process: 0.5 MB of growth is never significant under the 1 MB floor.
    const tiny = series([['a', 2, 1], ['b', 2.5, 1]]);
    expect(diagnose(tiny).kind).toBe('none');
    expect(diagnose(tiny, { thresholds: { significantGrowthMinBytes: 0.25 * MB } }).kind).toBe('second-order');
  });

  it('takes the caller\'s mechanism breakdown instead of deriving causes', () => {
    const causes = [{ mechanism: 'free blocks below the decommit threshold', bytes: 300 * MB, layer: 'nt' }, { mechanism: 'LFH user blocks pinned', bytes: 150 * MB }];
    const s = series([['a', 600, 350], ['b', 1100, 850], ['c', 1100, 350]]);
    expect(diagnose(s, { causes }).causes).toEqual(causes);
  });

  it('derives causes from heaps: free still committed at the end, committed growth within an unchanged reservation', () => {
    const s: SeriesPoint[] = [
      { label: 'a', committedBytes: 0, reservedBytes: 0, busyBytes: 0, freeBytes: 10, heaps: [
        { id: 'h1', reservedBytes: 1000, committedBytes: 400, busyBytes: 390, freeBytes: 10 },
        { id: 'h2', reservedBytes: 1000, committedBytes: 100, busyBytes: 100, freeBytes: 0 },
      ] },
      { label: 'b', committedBytes: 0, reservedBytes: 0, busyBytes: 0, freeBytes: 600, heaps: [
        { id: 'h1', reservedBytes: 1000, committedBytes: 900, busyBytes: 390, freeBytes: 510 },
        { id: 'h2', reservedBytes: 3000, committedBytes: 500, busyBytes: 410, freeBytes: 90 },
      ] },
    ];
    expect(deriveCauses(s)).toEqual([
      { mechanism: 'free blocks still committed', bytes: 600, layer: 'heap' },
      { mechanism: 'committed growth with unchanged reservation', bytes: 500, layer: 'virtual memory' },
    ]);
  });
});

describe('diagnose (dump series) at every threshold', () => {
  // c0 = 100 MiB, so significant = max(1 MiB, 5 % × 100 MiB) = 5 MiB.
  const SIG = 5 * MB;
  const pts = (...p: Array<[number, number]>): SeriesPoint[] => p.map(([c, b], i) => ({
    label: String(i), committedBytes: c, reservedBytes: 2048 * MB, busyBytes: b, freeBytes: c - b,
  }));

  it('committed growth and retained exactly at the significant threshold: second-order; one byte less: none', () => {
    expect(diagnose(pts([100 * MB, 50 * MB], [100 * MB + SIG, 50 * MB])).kind).toBe('second-order');
    expect(diagnose(pts([100 * MB, 50 * MB], [100 * MB + SIG - 1, 50 * MB])).kind).toBe('none');
  });

  it('"stays up" at exactly commitStaysUpFraction (75 %) of the peak growth: second-order; one byte less: none', () => {
    // peak +20 MiB, end +15 MiB = 75 % of it.
    expect(diagnose(pts([100 * MB, 50 * MB], [120 * MB, 50 * MB], [115 * MB, 50 * MB])).kind).toBe('second-order');
    expect(diagnose(pts([100 * MB, 50 * MB], [120 * MB, 50 * MB], [115 * MB - 1, 50 * MB])).kind).toBe('none');
  });

  it('retained must be significant by itself: committed stays up but most of the growth is live', () => {
    // +8 MiB committed, +3.5 MiB busy: retained 4.5 MiB < 5 MiB (and ≥ live), so not second-order.
    const s = pts([100 * MB, 50 * MB], [108 * MB, 53.5 * MB]);
    expect(diagnose(s).kind).toBe('none');
    expect(diagnose(pts([100 * MB, 50 * MB], [108 * MB + 0.5 * MB, 53.5 * MB])).kind).toBe('second-order');
  });

  it('busy "returns" at exactly busyReturnFraction (25 %) of the committed growth; above it the larger part decides', () => {
    // +40 MiB committed; busy +10 MiB = 25 %: returned. The wording says so.
    expect(diagnose(pts([100 * MB, 50 * MB], [140 * MB, 60 * MB])).summary).toContain('returned to about the earlier level');
    expect(diagnose(pts([100 * MB, 50 * MB], [140 * MB, 60 * MB + 1])).summary).toContain('a first-order part');
    // retained (20 MiB − 1 byte) < live (20 MiB + 1 byte): not second-order; busy grew and stays: first-order.
    expect(diagnose(pts([100 * MB, 50 * MB], [140 * MB, 70 * MB + 1])).kind).toBe('first-order');
    expect(diagnose(pts([100 * MB, 50 * MB], [140 * MB, 70 * MB])).kind).toBe('second-order'); // retained = live
  });

  it('first-order: busy growth exactly significant and kept at exactly busyStaysFraction (75 %) of its peak growth', () => {
    expect(diagnose(pts([100 * MB, 50 * MB], [100 * MB + SIG, 50 * MB + SIG])).kind).toBe('first-order');
    expect(diagnose(pts([100 * MB, 50 * MB], [100 * MB + SIG - 1, 50 * MB + SIG - 1])).kind).toBe('none');
    // busy peak +40 MiB, end +30 MiB = 75 %; committed went back from +100 to +60 MiB (does not stay
    // up), and retained (30 MiB) is not below live (30 MiB), so only busyStays decides.
    expect(diagnose(pts([100 * MB, 50 * MB], [200 * MB, 90 * MB], [160 * MB, 80 * MB])).kind).toBe('first-order');
    expect(diagnose(pts([100 * MB, 50 * MB], [200 * MB, 90 * MB], [160 * MB, 80 * MB - 1])).kind).toBe('none');
    // Busy does not stay (30 of a 50 MiB peak growth): first-order only when most of the growth is live.
    expect(diagnose(pts([100 * MB, 50 * MB], [200 * MB, 100 * MB], [160 * MB, 80 * MB])).kind).toBe('none');       // live = retained
    expect(diagnose(pts([100 * MB, 50 * MB], [200 * MB, 100 * MB], [160 * MB, 80 * MB + 1])).kind).toBe('first-order'); // live > retained
  });
});

describe('seriesFromCheckpoints', () => {
  function heap(committed: number, busy: number, free: number, reserved: number): HeapCounters {
    return {
      policy: 'first-fit', reservedBytes: reserved, committedBytes: committed, virtBytes: reserved, freeBytes: free, freeBlocks: 1,
      uncommittedRanges: 1, virtualBlocks: 0, busyBytes: busy, externalFragmentationPct: 0, virtualAddressFragmentationPct: 0,
    };
  }
  function checkpoint(label: string, commit: number, reserve: number, h: HeapCounters): Checkpoint {
    return {
      label, event: 0, heap: h,
      address: {
        state: { commit, reserve, free: 0 }, type: { private: 0, mapped: 0, image: 0 },
        usage: { other: 0, heap: 0, stack: 0, image: 0, teb: 0, peb: 0, processParameters: 0, environmentBlock: 0, pageHeap: 0, mappedFile: 0 },
        totalBytes: 0, residentBytes: 0,
      },
    };
  }

  it('takes committed and reserved from the address space and busy = committed − what the heaps do not use', () => {
    const cps = [
      checkpoint('before', 300 * MB, 200 * MB, heap(200 * MB, 150 * MB, 40 * MB, 400 * MB)),
      checkpoint('after', 700 * MB, 100 * MB, heap(600 * MB, 160 * MB, 420 * MB, 400 * MB)),
    ];
    const s = seriesFromCheckpoints(cps);
    expect(s[0]).toEqual({
      label: 'before', committedBytes: 300 * MB, reservedBytes: 500 * MB, busyBytes: 250 * MB, freeBytes: 40 * MB,
      heaps: [{ id: 'first-fit#0', reservedBytes: 400 * MB, committedBytes: 200 * MB, busyBytes: 150 * MB, freeBytes: 40 * MB }],
    });
    expect(diagnose(s).kind).toBe('second-order');
  });
});

describe('matchLabels', () => {
  it('pairs dump headings with simulation marks: exact first, then the earliest whole word', () => {
    expect(matchLabels(['Before peak hours', 'During peak hours', 'After peak hours'], ['before', 'peak', 'after'])).toEqual([0, 1, 2]);
    expect(matchLabels(['after', 'Before'], ['before', 'after'])).toEqual([1, 0]);
    expect(matchLabels(['Monday 09:00', 'peak time'], ['before', 'peak'])).toEqual([undefined, 1]);
    expect(matchLabels(['peak one', 'peak two'], ['peak'])).toEqual([0, undefined]);
  });
});

// Mutation testing (npm run mutate) left these parts of the summary unchecked: the heap evidence
// (which heaps, in which order, how many, in K rounded down), the signs of zero and negative growth,
// the peak and reserved texts, and the wording of each "none" and first-order case at its threshold.
describe('diagnose: the summary text, written out by hand', () => {
  const K = 1024;
  const SIG = 5 * MB; // max(1 MiB, 5 % of 100 MiB)
  const heap = (id: string, reservedK: number, committedK: number, busyK: number, freeK: number, extraBytes = 0): NonNullable<SeriesPoint['heaps']>[number] => ({
    id, reservedBytes: reservedK * K, committedBytes: committedK * K + extraBytes, busyBytes: busyK * K + extraBytes, freeBytes: freeK * K,
  });
  const point = (label: string, c: number, b: number, r: number, heaps?: SeriesPoint['heaps']): SeriesPoint => ({
    label, committedBytes: c, busyBytes: b, reservedBytes: r, freeBytes: c - b, ...(heaps ? { heaps } : {}),
  });

  it('heap evidence: the three heaps that moved most, largest first, in K rounded down; unmoved and new heaps left out', () => {
    const before = [heap('A', 1024, 100, 100, 0), heap('B', 1024, 100, 100, 0), heap('C', 1024, 100, 100, 0), heap('D', 1024, 100, 100, 0), heap('E', 1024, 100, 100, 0)];
    const after = [
      heap('A', 1024, 400, 100, 300), // moved 300 + 300 = 600 K
      heap('B', 2048, 200, 150, 50), // moved 100 + 50 + 1024 = 1174 K
      heap('C', 1024, 150, 150, 0, 512), // moved 50.5 K; prints 150 K
      heap('D', 1024, 90, 60, 30), // moved 10 + 30 = 40 K: the fourth, left out
      heap('E', 1024, 100, 100, 0), // did not move
      heap('F', 4096, 4000, 4000, 0), // not in the first moment
    ];
    const d = diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB, before), point('b', 100 * MB, 50 * MB, 1024 * MB, after)], { busyNote: 'busy = Commit − Free per heap' });
    expect(d.summary).toBe(
      'none: no significant growth (threshold 5.0 MiB); over "a" → "b" committed 100.0 MiB → 100.0 MiB (+0.0 MiB); busy 50.0 MiB → 50.0 MiB (+0.0 MiB). ' +
      'heap B: reservation 1024 K → 2048 K; Commit 100 K → 200 K; Free 0 K → 50 K (25 % of Commit); busy 100 K → 150 K. ' +
      'heap A: reservation unchanged at 1024 K; Commit 100 K → 400 K; Free 0 K → 300 K (75 % of Commit); busy 100 K → 100 K. ' +
      'heap C: reservation unchanged at 1024 K; Commit 100 K → 150 K; Free 0 K → 0 K (0 % of Commit); busy 100 K → 150 K. ' +
      'How busy is measured: busy = Commit − Free per heap.');
    // A heap that did not move is left out even when there is room for it.
    const two = diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB, [before[0]!, before[4]!]), point('b', 100 * MB, 50 * MB, 2048 * MB, [after[0]!, after[4]!])]);
    expect(two.summary).toMatch(/\(\+0\.0 MiB\)\. heap A: [^.]*\.$/);
    // Without heaps and without a note, the summary ends at the head.
    expect(diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB), point('b', 100 * MB, 50 * MB, 2048 * MB)]).summary)
      .toBe('none: no significant growth (threshold 5.0 MiB); over "a" → "b" committed 100.0 MiB → 100.0 MiB (+0.0 MiB); busy 50.0 MiB → 50.0 MiB (+0.0 MiB).');
  });

  it('second-order: the peak between the ends, what it kept, and reserved space that shrank', () => {
    const d = diagnose([point('a', 600 * MB, 350 * MB, 2048 * MB), point('b', 1100 * MB, 850 * MB, 2048 * MB), point('c', 1000 * MB, 350 * MB, 1536 * MB)]);
    expect(d.summary).toBe(
      'second-order: over "a" → "c" committed 600.0 MiB → 1000.0 MiB (+400.0 MiB; peak 1100.0 MiB at "b") and stayed up (80 % of the peak\'s growth still committed), ' +
      'while busy 350.0 MiB → 350.0 MiB (+0.0 MiB) returned to about the earlier level; reserved address space 2048.0 MiB → 1536.0 MiB (−512.0 MiB). ' +
      'Retained: 400.0 MiB committed that the program no longer uses.');
    expect(d.retainedBytes).toBe(400 * MB);
  });

  it('first-order: "more is committed beyond that" exactly when the retained part is significant', () => {
    // +20 MiB busy, kept; committed +25 MiB: retained 5 MiB = significant (and below live, so not second-order).
    const at = diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB), point('b', 125 * MB, 70 * MB, 2048 * MB)]);
    expect(at.kind).toBe('first-order');
    expect(at.summary).toMatch(/The program holds 20\.0 MiB more than at the start, and 5\.0 MiB more is committed beyond that\.$/);
    const below = diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB), point('b', 125 * MB - 1, 70 * MB, 2048 * MB)]);
    expect(below.kind).toBe('first-order');
    expect(below.summary).toMatch(/The program holds 20\.0 MiB more than at the start\.$/);
  });

  it('none: "rose and went back down" from a peak exactly significant; one byte less is no significant growth', () => {
    const back = diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB), point('b', 100 * MB + SIG, 50 * MB, 2048 * MB), point('c', 100 * MB, 50 * MB, 2048 * MB)]);
    expect(back.summary).toMatch(/^none: committed memory rose and went back down; over "a" → "c" committed 100\.0 MiB → 100\.0 MiB \(\+0\.0 MiB; peak 105\.0 MiB at "b"\)/);
    const small = diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB), point('b', 100 * MB + SIG - 1, 50 * MB, 2048 * MB), point('c', 100 * MB, 50 * MB, 2048 * MB)]);
    expect(small.summary).toMatch(/^none: no significant growth \(threshold 5\.0 MiB\)/);
    // Busy rose 10 MiB and came back to +3.5 MiB while committed stayed up by 8 MiB, of which only 4.5 MiB is retained.
    const busyBack = diagnose([point('a', 100 * MB, 50 * MB, 2048 * MB), point('b', 110 * MB, 60 * MB, 2048 * MB), point('c', 108 * MB, 53.5 * MB, 2048 * MB)]);
    expect(busyBack.summary).toMatch(/^none: busy bytes rose and went back down; /);
  });
});
