// The seed document (three dumps of a service before, during and after peak hours) parses into
// three snapshots with every printed number exact, and the verdict is second-order.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWindbgText } from '../../src/windbg/parse.js';
import type { WindbgSnapshot } from '../../src/windbg/parse.js';
import { diagnoseSnapshots } from '../../src/windbg/series.js';

const SEED_PATH = new URL('../fixtures/seed-second-order.txt', import.meta.url);
const SEED = readFileSync(SEED_PATH, 'utf8');
const snapshots = parseWindbgText(SEED, 'seed-second-order.txt');

// [section, name, hex, KB, Pct(Tots), Pct(Busy)] as the seed prints them.
type Row = [string, string, string, number, string, string?];

const USAGE_NAMES = ['RegionUsageIsVAD', 'RegionUsageFree', 'RegionUsageImage', 'RegionUsageStack', 'RegionUsageTeb',
  'RegionUsageHeap', 'RegionUsagePageHeap', 'RegionUsagePeb', 'RegionUsageProcessParametrs', 'RegionUsageEnvironmentBlock'];

function usage(rows: Array<[string, number, string, string]>): Row[] {
  return rows.map(([hex, kb, tots, busy], i) => ['Usage', USAGE_NAMES[i]!, hex, kb, tots, busy]);
}

const PEAK_USAGE = usage([
  ['734d000', 118068, '05.63', '07.49'], ['1fd0f000', 521276, '24.86', '00.00'], ['4352000', 68936, '03.29', '04.37'],
  ['5c00000', 94208, '04.49', '05.98'], ['5c000', 368, '00.02', '00.02'], ['4efe3000', 1294220, '61.72', '82.13'],
  ['0', 0, '00.00', '00.00'], ['1000', 4, '00.00', '00.00'], ['1000', 4, '00.00', '00.00'], ['1000', 4, '00.00', '00.00'],
]);
const PEAK_TYPE: Row[] = [
  ['Type', '<free>', '1fd0f000', 521276, '24.86'], ['Type', 'MEM_IMAGE', '4352000', 68936, '03.29'],
  ['Type', 'MEM_MAPPED', 'b78000', 11744, '00.56'], ['Type', 'MEM_PRIVATE', '5b417000', 1495132, '71.30'],
];

const EXPECTED: Array<{ label: string; rows: Row[]; tot: [string, number, string, number] }> = [
  {
    label: 'Before peak hours',
    rows: [
      ...usage([
        ['734d000', 118068, '05.63', '07.50'], ['1ff11000', 523332, '24.96', '00.00'], ['4352000', 68936, '03.29', '04.38'],
        ['5a00000', 92160, '04.39', '05.86'], ['5a000', 360, '00.02', '00.02'], ['4efe3000', 1294220, '61.72', '82.24'],
        ['0', 0, '00.00', '00.00'], ['1000', 4, '00.00', '00.00'], ['1000', 4, '00.00', '00.00'], ['1000', 4, '00.00', '00.00'],
      ]),
      ['Type', '<free>', '1ff11000', 523332, '24.96'], ['Type', 'MEM_IMAGE', '4352000', 68936, '03.29'],
      ['Type', 'MEM_MAPPED', 'b78000', 11744, '00.56'], ['Type', 'MEM_PRIVATE', '5b215000', 1493076, '71.20'],
      ['State', 'MEM_COMMIT', '25e50000', 620864, '29.61'], ['State', 'MEM_FREE', '1ff11000', 523332, '24.96'],
      ['State', 'MEM_RESERVE', '3a28f000', 952892, '45.44'],
    ],
    tot: ['7fff0000', 2097088, '600df000', 1573756],
  },
  {
    label: 'During peak hours',
    rows: [
      ...PEAK_USAGE, ...PEAK_TYPE,
      ['State', 'MEM_COMMIT', '41498000', 1069664, '51.01'], ['State', 'MEM_FREE', '1fd0f000', 521276, '24.86'],
      ['State', 'MEM_RESERVE', '1ee49000', 506148, '24.14'],
    ],
    tot: ['7fff0000', 2097088, '602e1000', 1575812],
  },
  {
    label: 'After peak hours',
    rows: [
      ...PEAK_USAGE, ...PEAK_TYPE,
      ['State', 'MEM_COMMIT', '4505d000', 1130868, '53.93'], ['State', 'MEM_FREE', '1fd0f000', 521276, '24.86'],
      ['State', 'MEM_RESERVE', '1b284000', 444944, '21.22'],
    ],
    tot: ['7fff0000', 2097088, '602e1000', 1575812],
  },
];

