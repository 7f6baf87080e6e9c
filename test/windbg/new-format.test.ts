// The hand-written fixtures: new-format !address -summary in 32-bit (legacy kb/Mb/Gb units) and
// 64-bit (backtick hex) layouts, Win7-style and Win10-style !heap -s (banner, segment heaps),
// and an old-format first-order leak.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWindbgText } from '../../src/windbg/parse.js';
import { diagnoseSnapshots } from '../../src/windbg/series.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

const K = 1024;

describe('new-format-x86.txt', () => {
  const snaps = parseWindbgText(fixture('new-format-x86.txt'), 'new-format-x86.txt');

  it('holds two snapshots labelled by their headings, with no warnings', () => {
    expect(snaps.map((s) => s.label)).toEqual(['Monday 09:00', 'Monday 18:00']);
    expect(snaps.map((s) => s.addressFormat)).toEqual(['new', 'new']);
    expect(snaps.flatMap((s) => s.warnings)).toEqual([]);
  });

  it('reads every row of the first !address -summary as printed', () => {
    const rows = snaps[0]!.printed.addressRows;
    const summary = rows.filter((r) => r.section !== 'Largest').map((r) => [r.name, r.regions, r.bytes.toString(16), r.human, r.pctOfBusy, r.pctOfTotal]);
    expect(summary).toEqual([
      ['Free', 301, '5525e000', '1.330 Gb', undefined, '66.52'],
      ['Heap', 212, '12a4c000', '298.297 Mb', '43.51', '14.57'],
      ['<unknown>', 640, 'b3f0000', '179.938 Mb', '26.25', '8.79'],
      ['Image', 486, '9d61000', '157.379 Mb', '22.96', '7.68'],
      ['Stack', 96, '3000000', '48.000 Mb', '7.00', '2.34'],
      ['Other', 31, '1c4000', '1.766 Mb', '0.26', '0.09'],
      ['TEB', 48, '30000', '192.000 kb', '0.03', '0.01'],
      ['PEB', 1, '1000', '4.000 kb', '0.00', '0.00'],
      ['MEM_PRIVATE', 871, '1b4b1000', '436.691 Mb', '63.70', '21.32'],
      ['MEM_IMAGE', 486, '9d61000', '157.379 Mb', '22.96', '7.68'],
      ['MEM_MAPPED', 157, '5b80000', '91.500 Mb', '13.35', '4.47'],
      ['MEM_FREE', 301, '5525e000', '1.330 Gb', undefined, '66.52'],
      ['MEM_COMMIT', 1102, '1a8e3000', '424.887 Mb', '61.98', '20.75'],
      ['MEM_RESERVE', 412, '104af000', '260.684 Mb', '38.02', '12.73'],
      ['PAGE_READWRITE', 560, '10d9a000', '269.602 Mb', '39.33', '13.16'],
      ['PAGE_EXECUTE_READ', 118, '6a3b000', '106.230 Mb', '15.50', '5.19'],
      ['PAGE_READONLY', 290, '2f14000', '47.078 Mb', '6.87', '2.30'],
      ['PAGE_WRITECOPY', 47, '12e000', '1.180 Mb', '0.17', '0.06'],
      ['PAGE_EXECUTE_READWRITE', 39, '9c000', '624.000 kb', '0.09', '0.03'],
      ['PAGE_READWRITE|PAGE_GUARD', 48, '30000', '192.000 kb', '0.03', '0.01'],
    ]);
    const largest = rows.filter((r) => r.section === 'Largest').map((r) => [r.name, r.base!.toString(16), r.bytes.toString(16), r.human]);
    expect(largest).toEqual([
      ['Heap', '560000', 'fe00000', '254.000 Mb'], ['<unknown>', '3a2f0000', '4000000', '64.000 Mb'],
      ['Image', '6f810000', '1a3c000', '26.234 Mb'], ['Free', '3e2f0000', 'c800000', '200.000 Mb'],
      ['Stack', '70000', '100000', '1.000 Mb'], ['Other', '7efb0000', '23000', '140.000 kb'],
      ['TEB', '7efda000', '1000', '4.000 kb'], ['PEB', '7efde000', '1000', '4.000 kb'],
    ]);
  });

  it('fills the AddressSummary: totals, regions, canonical usage, protect, largest free', () => {
    const a = snaps[0]!.address!;
    expect(a.totalBytes).toBe(0x7fff0000);
    expect(a.busyBytes).toBe(0x7fff0000 - 0x5525e000);
    expect(a.state).toEqual({ commit: { bytes: 0x1a8e3000, regions: 1102 }, reserve: { bytes: 0x104af000, regions: 412 }, free: { bytes: 0x5525e000, regions: 301 } });
    expect(a.type).toEqual({ private: { bytes: 0x1b4b1000, regions: 871 }, mapped: { bytes: 0x5b80000, regions: 157 }, image: { bytes: 0x9d61000, regions: 486 } });
    // <unknown> and Other share the canonical `other` slot; usageByName keeps them apart.
    expect(a.usage.other).toEqual({ bytes: 0xb3f0000 + 0x1c4000, regions: 671 });
    expect(a.usage.heap).toEqual({ bytes: 0x12a4c000, regions: 212 });
    expect(a.usageByName!['Other']).toEqual({ bytes: 0x1c4000, regions: 31 });
    expect(Object.keys(a.protect!)).toEqual(['PAGE_READWRITE', 'PAGE_EXECUTE_READ', 'PAGE_READONLY', 'PAGE_WRITECOPY', 'PAGE_EXECUTE_READWRITE', 'PAGE_READWRITE|PAGE_GUARD']);
    expect(a.largestFree).toEqual({ base: 0x3e2f0000, bytes: 0xc800000 });
    expect(snaps[1]!.address!.state.commit.bytes).toBe(0x221e3000);
  });

  it('reads the Win7-style !heap -s with Termination on corruption', () => {
    const [morning, evening] = snaps;
    expect(morning!.lfhKey).toBe('0x4a7c21d3');
    expect(morning!.terminationOnCorruption).toBe(true);
    expect(morning!.heapsOmitted).toBe(false);
    expect(morning!.heaps.map((h) => [h.address!.toString(16), h.reservedBytes / K, h.committedBytes / K, h.freeBytes / K, h.freeBlocks, h.uncommittedRanges, h.lockContention, h.fastHeap]))
      .toEqual([['560000', 260096, 98304, 20480, 1204, 38, 0, 'LFH'], ['a20000', 1088, 312, 9, 6, 2, 0, 'LFH'], ['b90000', 64, 12, 2, 1, 1, 0, ''], ['1f40000', 16384, 6144, 5120, 87, 13, 0x1f, 'LFH']]);
    expect(evening!.printed.heapLines.map((l) => [l.heap, l.kind, l.pct, l.count])).toEqual([
      ['00560000', 'external', 64, 18422], ['00560000', 'virtualAddress', 14, 142], ['00560000', 'lockContention', undefined, 1784321],
      ['01f40000', 'external', 83, 87],
    ]);
  });

  it('diagnoses second-order: 121 MB more committed, the program holds 1 MB more', () => {
    const d = diagnoseSnapshots(snaps);
    expect(d.kind).toBe('second-order');
    expect(d.retainedBytes).toBe((123904 - 1024) * K);
    expect(d.summary).toContain('heap 00560000: reservation unchanged at 260096 K');
  });
});

