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
