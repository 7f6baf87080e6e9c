// Format → parse gives back the same numbers, without a single warning: for generated address
// summaries (old and new layouts, 32- and 64-bit) and heap tables, and for the seed's dumps.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddressSummary, formatAddressSummaryNew } from '../../src/report/address-summary.js';
import { formatHeapSummary, SEGMENT_HEAP_SIGNATURE } from '../../src/report/heap-summary.js';
import type { SegmentHeapSummary } from '../../src/report/heap-summary.js';
import { addressSummary, heapArb } from './gen.js';
import { parseWindbgText } from '../../src/windbg/parse.js';

const RUNS = { numRuns: 150 };

function only(snaps: ReturnType<typeof parseWindbgText>): ReturnType<typeof parseWindbgText>[number] {
  expect(snaps).toHaveLength(1);
  expect(snaps[0]!.warnings).toEqual([]);
  return snaps[0]!;
}

describe('round trip: !address -summary', () => {
  it('old layout (32-bit sizes): every number comes back, mapped files folded into IsVAD', () => {
    fc.assert(fc.property(addressSummary(0x3000, false), (s) => {
      const parsed = only(parseWindbgText(formatAddressSummary(s), 'gen.txt')).address!;
      expect(parsed.totalBytes).toBe(s.totalBytes);
      expect(parsed.busyBytes).toBe(s.busyBytes);
      expect(parsed.state).toEqual(s.state);
      expect(parsed.type).toEqual(s.type);
      expect(parsed.largestFree).toEqual(s.largestFree);
      const { mappedFile, other, ...rest } = s.usage;
      expect(parsed.usage).toEqual({
        ...rest, other: { bytes: other!.bytes + mappedFile!.bytes }, processParameters: { bytes: 0 }, environmentBlock: { bytes: 0 },
      });
    }), RUNS);
  });

  it('new layout, 32- and 64-bit, both unit spellings: sizes and region counts come back', () => {
    const arb = fc.tuple(fc.constantFrom<'x86' | 'x64'>('x86', 'x64'), fc.constantFrom<'legacy' | 'modern'>('legacy', 'modern'))
      .chain(([arch, units]) => addressSummary(arch === 'x64' ? 2 ** 33 : 0x3000, true).map((s) => ({ s, arch, units })));
    fc.assert(fc.property(arb, ({ s, arch, units }) => {
      const text = formatAddressSummaryNew(s, { arch, units });
      if (arch === 'x64') expect(text).toContain('`');
      const parsed = only(parseWindbgText(text, 'gen.txt')).address!;
      expect(parsed.totalBytes).toBe(s.totalBytes);
      expect(parsed.busyBytes).toBe(s.busyBytes);
      expect(parsed.state).toEqual(s.state);
      expect(parsed.type).toEqual(s.type);
      expect(parsed.usage).toEqual(s.usage);
      expect(parsed.largestFree).toEqual(s.largestFree);
    }), RUNS);
  });

  it.each([['new-format-x64.txt', 'x64', 'modern'], ['new-format-x86.txt', 'x86', 'legacy']] as const)(
    'a parsed new-format summary (%s) formats back to the same text', (name, arch, units) => {
      const text = readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
      const lines = text.split('\n');
      const start = lines.findIndex((l) => l.startsWith('--- Usage Summary'));
      const largest = lines.findIndex((l) => l.startsWith('--- Largest Region by Usage'));
      const end = lines.findIndex((l, k) => k > largest && l === '') - 1;
      const block = lines.slice(start, end + 1).join('\n') + '\n';
      const s = parseWindbgText(text, name)[0]!;
      expect(formatAddressSummaryNew(s.address!, { arch, units })).toBe(block);
    });
});

describe('round trip: !heap -s', () => {
  it('x86 and x64 tables, with banner, LFH key and segment heaps: every field comes back', () => {
    const segment: fc.Arbitrary<SegmentHeapSummary> = fc.record({
      address: fc.integer({ min: 1, max: 0x7fff_ffff }).map((n) => n * 0x10000),
      signature: fc.constant(SEGMENT_HEAP_SIGNATURE),
      flags: fc.constantFrom(0, 1),
      listIndex: fc.integer({ min: 0, max: 40 }),
      reservedBytes: fc.integer({ min: 100, max: 90000 }).map((k) => k * 1024),
      committedBytes: fc.integer({ min: 0, max: 100 }).map((k) => k * 1024),
    });
    const arb = fc.constantFrom<'x86' | 'x64'>('x86', 'x64').chain((arch) => fc.record({
      arch: fc.constant(arch),
      heaps: fc.array(heapArb(arch), { minLength: 1, maxLength: 6 }),
      segments: arch === 'x64' ? fc.array(segment, { maxLength: 3 }) : fc.constant([]),
      banner: fc.boolean(),
      key: fc.integer({ min: 0, max: 0xffffffff }),
    }));
    fc.assert(fc.property(arb, ({ arch, heaps, segments, banner, key }) => {
      const text = formatHeapSummary(heaps, { arch, banner, lfhKey: key, segmentHeaps: segments, terminationOnCorruption: banner });
      const s = only(parseWindbgText(`0:000> !heap -s\n${text}`, 'gen.txt'));
      expect(s.heaps).toEqual(heaps);
      expect(s.segmentHeaps).toEqual(segments);
      expect(s.lfhKey).toBe(`0x${key.toString(16).padStart(8, '0')}`);
      expect(s.arch).toBe(arch);
      if (banner) expect(s.terminationOnCorruption).toBe(true);
    }), RUNS);
  });

  it('the seed\'s dumps: parse → format → parse gives the same snapshots', () => {
    const seed = readFileSync(new URL('../fixtures/seed-second-order.txt', import.meta.url), 'utf8');
    const first = parseWindbgText(seed, 'seed.txt');
    const text = first.map((s) => `${s.label}:\n\n${formatAddressSummary(s.address!)}\n0:000> !heap -s\n${formatHeapSummary(s.heaps, { arch: 'x86', lfhKey: s.lfhKey! })}\n`).join('\n');
    const again = parseWindbgText(text, 'seed.txt');
    expect(again.flatMap((s) => s.warnings)).toEqual([]);
    expect(again.map((s) => [s.label, s.address, s.heaps])).toEqual(first.map((s) => [s.label, s.address, s.heaps]));
  });
});
