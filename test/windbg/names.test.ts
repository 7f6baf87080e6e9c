// Names from a dump are data, never JavaScript properties: a usage, protection or region named
// `__proto__` or `constructor` is a row like any other. Before, such rows were dropped in silence
// (and an !address listing added their bytes to Object.prototype). Found while auditing issue 18's
// point 6 (names looked up safely); the fix is in the readers' tables (src/windbg/address-*.ts).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWindbgText } from '../../src/windbg/parse.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

afterEach(() => {
  // Nothing reached the prototype every object shares.
  expect(Object.hasOwn(Object.prototype, 'bytes')).toBe(false);
  expect(Object.hasOwn(Object, 'bytes')).toBe(false);
});

describe.each(NAMES)('a dump name %s', (name) => {
  it('in an old !address -summary Usage table', () => {
    const text = fixture('seed-second-order.txt').replaceAll('RegionUsageTeb', name);
    const [first] = parseWindbgText(text, 'dump.txt');
    const byName = first!.address!.usageByName!;
    expect(Object.hasOwn(byName, name)).toBe(true);
    expect(byName[name]!.bytes).toBe(0x5a000);
  });

  it('in a new !address -summary: Usage, Protect and Largest Region tables', () => {
    const text = fixture('new-format-x64.txt').replace(/^Stack {5}/gm, name.padEnd(10)).replace(/^PAGE_WRITECOPY/m, name.padEnd(14));
    const [first] = parseWindbgText(text, 'dump.txt');
    const a = first!.address!;
    expect(Object.hasOwn(a.usageByName!, name)).toBe(true);
    expect(a.usageByName![name]!.bytes).toBe(0x01f80000);
    expect(Object.hasOwn(a.largestByUsage!, name)).toBe(true);
    expect(a.largestByUsage![name]!.bytes).toBe(0x80000);
    expect(Object.hasOwn(a.protect!, name)).toBe(true);
    expect(a.protect![name]!.bytes).toBe(0x135000);
  });

  it('in an !address listing: every region counted under its usage', () => {
    const listing = [
      '0:000> !address', '',
      '  BaseAddr EndAddr+1 RgnSize     Type       State                 Protect             Usage',
      '-------------------------------------------------------------------------------------------',
      '*        0    10000    10000             MEM_FREE    PAGE_NOACCESS                      Free',
      `*    10000    20000    10000 MEM_MAPPED  MEM_COMMIT  PAGE_READWRITE                     ${name}`,
      `*    20000    30000    10000 MEM_MAPPED  MEM_COMMIT  PAGE_READWRITE                     ${name}`,
      '*    30000    40000    10000 MEM_PRIVATE MEM_COMMIT  PAGE_READWRITE                     Heap', '',
    ].join('\n');
    const [first] = parseWindbgText(listing, 'dump.txt');
    const byUsage = first!.regions!.byUsage;
    expect(first!.regions!.count).toBe(4);
    expect(Object.hasOwn(byUsage, name)).toBe(true);
    expect(byUsage[name]).toEqual({ bytes: 0x20000, regions: 2 });
    expect(Object.values(byUsage).reduce((n, u) => n + (u.regions ?? 0), 0)).toBe(4);
  });
});