// Heap 00310000 rows: Reserv Commit Virt Free (K), List, UCR, Virt blocks, Lock (hex), Fast; then the printed lines.
const HEAP_ROWS: Array<{ k: [number, number, number, number]; list: number; ucr: number; virtBlocks: number; lock: number; lines: Array<[string, number | undefined, number]> }> = [
  { k: [1255320, 512712, 1177236, 260583], list: 45362, ucr: 41898, virtBlocks: 2, lock: 0x3751a5,
    lines: [['external', 50, 45362], ['virtualAddress', 56, 41898], ['lockContention', undefined, 3625381]] },
  { k: [1255320, 961480, 1249548, 105378], list: 0, ucr: 16830, virtBlocks: 2, lock: 0x453093,
    lines: [['virtualAddress', 23, 16830], ['lockContention', undefined, 4534419]] },
  { k: [1255320, 1022648, 1224344, 772682], list: 264787, ucr: 17512, virtBlocks: 2, lock: 0x580634,
    lines: [['external', 75, 264787], ['virtualAddress', 16, 17512], ['lockContention', undefined, 5768756]] },
];

function snapshot(i: number): WindbgSnapshot {
  return snapshots[i]!;
}

describe('seed fixture', () => {
  it('is a byte-identical copy of the seed document', () => {
    const bytes = readFileSync(SEED_PATH);
    expect(bytes.length).toBe(7986);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('e52d317a710038b7190e53589b9850050d595cedec9ee94fc0a681fa89231a1c');
  });

  it('splits into three snapshots labelled by the headings, address and heap blocks paired by label', () => {
    expect(snapshots.map((s) => s.label)).toEqual(['Before peak hours', 'During peak hours', 'After peak hours']);
    for (const s of snapshots) {
      expect(s.file).toBe('seed-second-order.txt');
      expect(s.addressFormat).toBe('old');
      expect(s.lines.address).toBeDefined();
      expect(s.lines.heaps).toBeGreaterThan(s.lines.address!);
    }
    // The heap blocks come after all three address blocks in the document.
    expect(snapshot(0).lines.heaps!).toBeGreaterThan(snapshot(2).lines.address!);
  });
});

