// !heap -s formatter: row widths, fragmentation percentages with truncation, the print
// conditions of nt-heap.md §4.3, the x64 layout, the banner and the segment heap table.
import { describe, expect, it } from 'vitest';
import {
  formatHeapRow, formatHeapSummary, fragmentationLineDecision, SEGMENT_HEAP_SIGNATURE,
} from '../../src/report/heap-summary.js';
import type { HeapCounters } from '../../src/report/types.js';
import { externalFragmentationPct, virtualAddressFragmentationPct } from '../../src/report/windbg-numbers.js';

const K = 1024;

function heap(address: number, flags: number, reservK: number, commitK: number, virtK: number, freeK: number,
  list: number, ucr: number, virtBlocks: number, lock: number, fast: string): HeapCounters {
  return {
    address, flags, reservedBytes: reservK * K, committedBytes: commitK * K, virtBytes: virtK * K, freeBytes: freeK * K,
    freeBlocks: list, uncommittedRanges: ucr, virtualBlocks: virtBlocks, lockContention: lock, fastHeap: fast,
    busyBytes: (commitK - freeK) * K, externalFragmentationPct: 0, virtualAddressFragmentationPct: 0,
  };
}

// The seed's three rows of heap 00310000 (before, during, after peak hours).
const SEED_ROWS = [
  heap(0x00310000, 0x1002, 1255320, 512712, 1177236, 260583, 45362, 41898, 2, 0x3751a5, 'L'),
  heap(0x00310000, 0x1002, 1255320, 961480, 1249548, 105378, 0, 16830, 2, 0x453093, 'L'),
  heap(0x00310000, 0x1002, 1255320, 1022648, 1224344, 772682, 264787, 17512, 2, 0x580634, 'L'),
];

function linesUnder(h: HeapCounters): string[] {
  return formatHeapSummary([h], { arch: 'x86' }).split('\n').slice(3, -2).slice(1);
}

describe('fragmentation percentages', () => {
  it('truncate: Free/Commit 50.82 → 50, 10.96 → 10, 75.56 → 75; 1 − Commit/Virt 56.45 → 56, 23.05 → 23, 16.47 → 16', () => {
    expect(SEED_ROWS.map((h) => externalFragmentationPct(h.freeBytes, h.committedBytes))).toEqual([50, 10, 75]);
    expect(SEED_ROWS.map((h) => virtualAddressFragmentationPct(h.virtBytes, h.committedBytes))).toEqual([56, 23, 16]);
  });

  it('handle empty heaps and Virt below Commit', () => {
    expect(externalFragmentationPct(0, 0)).toBe(0);
    expect(virtualAddressFragmentationPct(0, 0)).toBe(0);
    expect(virtualAddressFragmentationPct(60 * K, 64 * K)).toBe(0);
    expect(externalFragmentationPct(99, 100)).toBe(99);
    expect(externalFragmentationPct(2 ** 46, 2 ** 47 - 4096)).toBe(50);
  });
});

describe('the seed rows print the seed\'s lines', () => {
  it('before peak hours: External 50 %, VA 56 %, Lock contention', () => {
    expect(linesUnder(SEED_ROWS[0]!)).toEqual([
      '    External fragmentation  50 % (45362 free blocks)',
      '    Virtual address fragmentation  56 % (41898 uncommited ranges)',
      '    Lock contention  3625381 ',
    ]);
  });

  it('during peak hours: VA 23 % only (External is 10 %, not above 10)', () => {
    expect(linesUnder(SEED_ROWS[1]!)).toEqual([
      '    Virtual address fragmentation  23 % (16830 uncommited ranges)',
      '    Lock contention  4534419 ',
    ]);
  });

  it('after peak hours: External 75 %, VA 16 %', () => {
    expect(linesUnder(SEED_ROWS[2]!)).toEqual([
      '    External fragmentation  75 % (264787 free blocks)',
      '    Virtual address fragmentation  16 % (17512 uncommited ranges)',
      '    Lock contention  5768756 ',
    ]);
  });

  it('the rows carry the seed\'s values; numbers wider than their field push the rest right', () => {
    expect(formatHeapRow(SEED_ROWS[0]!, 'x86')).toBe('00310000 00001002 1255320 512712 1177236 260583 45362 41898    2 3751a5   L  ');
    expect(formatHeapRow(SEED_ROWS[2]!, 'x86').split(/ +/)).toEqual(['00310000', '00001002', '1255320', '1022648', '1224344', '772682', '264787', '17512', '2', '580634', 'L', '']);
  });
});

