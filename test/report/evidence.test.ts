// The diagnosis's evidence from per-heap figures, pinned exactly: the three heaps that moved most
// (growth = |Δcommit| + |Δfree| + |Δreserve|), largest first, a heap that did not move or did not
// exist at the first moment left out; and the causes it derives (free still committed at the end,
// committed growth only of heaps whose reservation did not change). `npm run mutate` (StrykerJS on
// src/report/diagnose.ts) found no test that read these sentences or sums.
import { describe, expect, it } from 'vitest';
import { deriveCauses, diagnose, type SeriesPoint } from '../../src/report/diagnose.js';

const MB = 1024 * 1024;
const heap = (id: string, reservedMB: number, committedMB: number, busyMB: number) => ({
  id, reservedBytes: reservedMB * MB, committedBytes: committedMB * MB, busyBytes: busyMB * MB, freeBytes: (committedMB - busyMB) * MB,
});
const SERIES: SeriesPoint[] = [
  { label: 'before', committedBytes: 600 * MB, reservedBytes: 2048 * MB, busyBytes: 350 * MB, freeBytes: 250 * MB,
    heaps: [heap('h1', 64, 10, 5), heap('h2', 512, 300, 200), heap('h3', 256, 100, 80), heap('h4', 128, 50, 40), heap('h5', 64, 40, 20)] },
  { label: 'after', committedBytes: 1100 * MB, reservedBytes: 2048 * MB, busyBytes: 352 * MB, freeBytes: 748 * MB,
    heaps: [heap('h1', 64, 10, 5), heap('h2', 512, 500, 201), heap('h3', 512, 300, 81), heap('h4', 128, 60, 40), heap('h5', 64, 41, 20),
      heap('h6', 64, 64, 10)] },
];

describe('diagnosis evidence from the heaps', () => {
  it('names the three heaps that moved most, largest first, with their figures', () => {
    const d = diagnose(SERIES);
    expect(d.kind).toBe('second-order');
    expect(d.summary.endsWith(' Retained: 498.0 MiB committed that the program no longer uses. ' +
      'heap h3: reservation 262144 K → 524288 K; Commit 102400 K → 307200 K; Free 20480 K → 224256 K (73 % of Commit); busy 81920 K → 82944 K. ' +
      'heap h2: reservation unchanged at 524288 K; Commit 307200 K → 512000 K; Free 102400 K → 306176 K (59 % of Commit); busy 204800 K → 205824 K. ' +
      'heap h4: reservation unchanged at 131072 K; Commit 51200 K → 61440 K; Free 10240 K → 20480 K (33 % of Commit); busy 40960 K → 40960 K.'),
    d.summary).toBe(true);
    expect(d.summary).not.toMatch(/heap h1|heap h5|heap h6/); // unchanged; fourth; new
  });

  it('derives free-still-committed and growth-with-unchanged-reservation (h2 + h4 + h5, not h3)', () => {
    expect(deriveCauses(SERIES)).toEqual([
      { mechanism: 'free blocks still committed', bytes: 748 * MB, layer: 'heap' },
      { mechanism: 'committed growth with unchanged reservation', bytes: (200 + 10 + 1) * MB, layer: 'virtual memory' },
    ]);
    expect(deriveCauses([])).toEqual([]);
    const still = SERIES.map((p) => ({ ...p, freeBytes: 0, heaps: SERIES[0]!.heaps }));
    expect(deriveCauses(still)).toEqual([]);
  });
});