describe.each(EXPECTED.map((e, i) => [e.label, i] as const))('seed snapshot "%s"', (_label, i) => {
  const expected = EXPECTED[i]!;
  const s = snapshot(i);

  it('has every !address -summary row exactly as printed', () => {
    const got = s.printed.addressRows.map((r) => {
      const row: Row = [r.section, r.name, r.bytes.toString(16), r.kb!, r.pctOfTotal!];
      if (r.pctOfBusy !== undefined) row.push(r.pctOfBusy);
      return row;
    });
    expect(got).toEqual(expected.rows);
    for (const r of s.printed.addressRows) expect(r.bytes).toBe(r.kb! * 1024);
  });

  it('has the Tot/Busy line and fills the AddressSummary in bytes', () => {
    const [totHex, totKb, busyHex, busyKb] = expected.tot;
    expect(s.printed.addressTotals).toMatchObject({ totalBytes: parseInt(totHex, 16), totalKb: totKb, busyBytes: parseInt(busyHex, 16), busyKb });
    const a = s.address!;
    expect(a.totalBytes).toBe(0x7fff0000);
    expect(a.busyBytes).toBe(parseInt(busyHex, 16));
    const bytesOf = (section: string, name: string): number => parseInt(expected.rows.find((r) => r[0] === section && r[1] === name)![2], 16);
    expect(a.state.commit.bytes).toBe(bytesOf('State', 'MEM_COMMIT'));
    expect(a.state.reserve.bytes).toBe(bytesOf('State', 'MEM_RESERVE'));
    expect(a.state.free.bytes).toBe(bytesOf('State', 'MEM_FREE'));
    expect(a.type.image.bytes).toBe(bytesOf('Type', 'MEM_IMAGE'));
    expect(a.type.mapped.bytes).toBe(bytesOf('Type', 'MEM_MAPPED'));
    expect(a.type.private.bytes).toBe(bytesOf('Type', 'MEM_PRIVATE'));
    expect(a.usage.other?.bytes).toBe(bytesOf('Usage', 'RegionUsageIsVAD'));
    expect(a.usage.free?.bytes).toBe(bytesOf('Usage', 'RegionUsageFree'));
    expect(a.usage.image?.bytes).toBe(bytesOf('Usage', 'RegionUsageImage'));
    expect(a.usage.stack?.bytes).toBe(bytesOf('Usage', 'RegionUsageStack'));
    expect(a.usage.teb?.bytes).toBe(bytesOf('Usage', 'RegionUsageTeb'));
    expect(a.usage.heap?.bytes).toBe(bytesOf('Usage', 'RegionUsageHeap'));
    expect(a.usage.pageHeap?.bytes).toBe(0);
    expect(a.usage.peb?.bytes).toBe(0x1000);
    expect(a.usage.processParameters?.bytes).toBe(0x1000);
    expect(a.usage.environmentBlock?.bytes).toBe(0x1000);
    expect(Object.keys(a.usageByName!)).toEqual(USAGE_NAMES);
    expect(a.largestFree).toBeUndefined();
  });

  it('has every !heap -s field of heap 00310000 and the lines under it', () => {
    const h = HEAP_ROWS[i]!;
    expect(s.lfhKey).toBe('0x07262959');
    expect(s.heapsOmitted).toBe(true);
    expect(s.arch).toBe('x86');
    expect(s.segmentHeaps).toEqual([]);
    expect(s.heaps).toHaveLength(1);
    const heap = s.heaps[0]!;
    expect(heap).toMatchObject({
      address: 0x00310000,
      flags: 0x00001002,
      reservedBytes: h.k[0] * 1024,
      committedBytes: h.k[1] * 1024,
      virtBytes: h.k[2] * 1024,
      freeBytes: h.k[3] * 1024,
      busyBytes: (h.k[1] - h.k[3]) * 1024,
      freeBlocks: h.list,
      uncommittedRanges: h.ucr,
      virtualBlocks: h.virtBlocks,
      lockContention: h.lock,
      fastHeap: 'L',
    });
    expect(s.printed.heapLines.map((l) => [l.kind, l.pct, l.count])).toEqual(h.lines);
    expect(s.printed.heapLines.every((l) => l.heap === '00310000')).toBe(true);
    const printedExt = h.lines.find((l) => l[0] === 'external')?.[1];
    const printedVa = h.lines.find((l) => l[0] === 'virtualAddress')?.[1];
    // During peak hours prints no External line: Free/Commit is 10.96 %, truncated to 10, not above 10.
    expect(heap.externalFragmentationPct).toBe(printedExt ?? 10);
    expect(heap.virtualAddressFragmentationPct).toBe(printedVa);
  });
});

describe('seed warnings and verdict', () => {
  it('warns only about the lost <free> label, naming its line', () => {
    expect(snapshot(0).warnings).toEqual([]);
    expect(snapshot(2).warnings).toEqual([]);
    const lines = SEED.split('\n');
    const lostLine = lines.findIndex((l, k) => k > 60 && /^\s*1fd0f000 \( 521276\) : 24\.86% :\s*$/.test(l.replace(/\u00a0/g, ' '))) + 1;
    expect(lostLine).toBeGreaterThan(0);
    expect(snapshot(1).warnings).toEqual([
      `seed-second-order.txt:${lostLine}: Type SUMMARY row has no label; taken as <free>, the label this section is missing`,
    ]);
  });

  it('is a second-order leak: ~500 MB more committed, reservation unchanged, free grew to 75 % of commit', () => {
    const d = diagnoseSnapshots(snapshots);
    expect(d.kind).toBe('second-order');
    const committedGrowth = (1130868 - 620864) * 1024;
    const busyBefore = (620864 - 260583) * 1024;
    const busyAfter = (1130868 - 772682) * 1024;
    expect(busyAfter).toBeLessThan(busyBefore);
    expect(d.retainedBytes).toBe(committedGrowth);
    expect(d.retainedBytes / (1024 * 1024)).toBeCloseTo(498, 0);
    expect(d.summary).toContain('1255320 K');
    expect(d.summary).toMatch(/reservation unchanged at 1255320 K/);
    expect(d.summary).toContain('Free 260583 K → 772682 K (75 % of Commit)');
    expect(d.summary).toContain('+498.1 MiB');
    expect(d.causes).toEqual([
      { mechanism: 'free blocks still committed', bytes: 772682 * 1024, layer: 'heap' },
      { mechanism: 'committed growth with unchanged reservation', bytes: (1022648 - 512712) * 1024, layer: 'virtual memory' },
    ]);
  });
});