describe('print conditions (nt-heap.md §4.3)', () => {
  it('External needs Commit > 1 MB and pct > 10', () => {
    expect(fragmentationLineDecision(heap(0, 0, 2048, 1024, 2048, 900, 5, 1, 0, 0, '')).external).toBe(false); // exactly 1 MB
    expect(fragmentationLineDecision(heap(0, 0, 2048, 1028, 2048, 900, 5, 1, 0, 0, '')).external).toBe(true);
    expect(fragmentationLineDecision(heap(0, 0, 20000, 10000, 20000, 1099, 5, 1, 0, 0, '')).external).toBe(false); // 10.99 → 10
    expect(fragmentationLineDecision(heap(0, 0, 20000, 10000, 20000, 1100, 5, 1, 0, 0, '')).external).toBe(true); // 11
  });

  it('VA needs UCR > 100 and pct > 10; Lock contention needs more than 1048576', () => {
    expect(fragmentationLineDecision(heap(0, 0, 1000, 100, 1000, 0, 0, 100, 0, 0, '')).virtualAddress).toBe(false);
    expect(fragmentationLineDecision(heap(0, 0, 1000, 100, 1000, 0, 0, 101, 0, 0, '')).virtualAddress).toBe(true);
    expect(fragmentationLineDecision(heap(0, 0, 1000, 900, 1000, 0, 0, 500, 0, 0, '')).virtualAddress).toBe(false); // 10 %
    expect(fragmentationLineDecision(heap(0, 0, 1000, 100, 1000, 0, 0, 0, 0, 1048576, '')).lockContention).toBe(false);
    expect(fragmentationLineDecision(heap(0, 0, 1000, 100, 1000, 0, 0, 0, 0, 1048577, '')).lockContention).toBe(true);
  });
});

describe('whole table', () => {
  const heaps = [
    heap(0x012e0000, 0x1002, 776448, 118128, 776448, 109939, 746, 532, 0, 0, 'LFH'),
    heap(0x00010000, 0x8000, 64, 4, 64, 2, 1, 1, 0, 0, ''),
  ];

  it('x86: LFH Key, Termination, header lines, rules, rows in order with their lines', () => {
    const out = formatHeapSummary(heaps, { arch: 'x86', lfhKey: 0x6573276f, terminationOnCorruption: true });
    expect(out.split('\n')).toEqual([
      'LFH Key                   : 0x6573276f',
      'Termination on corruption : ENABLED',
      '  Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast ',
      '                    (k)     (k)    (k)     (k) length      blocks cont. heap ',
      '-'.repeat(77),
      '012e0000 00001002  776448 118128 776448 109939   746   532    0      0   LFH',
      '    External fragmentation  93 % (746 free blocks)',
      '    Virtual address fragmentation  84 % (532 uncommited ranges)',
      '00010000 00008000      64      4     64      2     1     1    0      0      ',
      '-'.repeat(77),
      '',
    ]);
  });

  it('x64: 16-digit addresses, 8 more spaces before the headers and 8 more dashes; banner and segment table', () => {
    const x64 = [heap(0x218f1710000, 0x2, 65320, 14712, 64928, 5575, 163, 16, 2, 0xc, 'LFH')];
    const out = formatHeapSummary(x64, {
      arch: 'x64', banner: true, lfhKey: '0xa893144b6b979747',
      segmentHeaps: [{ address: 0x2531eb90000, signature: SEGMENT_HEAP_SIGNATURE, flags: 0, listIndex: 1, reservedBytes: 8276 * K, committedBytes: 6832 * K }],
    });
    const lines = out.split('\n');
    expect(lines).toContain('00000218f1710000 00000002   65320  14712  64928   5575   163    16    2      c   LFH');
    expect(lines).toContain('    External fragmentation  37 % (163 free blocks)');
    expect(lines).toContain('          Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast ');
    expect(lines).toContain('-'.repeat(85));
    const banner = lines.indexOf(' '.repeat(46) + 'NT HEAP STATS BELOW');
    expect(lines[banner - 1]).toBe('*'.repeat(120));
    expect(lines[banner + 1]).toBe('*'.repeat(120));
    const segRow = lines.find((l) => l.includes('ddeeddee'))!;
    expect(segRow.trim().split(/ +/)).toEqual(['000002531eb90000', 'ddeeddee', '0', '1', '8276', '6832']);
    expect(lines.indexOf(segRow)).toBeLessThan(banner);
  });
});
