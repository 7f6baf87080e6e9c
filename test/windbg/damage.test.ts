// Copy/paste damage parses the same as the clean text; malformed text is an InputError naming
// file and line; numbers that disagree are warnings naming the line; the splitting rule.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseWindbgFiles, parseWindbgText, readWindbgText } from '../../src/windbg/parse.js';
import { diagnoseSnapshots } from '../../src/windbg/series.js';
import type { WindbgSnapshot } from '../../src/windbg/parse.js';

const FIXTURES = ['seed-second-order.txt', 'new-format-x86.txt', 'new-format-x64.txt', 'first-order-leak.txt'];

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

/** What must survive damage: every number and name, not the printed spacing. */
function essence(snaps: WindbgSnapshot[]): unknown {
  return snaps.map((s) => ({
    label: s.label, address: s.address, heaps: s.heaps, segmentHeaps: s.segmentHeaps, heapsOmitted: s.heapsOmitted,
    lfhKey: s.lfhKey, arch: s.arch, printed: s.printed, lines: s.lines, warnings: s.warnings.length,
  }));
}

const DAMAGE: Record<string, (text: string) => string> = {
  'CRLF line ends': (t) => t.replace(/\n/g, '\r\n'),
  'tabs for runs of spaces': (t) => t.replace(/ {2,}/g, '\t'),
  'collapsed spacing, no indentation': (t) => t.replace(/[ \u00a0]+/g, ' ').replace(/^ /gm, ''),
  'no-break spaces everywhere': (t) => t.replace(/ /g, '\u00a0'),
  'other debugger prompts and empty prompt lines': (t) => t.replace(/^0:000> (.*)$/gm, '0:027:x86> $1\n0:027:x86>').replace(/\n0:027:x86>$/gm, '\n0:027:x86> '),
  'trailing spaces and […] for [...]': (t) => t.replace(/\n/g, '   \n').replace(/\[\.\.\.\]/g, '[…]'),
  'all of it at once': (t) => t.replace(/ {2,}/g, '\t').replace(/\[\.\.\.\]/g, '[…]').replace(/\n/g, ' \r\n'),
};

describe.each(FIXTURES)('damaged copies of %s', (name) => {
  const clean = fixture(name);
  const expected = essence(parseWindbgText(clean, name));
  it.each(Object.keys(DAMAGE))('%s parse the same', (kind) => {
    const damaged = DAMAGE[kind]!(clean);
    expect(damaged).not.toBe(clean);
    const got = parseWindbgText(damaged, name);
    if (kind.includes('prompt')) {
      // Extra prompt lines shift line numbers; compare without them.
      const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'line' || k === 'lines' ? undefined : x)));
      expect(strip(essence(got))).toEqual(strip(expected));
    } else {
      expect(essence(got)).toEqual(expected);
    }
  });
});

function errorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('no error');
}

/** The fixture with line `no` (1-based) changed by `edit`. */
function editLine(text: string, no: number, edit: (line: string) => string): string {
  const lines = text.split('\n');
  lines[no - 1] = edit(lines[no - 1]!);
  return lines.join('\n');
}

function lineOf(text: string, pattern: RegExp, after = 0): number {
  const lines = text.split('\n');
  const k = lines.findIndex((l, i) => i >= after && pattern.test(l.replace(/\u00a0/g, ' ')));
  if (k < 0) throw new Error(`no line matches ${pattern}`);
  return k + 1;
}

describe('more paste damage', () => {
  const leak = fixture('first-order-leak.txt');

  it('a Largest free region line glued to the MEM_RESERVE row (with a stray "*") is still read', () => {
    const n = lineOf(leak, /: MEM_RESERVE$/);
    const lines = leak.split('\n');
    expect(lines[n]).toMatch(/^Largest free region:/);
    lines[n - 1] = `${lines[n - 1]} ${lines[n]} *`;
    lines.splice(n, 1);
    const snaps = parseWindbgText(lines.join('\n'), 'leak.txt');
    expect(snaps[0]!.warnings).toEqual([]);
    expect(snaps[0]!.address!.largestFree).toEqual({ base: 0x41c20000, bytes: 0x1d3e0000 });
    expect(snaps[0]!.address!.state!.reserve.bytes).toBe(0xdcbc000);
  });

  it('a lost Tot/Busy line is a warning, and the total comes from the State rows', () => {
    const n = lineOf(leak, /Tot: 7fff0000/);
    const lines = leak.split('\n');
    lines.splice(n - 1, 1);
    const snaps = parseWindbgText(lines.join('\n'), 'leak.txt');
    const title = lineOf(leak, /Usage SUMMARY/);
    expect(snaps[0]!.warnings).toEqual([`leak.txt:${title}: no Tot:/Busy: line; total taken as the sum of the State rows (2097088 KB)`]);
    expect(snaps[0]!.address!.totalBytes).toBe(0x7fff0000);
    expect(snaps[0]!.address!.busyBytes).toBe(0x7fff0000 - 0x65c40000);
  });
});

