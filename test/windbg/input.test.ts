// What `heapsim analyze` does with inputs that are not WinDbg text files: every refusal is one line
// naming the file (and the line or byte), exit code 2, no stack trace, and it comes at once (a FIFO
// or an endless device is never read). UTF-16 text is read; long inputs are streamed.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openWindbgFile, sniffEncoding } from '../../src/windbg/input.js';
import { parseWindbgText, readWindbg } from '../../src/windbg/parse.js';
import { MAX_INPUT_BYTES, MAX_LINE_CHARS, READ_CHUNK_BYTES } from '../../src/windbg/limits.js';

const SEED = fileURLToPath(new URL('../fixtures/seed-second-order.txt', import.meta.url));
const seedText = readFileSync(SEED, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'heapsim-input-'));

async function analyze(...argv: string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  let out = '';
  let err = '';
  const t0 = Date.now();
  const code = await main(['analyze', ...argv], { stdout: { write: (s: string) => { out += s; } }, stderr: { write: (s: string) => { err += s; } } });
  return { code, out, err, ms: Date.now() - t0 };
}

/** The refusal is exactly one line, exit 2, naming the file. */
async function refused(file: string, message: RegExp): Promise<string> {
  const r = await analyze(file);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err.split('\n')).toHaveLength(2); // one line and its terminator
  expect(r.err).toMatch(/^heapsim analyze: /);
  expect(r.err).toContain(file);
  expect(r.err).toMatch(message);
  expect(r.err.length - file.length).toBeLessThan(260);
  return r.err;
}

function utf16(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = order === 'le' ? le : Buffer.from(le.map((_, i) => le[i ^ 1]!));
  const mark = order === 'le' ? [0xff, 0xfe] : [0xfe, 0xff];
  return bom ? Buffer.concat([Buffer.from(mark), body]) : body;
}

describe('inputs that are not WinDbg text files', () => {
  it('a directory', async () => {
    await refused(dir, /: is a directory, not a file$/m);
  });

  it('a FIFO is refused at once, never opened', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const err = await refused(fifo, /is not a regular file \(a FIFO, device or socket\)/);
    expect(err).toContain('save the WinDbg output to a file');
  });

  it('/dev/zero and /dev/urandom are refused at once', async () => {
    for (const dev of ['/dev/zero', '/dev/urandom']) {
      const r = await analyze(dev);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`heapsim analyze: ${dev}: is not a regular file (a FIFO, device or socket); save the WinDbg output to a file and read that\n`);
    }
  });

  it('a symbolic link loop', async () => {
    const a = join(dir, 'loop-a');
    const b = join(dir, 'loop-b');
    symlinkSync(b, a);
    symlinkSync(a, b);
    await refused(a, /: too many levels of symbolic links$/m);
  });

  it('binary data: NUL bytes, or control characters and invalid UTF-8', async () => {
    const zeros = join(dir, 'zeros.bin');
    writeFileSync(zeros, Buffer.alloc(100_000));
    await refused(zeros, /zeros\.bin: byte 0: NUL byte: this is not text/);
    const later = join(dir, 'late-nul.txt');
    writeFileSync(later, Buffer.concat([Buffer.from(seedText), Buffer.from([0x41, 0x00, 0x42])]));
    await refused(later, new RegExp(`late-nul\\.txt: byte ${Buffer.byteLength(seedText) + 1}: NUL byte`));
    const noise = join(dir, 'noise.bin');
    // Bytes 0x01..0xff cycling: no NUL, but control characters and invalid UTF-8 throughout.
    writeFileSync(noise, Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 37) % 255 + 1)));
    await refused(noise, /noise\.bin: \d+ of the first \d+ characters are control characters or invalid UTF-8/);
  });

  it('a few stray bytes (a Latin-1 page) are damage, not binary: the output is still read', async () => {
    const latin = join(dir, 'latin1.txt');
    writeFileSync(latin, Buffer.concat([Buffer.from('Caf\xe9 notes \xb7 dump:\n', 'latin1'), Buffer.from(seedText)]));
    const r = await analyze(latin);
    expect(r.code).toBe(0);
    expect(r.out).toContain('diagnosis: second-order');
  });

  it('a file larger than the limit is refused from its size, without reading it', async () => {
    const big = join(dir, 'big.txt');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, MAX_INPUT_BYTES + 1); // sparse: no disk used
    closeSync(fd);
    const err = await refused(big, new RegExp(`is ${MAX_INPUT_BYTES + 1} bytes; analyze reads WinDbg text files of at most ${MAX_INPUT_BYTES} bytes`));
    expect(err).not.toContain('NUL');
  });

  it('a line longer than the limit: one line naming the file and the line', async () => {
    const long = join(dir, 'long.txt');
    writeFileSync(long, `${seedText}\n${'x'.repeat(MAX_LINE_CHARS + 1)}\n`);
    const lines = seedText.split('\n').length + 1;
    await refused(long, new RegExp(`long\\.txt:${lines}: line is longer than ${MAX_LINE_CHARS} characters`));
    const endless = join(dir, 'endless.txt');
    writeFileSync(endless, 'y'.repeat(5 * 1024 * 1024)); // a 5 MB token, no line end
    await refused(endless, /endless\.txt:1: line is longer than/);
  });

  it('nothing readable: one line naming the file, and where the first damaged line was', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'Before peak hours:\n\n0:000> !heap -s\n00310000 00001002 1255320 five\n');
    await refused(notes, /notes\.txt: no WinDbg output found .*; 1 damaged line skipped, the first at line 4: heap row '00310000' has 4 columns/);
  });
});

