// Numbers in traces are exact or refused (regression tests for the reliability report's failures
// 2, 3, 4 and 5): sizes of 2^53 and more were rounded, wrapped or became Infinity; long lines and
// runs of spaces were quadratic.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { FormatName } from '../../src/trace/events.js';
import { MAX_REQUEST_BYTES } from '../../src/trace/ledger.js';
import { MAX_LINE_BYTES } from '../../src/trace/lines.js';
import { ABOVE_U64, NOT_A_NUMBER, decimalText, hexBytes, hexText } from '../../src/trace/numbers.js';
import { cli } from '../cli/helpers.js';
import { eventLines, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
function file(body: string | Buffer, ext = 'trace'): string {
  const path = join(tmp.dir, `n${n++}.${ext}`);
  writeFileSync(path, body);
  return path;
}

describe('integer parsing', () => {
  it('is exact below 2^53, a bigint up to 2^64 - 1, refused above', () => {
    expect(decimalText('9007199254740991')).toBe(2 ** 53 - 1);
    expect(decimalText('9007199254740993')).toBe(2n ** 53n + 1n);
    expect(decimalText('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(decimalText('18446744073709551616')).toBe(ABOVE_U64);
    expect(decimalText('0'.repeat(400) + '7')).toBe(7);
    expect(decimalText('9'.repeat(400))).toBe(ABOVE_U64);
    expect(decimalText('12a')).toBe(NOT_A_NUMBER);
    expect(decimalText('')).toBe(NOT_A_NUMBER);
    expect(hexText('ffffffffffffffff')).toBe(2n ** 64n - 1n);
    expect(hexText('10000000000000000')).toBe(ABOVE_U64);
    expect(hexText('1fffffffffffff')).toBe(2 ** 53 - 1);
    expect(hexBytes(Buffer.from('xx20000000000001'), 2, 16)).toBe(2n ** 53n + 1n);
  });
});

const SIZE_MAX = '18446744073709551615';
const TWO_53_PLUS_1 = '9007199254740993';

/** One allocation of `size` in each format (decimal or hex as the format writes sizes). */
function oneAlloc(format: FormatName, size: bigint): string {
  switch (format) {
    case 'text': return `#heapsim-trace 1\na 0 ${size}\n`;
    case 'mtrace': return `= Start\n@ [0x1] + 0x1000 0x${size.toString(16)}\n`;
    case 'ltrace': return `malloc(${size}) = 0x1000\n`;
    case 'logalloc': return `7 7 malloc(${size})=0x1000\n`;
    case 'rep': return `a 0 ${size}\n`;
    default: throw new Error(format);
  }
}

describe.each(['text', 'mtrace', 'ltrace', 'logalloc', 'rep'] as const)('%s sizes', (format) => {
  it('a size beyond any address space is a failed allocation, counted; never wrapped or rounded', async () => {
    for (const size of [2n ** 64n - 1n, 2n ** 53n + 1n, BigInt(MAX_REQUEST_BYTES) + 1n]) {
      const { lines, ledger } = await eventLines(file(oneAlloc(format, size)), { format });
      expect(lines.filter((l) => !l.startsWith('thread'))).toEqual(['x failed-alloc']);
      expect(ledger.input.oversizeRequests).toBe(1);
      expect(ledger.peakLiveBytes).toBe(0);
    }
    const { lines } = await eventLines(file(oneAlloc(format, BigInt(MAX_REQUEST_BYTES))), { format });
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^a 0 ${MAX_REQUEST_BYTES}( @.*)?$`));
  });

  it('a size of 2^64 or more is a malformed line', async () => {
    const err = await eventLines(file(oneAlloc(format, 2n ** 64n)), { format }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
  });
});

describe('pointers', () => {
  it('two pointers above 2^53 that differ by one are two blocks (mtrace, ltrace)', async () => {
    const a = 2n ** 60n, b = 2n ** 60n + 16n;
    const m = await eventLines(file(`+ 0x${a.toString(16)} 0x10\n+ 0x${b.toString(16)} 0x20\n- 0x${a.toString(16)}\n`), { format: 'mtrace' });
    expect(m.lines).toEqual(['a 0 16', 'a 1 32', 'f 0']);
    expect(m.ledger.implicitFrees).toBe(0);
    const l = await eventLines(file(`malloc(16) = 0x${a.toString(16)}\nmalloc(32) = 0x${(a + 1n).toString(16)}\nfree(0x${(a + 1n).toString(16)}) = <void>\n`), { format: 'ltrace' });
    expect(l.lines).toEqual(['a 0 16', 'a 1 32', 'f 1']);
  });

  it('malloc-lab ids up to 2^64 - 1 stay distinct', async () => {
    const { lines } = await eventLines(file(`a ${SIZE_MAX} 16\na ${2n ** 64n - 2n} 32\nf ${SIZE_MAX}\n`), { format: 'rep' });
    expect(lines).toEqual(['a 0 16', 'a 1 32', 'f 0']);
  });
});

describe('commands print exact numbers', () => {
  it('stats of a SIZE_MAX allocation: no Infinity, no 1.8e19, a note', async () => {
    const r = await cli('stats', file(`#heapsim-trace 1\na 0 ${SIZE_MAX}\na 1 ${TWO_53_PLUS_1}\na 2 ${'9'.repeat(400)}\n`, 'txt'));
    expect(r.code).toBe(2); // the 400-digit size does not fit 64 bits: malformed line 4
    expect(r.stderr).toMatch(/:4: malformed heapsim text line \(a number does not fit 64 bits\)/);
    const ok = await cli('stats', file(`#heapsim-trace 1\na 0 ${SIZE_MAX}\na 1 ${TWO_53_PLUS_1}\na 2 16\n`, 'txt'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/peak live: 16 bytes/);
    expect(ok.stdout).toMatch(/skipped 2 \(failed-alloc 2\)/);
    expect(ok.stdout).toMatch(/2 allocations larger than any simulated address space/);
    expect(ok.stdout).not.toMatch(/Infinity|e\+/);
  });

  it('convert of a SIZE_MAX allocation ends (it used to spin) and keeps it as a failed allocation', async () => {
    const out = join(tmp.dir, 'huge.txt');
    const r = await cli('convert', file(`#heapsim-trace 1\na 0 ${SIZE_MAX}\n`, 'txt'), '-o', out);
    expect(r.code).toBe(0);
    expect((await eventLines(out)).lines).toEqual(['x failed-alloc']);
  });
});

describe('line length', () => {
  it(`a line longer than ${MAX_LINE_BYTES} bytes is one clear error (or counted under --lenient)`, async () => {
    const long = '#heapsim-trace 1\na 0 16\n# ' + 'x'.repeat(MAX_LINE_BYTES + 10) + '\nf 0\n';
    const path = file(long, 'txt');
    const err = await eventLines(path).catch((e: unknown) => e) as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/line longer than 1048576 bytes: "# xxx.*…"/);
    expect(err.message.length).toBeLessThan(400);
    const { lines, ledger } = await eventLines(path, { lenient: true });
    expect(lines).toEqual(['a 0 16', 'f 0']);
    expect(ledger.input.malformedLines).toBe(1);
  });

  it('a long line split over many small chunks is still handled in linear time', async () => {
    const { LineSplitter, MalformedPolicy } = await import('../../src/trace/lines.js');
    const counts = { malformedLines: 0, ignoredLines: 0, truncatedLastLine: 0, reusedLiveAddresses: 0, otherProcessLines: 0, oversizeRequests: 0 };
    const seen: number[] = [];
    const splitter = new LineSplitter({ line: (_b, s, e) => { seen.push(e - s); return true; } }, new MalformedPolicy('f', 'x', true, counts));
    const piece = Buffer.alloc(64, 0x20);
    const started = performance.now();
    const pieces = Math.floor((MAX_LINE_BYTES - 1000) / 64);
    for (let i = 0; i < pieces; i++) splitter.push(piece);
    splitter.push(Buffer.from('\nok\n'));
    expect(seen).toEqual([pieces * 64, 2]);
    expect(performance.now() - started).toBeLessThan(5000); // quadratic copying took minutes
  });

  it('runs of spaces in ltrace lines cost linear time (1 MB of spaces)', async () => {
    const spaces = ' '.repeat(MAX_LINE_BYTES - 100);
    const body = `malloc(${spaces}16) = 0x1000\nmalloc(16)${spaces}= 0x2000\nfree(0x1000${spaces.slice(0, 500_000)})${spaces.slice(0, 500_000)} = <void>\n`;
    const started = performance.now();
    const { lines } = await eventLines(file(body), { format: 'ltrace' });
    expect(lines).toEqual(['a 0 16', 'a 1 16', 'f 0']);
    expect(performance.now() - started).toBeLessThan(5000); // 20 s and more before
  });
});