describe('a damaged line is skipped with a warning naming file and line; the rest is read', () => {
  const seed = fixture('seed-second-order.txt');
  const x86 = fixture('new-format-x86.txt');

  /** [what, damaged text, line, message, check of what is still read] */
  const cases: Array<[string, string, number, RegExp, (snaps: WindbgSnapshot[]) => void]> = [];
  {
    const n = lineOf(seed, /734d000 \(  118068\)/);
    const usageStill = (snaps: WindbgSnapshot[]): void => {
      expect(snaps).toHaveLength(3);
      expect(snaps[0]!.address!.usageByName!['RegionUsageIsVAD']).toBeUndefined();
      expect(snaps[0]!.address!.usageByName!['RegionUsageFree']).toEqual({ bytes: 0x1ff11000 });
      expect(snaps[0]!.address!.state!.commit.bytes).toBe(0x25e50000);
      expect(snaps[0]!.heaps).toHaveLength(1);
    };
    cases.push(['a KB column that is not a number', editLine(seed, n, (l) => l.replace('118068', '11806x')), n, /KB value '11806x' is not a whole number/, usageStill]);
    cases.push(['a size that is not hex', editLine(seed, n, (l) => l.replace('734d000', '734z000')), n, /size '734z000' is not hexadecimal/, usageStill]);
    cases.push(['a percentage without decimals', editLine(seed, n, (l) => l.replace('05.63%', '5%')), n, /expected a percentage like 05\.63% after the size, found '5%'/, usageStill]);
    const h = lineOf(seed, /^00310000 00001002 1255320 512712/);
    const heapGone = (snaps: WindbgSnapshot[]): void => {
      expect(snaps.map((s) => s.heaps.length)).toEqual([0, 1, 1]);
      expect(snaps[0]!.address!.state!.commit.bytes).toBe(0x25e50000);
    };
    cases.push(['a heap row with a column missing', editLine(seed, h, (l) => l.replace(' 260583', '')), h, /heap row '00310000' has 9 columns before the Fast heap column; expected 10/, heapGone]);
    cases.push(['a heap row with a non-numeric Commit', editLine(seed, h, (l) => l.replace('512712', '51271x')), h, /Commit '51271x' is not a whole number/, heapGone]);
    const f = lineOf(seed, /External fragmentation 50 %/);
    cases.push(['a garbled fragmentation line', editLine(seed, f, () => 'External fragmentation fifty % (45362 free blocks)'), f, /cannot read 'External fragmentation fifty/, (snaps) => {
      expect(snaps[0]!.heaps[0]!.externalFragmentationPct).toBe(50); // computed from the row instead
      expect(snaps[0]!.printed.heapLines.map((l) => l.kind)).toEqual(['virtualAddress', 'lockContention']);
    }]);
    const t = lineOf(seed, /Tot: 7fff0000/);
    cases.push(['a garbled Tot line', editLine(seed, t, () => 'Tot: 7fff0000 (2097088) Busy: 600df000'), t, /cannot read the Tot:\/Busy: line/, (snaps) => {
      expect(snaps[0]!.address!.totalBytes).toBe(0x7fff0000); // the sum of the State rows
      expect(snaps[0]!.printed.addressTotals).toBeUndefined();
    }]);
    const u = lineOf(x86, /^Heap +212 +12a4c000/);
    const newStill = (snaps: WindbgSnapshot[]): void => {
      expect(snaps[0]!.address!.usageByName!['Heap']).toBeUndefined();
      expect(snaps[0]!.address!.usageByName!['<unknown>']).toBeDefined();
      expect(snaps[0]!.address!.state).toBeDefined();
    };
    cases.push(['a new-format size with an unknown unit', editLine(x86, u, (l) => l.replace('298.297 Mb', '298.297 Xb')), u, /is not a number with a unit/, newStill]);
    cases.push(['a new-format percentage that is not one', editLine(x86, u, (l) => l.replace('43.51%', '43.5x%')), u, /'43\.5x%' is not a percentage/, newStill]);
    cases.push(['a new-format region count that is not a number', editLine(x86, u, (l) => l.replace(' 212 ', ' 2l2 ')), u, /region count '2l2'/, newStill]);
  }

  {
    // The header lines and rules of !heap -s carry no number: damage there must not lose the rows under them
    // (a fuzz campaign found a garbled byte on the header losing the row three lines down, silently).
    const h1 = lineOf(seed, /^\s*Heap\s+Flags\s+Reserv/);
    const h2 = lineOf(seed, /^\s*\(k\)/);
    const rowStill = (snaps: WindbgSnapshot[]): void => {
      expect(snaps.map((s) => s.heaps.length)).toEqual([1, 1, 1]);
      expect(snaps[0]!.heaps[0]!.committedBytes).toBe(512712 * 1024);
    };
    cases.push(['a control byte at the start of the header line', editLine(seed, h1, (l) => `\x01${l.slice(1)}`), h1, /damaged table header or rule '\? Heap Flags Reserv/, rowStill]);
    cases.push(['a header line garbled to begin with "!" (not a command)', editLine(seed, h1, (l) => `!${l.slice(1)}`), h1, /damaged table header or rule '! Heap Flags/, rowStill]);
    cases.push(['a header line cut short', editLine(seed, h1, (l) => l.slice(0, l.indexOf('Flags') + 7)), h1, /damaged table header or rule 'Heap Flags/, rowStill]);
    cases.push(['a second header line with a long token in front', editLine(seed, h2, (l) => `${'7'.repeat(80)}${l}`), h2, /damaged table header or rule '7{47}…'/, rowStill]);
  }
  {
    const table = ['0:000> !heap -s', 'Heap Flags Reserv Commit Virt Free List UCR Virt Lock Fast', '(k) (k) (k) (k) length blocks cont. heap', '-'.repeat(85), '00310000 00001002 1024 512 1024 16 3 1 0 0 L', '-'.repeat(85)].join('\n');
    const tableRow = (snaps: WindbgSnapshot[]): void => expect(snaps[0]!.heaps.map((x) => x.committedBytes)).toEqual([512 * 1024]);
    cases.push(['a rule cut to four dashes', editLine(table, 4, () => '----'), 4, /damaged table header or rule '----'/, tableRow]);
    cases.push(['a rule with garbage inside', editLine(table, 4, (l) => `${l.slice(0, 40)}A b${l.slice(43)}`), 4, /damaged table header or rule '-{40}A b-{4}…'/, tableRow]);
    cases.push(['a table pasted without its command, header garbled', editLine(table, 2, (l) => `\x02${l}`).split('\n').slice(1).join('\n'), 1, /damaged table header or rule/, tableRow]);
  }

  it.each(cases)('%s', (_what, text, line, message, check) => {
    const read = readWindbgText(text, 'dump.txt');
    const skipped = read.warnings.filter((w) => w.includes('skipped: '));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(new RegExp(`^dump\\.txt:${line}: skipped: `));
    expect(skipped[0]).toMatch(message);
    expect(read.skippedCount).toBe(1);
    check(read.snapshots);
  });

  it('an !address block without its State section is read without it, and the verdict says what it limits', () => {
    const start = lineOf(seed, /Usage SUMMARY/);
    const state = lineOf(seed, /State SUMMARY/, start);
    const lines = seed.split('\n');
    const text = [...lines.slice(0, state - 1), ...lines.slice(state + 4)].join('\n');
    const snaps = parseWindbgText(text, 'dump.txt');
    expect(snaps).toHaveLength(3);
    expect(snaps[0]!.address!.state).toBeUndefined();
    expect(snaps[0]!.address!.usageByName!['RegionUsageHeap']).toEqual({ bytes: 0x4efe3000 });
    expect(snaps[1]!.address!.state!.commit.bytes).toBe(0x41498000);
    const d = diagnoseSnapshots(snaps);
    expect(d.kind).toBe('second-order'); // the heap table alone shows it
    expect(d.summary).toContain('no State Summary in "Before peak hours": process figures are the sums of the listed heaps');
  });

  it('a file without debugger output names the file, and says where the first damaged line was', () => {
    const none = errorOf(() => parseWindbgText('Before:\nnothing here\n', 'notes.txt'));
    expect(none.describe()).toBe('notes.txt: no WinDbg output found (looked for !address -summary, !address, !heap -s, !heap -stat)');
    const damaged = errorOf(() => parseWindbgText('0:000> !heap -s\n00310000 00001002 1255320 x\n', 'one.txt'));
    expect(damaged.describe()).toMatch(/^one\.txt: no WinDbg output found .*; 1 damaged line skipped, the first at line 2: heap row '00310000' has 4 columns/);
  });

  it('a long token is quoted short; a line beyond the limit refuses the file in one short line', () => {
    const h = lineOf(seed, /^00310000 00001002 1255320 512712/);
    const read = readWindbgText(editLine(seed, h, (l) => l.replace('512712', 'x'.repeat(10_000))), 'dump.txt');
    const skipped = read.warnings.find((w) => w.includes('skipped: '))!;
    expect(skipped).toMatch(/Commit 'x{47}…' is not a whole number/);
    expect(skipped.length).toBeLessThan(200);
    const err = errorOf(() => parseWindbgText(editLine(seed, h, (l) => l.replace('512712', 'x'.repeat(5_000_000))), 'dump.txt'));
    expect(err.describe()).toBe(`dump.txt:${h}: line is longer than 65536 characters, the longest analyze reads (WinDbg prints a few hundred)`);
  });
});

describe('inconsistent tables give a warning naming the line', () => {
  const seed = fixture('seed-second-order.txt');
  const x86 = fixture('new-format-x86.txt');

  function warningsOf(text: string): string[] {
    return parseWindbgText(text, 'dump.txt').flatMap((s) => s.warnings);
  }

  it('a Pct(Tots) that disagrees with the size', () => {
    const n = lineOf(seed, /734d000 \(  118068\)/);
    expect(warningsOf(editLine(seed, n, (l) => l.replace('05.63%', '05.73%')))).toEqual([
      `dump.txt:${n}: RegionUsageIsVAD: Pct(Tots) 05.73% disagrees with 734d000 / 7fff0000 = 5.63%`,
      expect.stringContaining('Type SUMMARY row has no label'),
    ]);
  });

  it('a KB column that disagrees with the hex size, and a section that does not add up', () => {
    const n = lineOf(seed, /25e50000 \(  620864\)/);
    const w = warningsOf(editLine(seed, n, (l) => l.replace('620864', '620000')));
    expect(w).toContain(`dump.txt:${n}: MEM_COMMIT: 25e50000 is 620864 KB, the KB column says 620000`);
    const m = lineOf(seed, /25e50000 \(  620864\)/);
    const w2 = warningsOf(editLine(seed, m, (l) => l.replace('25e50000', '25e60000')));
    const title = lineOf(seed, /State SUMMARY/);
    expect(w2).toContain(`dump.txt:${title}: State SUMMARY rows add up to 7fff10000 (2097152 KB), not the total 7fff0000 (2097088 KB)`.replace('7fff10000', (0x7fff0000 + 0x10000).toString(16)));
    expect(w2.some((x) => x.startsWith(`dump.txt:${m}: MEM_COMMIT: 25e60000 is 620928 KB`))).toBe(true);
  });

  it('a fragmentation line that disagrees with its row, and one that is missing', () => {
    const f = lineOf(seed, /External fragmentation 50 %/);
    const row = lineOf(seed, /^00310000 00001002 1255320 512712/);
    expect(warningsOf(editLine(seed, f, (l) => l.replace('50 %', '57 %')))).toContain(
      `dump.txt:${f}: External fragmentation 57 % disagrees with the heap 00310000 row (line ${row}): Free/Commit = 260583/512712 K = 50 %`);
    const lines = seed.split('\n');
    const without = [...lines.slice(0, f - 1), ...lines.slice(f)].join('\n');
    expect(warningsOf(without)).toContain(`dump.txt:${row}: heap 00310000: Free/Commit = 50 % with more than 1 MB committed, but no External fragmentation line follows`);
    const lock = lineOf(seed, /Lock contention 3625381/);
    expect(warningsOf(editLine(seed, lock, (l) => l.replace('3625381', '3625380')))).toContain(
      `dump.txt:${lock}: Lock contention 3625380 disagrees with the heap 00310000 row (line ${row}): Lock cont. 3751a5 hex = 3625381`);
  });

  it('new format: %ofBusy and region counts that disagree', () => {
    const u = lineOf(x86, /^Heap +212 +12a4c000/);
    expect(warningsOf(editLine(x86, u, (l) => l.replace('43.51%', '43.61%')))).toEqual([
      `dump.txt:${u}: Heap: %ofBusy 43.61% disagrees with 12a4c000 / 2ad92000 = 43.51%`,
    ]);
    const title = lineOf(x86, /--- Usage Summary/);
    expect(warningsOf(editLine(x86, u, (l) => l.replace(' 212 ', ' 213 ')))).toEqual([
      `dump.txt:${title}: Usage Summary region counts add up to 1816, not the State total's 1815`,
    ]);
  });
});

describe('splitting into snapshots', () => {
  const seed = fixture('seed-second-order.txt');
  const heapBlock = (commitK: number): string => [
    '0:000> !heap -s',
    '  Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast ',
    `00150000 00000002    8192 ${String(commitK).padStart(6)}   8192     64     3     2    0      0   LFH`,
  ].join('\n');

  it('several files are several snapshots, in the order given', () => {
    const snaps = parseWindbgFiles([{ name: 'b/later.txt', text: heapBlock(4096) }, { name: 'a/earlier.txt', text: heapBlock(1024) }]);
    expect(snaps.map((s) => [s.label, s.file, s.heaps[0]!.committedBytes / 1024])).toEqual([['later.txt', 'b/later.txt', 4096], ['earlier.txt', 'a/earlier.txt', 1024]]);
  });

  it('blocks without a heading are named after the file and numbered', () => {
    const snaps = parseWindbgText([heapBlock(1024), 'some notes', heapBlock(2048)].join('\n'), 'dir/dumps.log');
    expect(snaps.map((s) => s.label)).toEqual(['dumps.log', 'dumps.log #2']);
  });

  it('headings: colon-terminated short lines, Markdown and bold; long prose with a colon is not one', () => {
    const prose = 'We can examine the virtual memory statistics of the three sampled memory dumps below:';
    expect(prose.length).toBeGreaterThan(80);
    const text = ['**First dump:**', heapBlock(1024), '', '### Second dump', heapBlock(2048), '', prose, heapBlock(3072)].join('\n');
    expect(parseWindbgText(text, 'x.txt').map((s) => s.label)).toEqual(['First dump', 'Second dump', 'Second dump']);
  });

  it('a heading with parentheses right after an !address block ends it (old and new layouts)', () => {
    for (const name of ['first-order-leak.txt', 'new-format-x86.txt']) {
      const lines = fixture(name).split('\n');
      const heap = lines.findIndex((l) => l === '0:000> !heap -s');
      const address = lines.slice(0, heap).join('\n').trimEnd();
      const text = `${address}\nDump 2 (12:00):\n${heapBlock(2048)}\n`;
      const snaps = parseWindbgText(text, name);
      const first = name === 'first-order-leak.txt' ? 'Dump 1 (10:00)' : 'Monday 09:00';
      expect(snaps.map((s) => [s.label, s.address !== undefined, s.heaps.length])).toEqual([[first, true, 0], ['Dump 2 (12:00)', false, 1]]);
      expect(snaps.flatMap((s) => s.warnings)).toEqual([]);
    }
  });

  it('the seed\'s !address and !heap blocks under the same heading become one snapshot', () => {
    const snaps = parseWindbgText(seed, 'seed.txt');
    expect(snaps).toHaveLength(3);
    expect(snaps.every((s) => s.address !== undefined && s.heaps.length === 1)).toBe(true);
  });
});

describe('sizes beyond 2^53 bytes (more than any address space) are damage, never an inexact number', () => {
  const HEAP_TABLE = [
    '0:000> !heap -s',
    '          Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast',
    '                            (k)     (k)    (k)     (k) length      blocks cont. heap',
    '-------------------------------------------------------------------------------------',
    '0000019986690000 08000002   8796093022208  64284  8796093022208     87   246     8   45     20   LFH',
    '0000019984c50000 08008000      64      4     64      2     1     1    0      0',
    '-------------------------------------------------------------------------------------',
  ];
  it('a K column of !heap -s whose bytes pass 2^53: the row is skipped, the others read', () => {
    // 8796093022207 K is the largest exact value (2^53 - 1 bytes rounded down to K); one more is not.
    const r = readWindbgText(HEAP_TABLE.join('\n'), 'k.txt');
    expect(r.snapshots[0]!.heaps.map((h) => h.reservedBytes)).toEqual([64 * 1024]);
    expect(r.warnings).toEqual([expect.stringMatching(/^k\.txt:5: skipped: heap row '0000019986690000': Reserv '8796093022208' K is beyond 2\^53 bytes/)]);
    const exact = readWindbgText(HEAP_TABLE.join('\n').replace(/8796093022208/g, '8796093022207'), 'k.txt');
    expect(exact.snapshots[0]!.heaps[0]!.reservedBytes).toBe(8796093022207 * 1024);
  });
  it('a heap row whose address is beyond 2^53 (no user-mode heap lies there): the row is skipped, the others read', () => {
    const r = readWindbgText(HEAP_TABLE.join('\n').replace('0000019986690000', 'a000019986690000').replace(/8796093022208/g, '64'), 'a.txt');
    expect(r.snapshots[0]!.heaps.map((h) => h.address)).toEqual([0x19984c50000]);
    expect(r.warnings).toEqual([expect.stringMatching(/^a\.txt:5: skipped: heap row 'a000019986690000': the address is beyond 2\^53/)]);
  });
  it('listing rows and !heap -stat rows with an address or size beyond 2^53: the row is skipped with a warning, the others read', () => {
    const fresh = ['0:000> !address', '  BaseAddr EndAddr+1 RgnSize     Type       State                 Protect             Usage', '-'.repeat(95),
      '+ a000000000010000 a000000000020000 10000 MEM_PRIVATE MEM_COMMIT PAGE_READWRITE Heap', '+ 20000 30000 10000 MEM_PRIVATE MEM_COMMIT PAGE_READWRITE Heap'].join('\n');
    const a = readWindbgText(fresh, 'new.txt');
    expect(a.snapshots[0]!.regions!.count).toBe(1);
    expect(a.warnings).toEqual([expect.stringMatching(/^new\.txt:4: skipped: region 'a000000000010000': an address or size beyond 2\^53/)]);
    const old = ['0:000> !address', '    a000000000010000 - 10000', '    Type 00020000 MEM_PRIVATE', '    State 00001000 MEM_COMMIT', '    Usage RegionUsageHeap',
      '    00020000 - 00010000', '    Type 00020000 MEM_PRIVATE', '    State 00001000 MEM_COMMIT', '    Usage RegionUsageHeap'].join('\n');
    const o = readWindbgText(old, 'old.txt');
    expect(o.snapshots[0]!.regions!.count).toBe(1);
    expect(o.warnings).toEqual([expect.stringMatching(/^old\.txt:2: skipped: region 'a000000000010000': an address or size beyond 2\^53/)]);
    const stat = ['0:000> !heap -stat -h 00310000', ' heap @ 00310000', 'group-by: TOTSIZE max-display: 20', '    size     #blocks     total     ( %) (percent of total busy bytes)',
      '    a000000000000000 2 - 4000000000000000  (51.19)', '    20 10 - 200  (1.0)'].join('\n');
    const s = readWindbgText(stat, 'stat.txt');
    expect(s.snapshots[0]!.sizeStats[0]!.rows).toEqual([{ sizeBytes: 0x20, blocks: 0x10, totalBytes: 0x200, pct: 1 }]);
    expect(s.warnings).toEqual([expect.stringMatching(/^stat\.txt:5: skipped: !heap -stat row 'a000000000000000 2 - 4000000000000000 \(51\.19\)': a number beyond 2\^53/)]);
  });
  it('!address -summary (new layout) and !address listings whose sizes add up beyond 2^53: the block is skipped with a warning', () => {
    const summary = [
      '--- Usage Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal',
      'Free                                     10     1f000000000000 (7936.000 Tb)           50.00%',
      '<unknown>                                 5     1f000000000000 (7936.000 Tb)  100.00%   50.00%',
    ].join('\n');
    expect(() => readWindbgText(summary, 'sum.txt')).toThrow(/the first at line 1: Usage Summary sizes add up beyond 2\^53 bytes/);
    const listing = ['0:000> !address', '  BaseAddr EndAddr+1 RgnSize     Type       State                 Protect             Usage', '-'.repeat(95)];
    // The same region three times (damage): every address and size is exact, only their sum is not.
    for (let i = 0; i < 3; i++) listing.push('+ 10000 1f000000010000 1f000000000000 MEM_PRIVATE MEM_RESERVE PAGE_READWRITE <unknown>');
    const r = readWindbgText([...listing, '', ...HEAP_TABLE.slice(0, 4), HEAP_TABLE[5]!].join('\n'), 'list.txt');
    expect(r.snapshots.every((s) => s.address === undefined && s.regions === undefined)).toBe(true);
    expect(r.warnings).toContainEqual(expect.stringMatching(/^list\.txt:2: skipped: !address listing: sizes add up beyond 2\^53 bytes/));
  });
});