describe('UTF-16 and streaming', () => {
  const expected = JSON.stringify(parseWindbgText(seedText, 'seed.txt'));

  it('tells UTF-16 from its byte order mark or its zero bytes', () => {
    expect(sniffEncoding(utf16('0:000> !heap -s', 'le', true))).toEqual({ encoding: 'utf-16le', bom: 2 });
    expect(sniffEncoding(utf16('0:000> !heap -s', 'be', true))).toEqual({ encoding: 'utf-16be', bom: 2 });
    expect(sniffEncoding(utf16('0:000> !heap -s', 'le', false))).toEqual({ encoding: 'utf-16le', bom: 0 });
    expect(sniffEncoding(utf16('0:000> !heap -s', 'be', false))).toEqual({ encoding: 'utf-16be', bom: 0 });
    expect(sniffEncoding(Buffer.from('\ufeff0:000> !heap -s'))).toEqual({ encoding: 'utf-8', bom: 3 });
    expect(sniffEncoding(Buffer.from('0:000> !heap -s'))).toEqual({ encoding: 'utf-8', bom: 0 });
  });

  it.each([['le', true], ['le', false], ['be', true], ['be', false]] as const)('UTF-16%s (byte order mark: %s) reads like UTF-8, with a note', async (order, bom) => {
    const file = join(dir, `seed-utf16${order}${bom ? '-bom' : ''}.txt`);
    writeFileSync(file, utf16(seedText, order, bom));
    const input = openWindbgFile(file, 'seed.txt');
    try {
      expect(input.encoding).toBe(`utf-16${order}`);
      expect(JSON.stringify(readWindbg(input.lines, 'seed.txt').snapshots)).toBe(expected);
    } finally {
      input.close();
    }
    const r = await analyze(file);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`heapsim analyze: note: ${file}: read as UTF-16${order.toUpperCase()} text (${bom ? 'byte order mark' : 'zero bytes between ASCII characters'})`);
    expect(r.out).toContain('diagnosis: second-order');
  });

  it('a CRLF split across two read chunks, and a multi-byte character across two chunks, read as one line end and one character', () => {
    const crlf = seedText.replace(/\n/g, '\r\n');
    // Prose that puts the seed's first CR at the last byte of the first chunk...
    const firstCr = Buffer.byteLength(crlf.slice(0, crlf.indexOf('\r')));
    const pad = READ_CHUNK_BYTES - 1 - firstCr - 1; // minus one for the prose line's own LF
    const a = join(dir, 'split-crlf.txt');
    writeFileSync(a, `${'p'.repeat(pad)}\n${crlf}`);
    // ...and a 3-byte character (…) across the boundary.
    const b = join(dir, 'split-char.txt');
    writeFileSync(b, `${'q'.repeat(READ_CHUNK_BYTES - 1)}…\n${seedText}`);
    for (const [file, shift] of [[a, 1], [b, 1]] as const) {
      const input = openWindbgFile(file, 'seed.txt');
      try {
        const got = readWindbg(input.lines, 'seed.txt').snapshots;
        const ref = parseWindbgText(seedText, 'seed.txt');
        expect(got.map((s) => [s.label, s.lines.address! - shift, s.lines.heaps! - shift, s.heaps[0]!.committedBytes]))
          .toEqual(ref.map((s) => [s.label, s.lines.address, s.lines.heaps, s.heaps[0]!.committedBytes]));
      } finally {
        input.close();
      }
    }
  });

  it('a long listing is streamed: 30 000 regions summed, a table of 10 500 heap rows capped with one warning', async () => {
    const regions = ['0:000> !address', '  BaseAddr EndAddr+1 RgnSize     Type       State                 Protect             Usage', '-'.repeat(95)];
    for (let i = 0; i < 30_000; i++) {
      const base = 0x10000 + i * 0x1000;
      regions.push(`+ ${base.toString(16)} ${(base + 0x1000).toString(16)} 1000 MEM_PRIVATE MEM_COMMIT  PAGE_READWRITE  Heap  [ID: 0]`);
    }
    const heaps = ['Later:', '', '0:000> !heap -s', '  Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast'];
    for (let i = 0; i < 10_500; i++) heaps.push(`${(0x100000 + i * 0x10000).toString(16).padStart(8, '0')} 00001002 64 4 64 2 1 1 0 0`);
    const file = join(dir, 'long-listing.txt');
    writeFileSync(file, [...regions, '', ...heaps, ''].join('\n'));
    const r = await analyze('--json', file);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.snapshots[0].regions.count).toBe(30_000);
    expect(doc.snapshots[0].regions.byState.MEM_COMMIT).toEqual({ bytes: 30_000 * 0x1000, regions: 30_000 });
    expect(doc.snapshots[1].heaps).toHaveLength(10_000);
    expect(doc.warnings.filter((w: string) => w.includes('more than 10000 heap rows'))).toHaveLength(1);
  });
});
