// !address -summary formatters: the old layout reproduces the seed's dumps line for line from
// their region sizes alone; the new layout puts every column where WinDbg does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatAddressSummary, formatAddressSummaryNew } from '../../src/report/address-summary.js';
import type { AddressSummary } from '../../src/report/types.js';
import {
  hex64Backtick, humanSize, hundredthsOfPercent, oldFormatPct, parseDebuggerHex,
} from '../../src/report/windbg-numbers.js';

const SEED = readFileSync(new URL('../fixtures/seed-second-order.txt', import.meta.url), 'utf8').replace(/\u00a0/g, ' ');
const SEED_LINES = SEED.split('\n');

/** The old-format block under a heading of the seed, from the Usage title to the last State row. */
function seedBlock(heading: string): string[] {
  const start = SEED_LINES.indexOf(heading) + 2;
  const end = SEED_LINES.findIndex((l, k) => k > start && /MEM_RESERVE\s*$/.test(l));
  return SEED_LINES.slice(start, end + 1);
}

/** An AddressSummary built from nothing but region sizes, as a simulation would have them. */
function summaryFromSizes(u: {
  isVad: number; free: number; image: number; stack: number; teb: number; heap: number; pageHeap: number;
  peb: number; params: number; env: number; mapped: number; privateBytes: number; commit: number; reserve: number;
}): AddressSummary {
  const total = u.isVad + u.free + u.image + u.stack + u.teb + u.heap + u.pageHeap + u.peb + u.params + u.env;
  return {
    totalBytes: total,
    busyBytes: total - u.free,
    state: { commit: { bytes: u.commit }, reserve: { bytes: u.reserve }, free: { bytes: u.free } },
    type: { private: { bytes: u.privateBytes }, mapped: { bytes: u.mapped }, image: { bytes: u.image } },
    usage: {
      other: { bytes: u.isVad }, free: { bytes: u.free }, image: { bytes: u.image }, stack: { bytes: u.stack },
      teb: { bytes: u.teb }, heap: { bytes: u.heap }, pageHeap: { bytes: u.pageHeap }, peb: { bytes: u.peb },
      processParameters: { bytes: u.params }, environmentBlock: { bytes: u.env },
    },
  };
}

describe('old-format !address -summary', () => {
  it('prints the seed\'s "Before peak hours" block exactly from its region sizes', () => {
    const s = summaryFromSizes({
      isVad: 0x734d000, free: 0x1ff11000, image: 0x4352000, stack: 0x5a00000, teb: 0x5a000, heap: 0x4efe3000,
      pageHeap: 0, peb: 0x1000, params: 0x1000, env: 0x1000, mapped: 0xb78000, privateBytes: 0x5b215000,
      commit: 0x25e50000, reserve: 0x3a28f000,
    });
    const out = formatAddressSummary(s).trimEnd().split('\n');
    const seed = seedBlock('Before peak hours:');
    expect(seed).toHaveLength(26);
    expect(out).toEqual(seed);
  });

  it('prints the seed\'s "After peak hours" block exactly, and compares every number of every line', () => {
    const s = summaryFromSizes({
      isVad: 0x734d000, free: 0x1fd0f000, image: 0x4352000, stack: 0x5c00000, teb: 0x5c000, heap: 0x4efe3000,
      pageHeap: 0, peb: 0x1000, params: 0x1000, env: 0x1000, mapped: 0xb78000, privateBytes: 0x5b417000,
      commit: 0x4505d000, reserve: 0x1b284000,
    });
    const out = formatAddressSummary(s).trimEnd().split('\n');
    const seed = seedBlock('After peak hours:');
    const numbers = (l: string): string[] => l.match(/[0-9a-f]+(?:\.\d+)?%?/g) ?? [];
    expect(out.map(numbers)).toEqual(seed.map(numbers));
    expect(out).toEqual(seed);
  });

  it('rounds percentages to nearest, as the seed shows (3.2872 → 03.29, 82.2377 → 82.24, 45.4388 → 45.44)', () => {
    expect(oldFormatPct(68936, 2097088)).toBe('03.29');
    expect(oldFormatPct(1294220, 1573756)).toBe('82.24');
    expect(oldFormatPct(952892, 2097088)).toBe('45.44');
    expect(oldFormatPct(360, 2097088)).toBe('00.02');
    expect(oldFormatPct(5, 10)).toBe('50.00');
    expect(oldFormatPct(10, 10)).toBe('100.00');
    expect(oldFormatPct(0, 0)).toBe('00.00');
    // Exact halves round up.
    expect(hundredthsOfPercent(1, 20000)).toBe(1); // 0.005 % = half a hundredth → 0.01 %
    expect(hundredthsOfPercent(1, 20001)).toBe(0);
  });

  it('adds mapped files to RegionUsageIsVAD and prints the Largest free region line', () => {
    const s = summaryFromSizes({
      isVad: 0x100000, free: 0x7f000000, image: 0x800000, stack: 0x100000, teb: 0x1000, heap: 0x200000,
      pageHeap: 0, peb: 0x1000, params: 0x1000, env: 0x1000, mapped: 0, privateBytes: 0, commit: 0, reserve: 0,
    });
    s.usage.mappedFile = { bytes: 0x40000 };
    s.totalBytes += 0x40000;
    s.busyBytes += 0x40000;
    s.largestFree = { base: 0x6b0b2000, bytes: 0x0203e000 };
    const out = formatAddressSummary(s);
    expect(out).toContain('     140000 (    1280) : ');
    expect(out).toMatch(/: RegionUsageIsVAD\n/);
    expect(out.trimEnd().split('\n').pop()).toBe('Largest free region: Base 6b0b2000 - Size 0203e000 (33016 KB)');
    expect(formatAddressSummary(s, { largestFree: false })).not.toContain('Largest free region');
  });
});