describe('new-format-x64.txt', () => {
  const snaps = parseWindbgText(fixture('new-format-x64.txt'), 'new-format-x64.txt');

  it('takes its labels from Markdown headings and reads backtick hex', () => {
    expect(snaps.map((s) => s.label)).toEqual(['Before load test', 'After load test']);
    expect(snaps.flatMap((s) => s.warnings)).toEqual([]);
    const a = snaps[0]!.address!;
    expect(a.totalBytes).toBe(0x7fffffff0000);
    expect(a.state.free).toEqual({ bytes: 0x7dfedb74c000, regions: 262 });
    expect(a.state.reserve).toEqual({ bytes: 0x201172e1000, regions: 290 });
    expect(a.type.mapped).toEqual({ bytes: 0x20006f30000, regions: 109 });
    expect(a.usageByName!['<unknown>']).toEqual({ bytes: 0x2010f8c4000, regions: 402 });
    expect(a.protect!['PAGE_READWRITE | PAGE_GUARD']).toEqual({ bytes: 0x63000, regions: 21 });
    expect(a.largestByUsage!['Free']).toEqual({ base: 0x1c2b6a40000, bytes: 0x7a1c55a60000 });
    const unknownRow = snaps[0]!.printed.addressRows.find((r) => r.name === '<unknown>' && r.section === 'Usage')!;
    expect([unknownRow.human, unknownRow.pctOfBusy, unknownRow.pctOfTotal]).toEqual(['2.004 TB', '99.98', '1.57']);
  });

  it('reads the segment heap table, the NT HEAP STATS BELOW banner and the x64 NT heap rows', () => {
    const s = snaps[0]!;
    expect(s.arch).toBe('x64');
    expect(s.lfhKey).toBe('0x8c51e3d9a0b47f12');
    expect(s.segmentHeaps).toEqual([
      { address: 0x1c2a3a50000, signature: 0xddeeddee, flags: 0, listIndex: 1, reservedBytes: 8276 * K, committedBytes: 6912 * K },
      { address: 0x1c2a3980000, signature: 0xddeeddee, flags: 0, listIndex: 3, reservedBytes: 1108 * K, committedBytes: 844 * K },
    ]);
    expect(s.heaps.map((h) => h.address)).toEqual([0x1c2a3d00000, 0x1c2a3b90000, 0x1c2a5a20000]);
    expect(s.heaps[0]).toMatchObject({ reservedBytes: 65280 * K, committedBytes: 30720 * K, virtBytes: 64928 * K, freeBytes: 4096 * K, freeBlocks: 233, uncommittedRanges: 19, virtualBlocks: 3, lockContention: 0x2c, externalFragmentationPct: 13, virtualAddressFragmentationPct: 52 });
    expect(s.printed.heapLines).toEqual([{ line: expect.any(Number), heap: '000001c2a3d00000', kind: 'external', pct: 13, count: 233 }]);
    expect(snaps[1]!.segmentHeaps.map((h) => h.committedBytes / K)).toEqual([7040, 852]);
  });

  it('diagnoses none: 2 MB more committed is below the 5 % threshold', () => {
    const d = diagnoseSnapshots(snaps);
    expect(d.kind).toBe('none');
    expect(d.summary).toMatch(/^none: no significant growth/);
  });
});

describe('first-order-leak.txt', () => {
  const snaps = parseWindbgText(fixture('first-order-leak.txt'), 'first-order-leak.txt');

  it('holds three old-format snapshots with Largest free region lines and no warnings', () => {
    expect(snaps.map((s) => s.label)).toEqual(['Dump 1 (10:00)', 'Dump 2 (12:00)', 'Dump 3 (14:00)']);
    expect(snaps.flatMap((s) => s.warnings)).toEqual([]);
    expect(snaps.map((s) => s.address!.largestFree)).toEqual([
      { base: 0x41c20000, bytes: 0x1d3e0000 }, { base: 0x39c20000, bytes: 0x153e0000 }, { base: 0x31c20000, bytes: 0x0d3e0000 },
    ]);
    expect(snaps.map((s) => s.heaps[0]!.committedBytes / K)).toEqual([102400, 204800, 307200]);
  });

  it('diagnoses first-order: busy grows by about 198 MB and stays', () => {
    const d = diagnoseSnapshots(snaps);
    expect(d.kind).toBe('first-order');
    expect(d.retainedBytes).toBe((307200 - 6144 - (102400 - 4096)) * K);
    expect(d.summary).toContain('reservation 130048 K → 392192 K');
  });
});