describe('new-format !address -summary', () => {
  const s: AddressSummary = {
    totalBytes: 0x7fff0000,
    busyBytes: 0x7fff0000 - 0x30000000,
    state: { commit: { bytes: 0x40000000, regions: 900 }, reserve: { bytes: 0x0fff0000, regions: 300 }, free: { bytes: 0x30000000, regions: 200 } },
    type: { private: { bytes: 0x3fff0000, regions: 700 }, mapped: { bytes: 0x8000000, regions: 100 }, image: { bytes: 0x8000000, regions: 400 } },
    usage: {
      free: { bytes: 0x30000000, regions: 200 }, heap: { bytes: 0x3ff00000, regions: 500 }, image: { bytes: 0x8000000, regions: 400 },
      other: { bytes: 0x80f0000, regions: 250 }, stack: { bytes: 0x3f000, regions: 49 }, peb: { bytes: 0x1000, regions: 1 },
    },
    largestFree: { base: 0x40000000, bytes: 0x10000000 },
  };

  it('puts the columns where WinDbg does (RgnCount ends at 43, hex at 61, "(" at 62, ")" at 74, %ofBusy ends at 83, %ofTotal at 92)', () => {
    const lines = formatAddressSummaryNew(s, { units: 'legacy' }).split('\n');
    const heap = lines.find((l) => l.startsWith('Heap '))!;
    expect(heap).toBe('Heap                                    500          3ff00000 (1023.000 Mb)  79.93%   49.95%');
    expect(heap.indexOf('500') + 3).toBe(43);
    expect(heap.indexOf('3ff00000') + 8).toBe(61);
    expect(heap[62]).toBe('(');
    expect(heap[74]).toBe(')');
    expect(heap.length).toBe(92);
    const free = lines.find((l) => l.startsWith('Free '))!;
    expect(free).toBe('Free                                    200          30000000 ( 768.000 Mb)           37.50%');
    expect(lines[0]).toBe('--- Usage Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal');
  });

  it('sorts rows by size, leaves zero rows out, maps canonical names, and prints Largest Region rows', () => {
    const out = formatAddressSummaryNew(s);
    const usage = out.split('\n\n')[0]!.split('\n').slice(1).map((l) => l.split(/ +/)[0]);
    expect(usage).toEqual(['Heap', 'Free', '<unknown>', 'Image', 'Stack', 'PEB']);
    expect(out).toContain('Stack                                    49             3f000 ( 252.000 kB)   0.02%    0.01%');
    const largest = out.trimEnd().split('\n').pop()!;
    expect(largest).toBe('Free                                        40000000          10000000 ( 256.000 MB)');
    expect(largest.indexOf('40000000') + 8).toBe(52);
    expect(largest.indexOf('10000000') + 8).toBe(70);
    expect(out).not.toContain('Protect Summary');
  });

  it('writes 64-bit sizes with a backtick and switches units at 1 MB, 1 GB and 1 TB', () => {
    expect(hex64Backtick(0x85c87000)).toBe('0`85c87000');
    expect(hex64Backtick(0x7df974541000)).toBe('7df9`74541000');
    expect(parseDebuggerHex('7df9`74541000')).toBe(0x7df974541000);
    expect(parseDebuggerHex('0x1f')).toBe(31);
    expect(parseDebuggerHex('12g')).toBeUndefined();
    expect(humanSize(0xfd000, 'legacy')).toBe('1012.000 kb');
    expect(humanSize(0x100000)).toBe('   1.000 MB');
    expect(humanSize(0x1c5000)).toBe('   1.770 MB');
    expect(humanSize(0x46725000, 'legacy')).toBe('   1.101 Gb');
    expect(humanSize(0x7df974541000)).toBe(' 125.974 TB');
    const x64 = formatAddressSummaryNew({ ...s, totalBytes: 0x7fffffff0000 });
    expect(x64).toContain('0`3ff00000 (1023.000 MB)');
  });
});
