// Opening traces: gzip by magic bytes (not by name), detection by content, --format override.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { convertTrace } from '../../src/trace/convert.js';
import { detectFormat } from '../../src/trace/detect.js';
import { openTrace, setInflateWorkerModule } from '../../src/trace/read.js';
import { eventLines, fixture, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
// The inflate thread of the build (npm test builds first): one from the .ts sources loads tsx.
beforeAll(() => setInflateWorkerModule(new URL('../../dist/trace/inflate-worker.js', import.meta.url)));
afterAll(() => setInflateWorkerModule(undefined));

describe('plain files', () => {
  it('a file of several 1 MiB chunks read into one reused buffer (the first chunk\'s) gives its events, in every reader', async () => {
    // mtrace by the WASM and the JavaScript line readers (both reuse the buffer): the same events
    // as the same bytes gzipped (inflated into other buffers).
    const lines: string[] = ['= Start'];
    for (let i = 0; i < 60_000; i++) {
      lines.push(`@ ./prog:(f${i % 5})[0x${(0x401000 + (i % 40)).toString(16)}] + 0x${(0x10000 + i * 0x40).toString(16)} 0x${(i % 700 + 1).toString(16)}`);
      if (i % 3 === 0) lines.push(`@ ./prog:(g)[0x402000] - 0x${(0x10000 + (i - i % 6) * 0x40).toString(16)}`);
    }
    lines.push('= End');
    const mtrace = join(tmp.dir, 'chunks.mtrace');
    writeFileSync(mtrace, lines.join('\n') + '\n');
    expect(readFileSync(mtrace).length).toBeGreaterThan(2 << 20); // three chunks at least
    const gz = mtrace + '.gz';
    writeFileSync(gz, gzipSync(readFileSync(mtrace)));
    for (const options of [{}, { textDecoder: 'js' }] as const) {
      const plain = await eventLines(mtrace, options);
      expect(plain.lines.length).toBeGreaterThan(60_000);
      expect(plain.lines).toEqual((await eventLines(gz, options)).lines);
    }
  });
});

describe('gzip', () => {
  it('reads a gzipped trace whatever its name, with the same events', async () => {
    const path = join(tmp.dir, 'no-gz-suffix.log');
    writeFileSync(path, gzipSync(readFileSync(fixture('threads.ltrace'))));
    const input = await openTrace(path, null);
    expect(input.gzip).toBe(true);
    expect(input.format).toBe('ltrace');
    const plain = await eventLines(fixture('threads.ltrace'));
    expect((await eventLines(path)).lines).toEqual(plain.lines);
  });

  it('reads a gzipped .hst written by convert', async () => {
    const out = join(tmp.dir, 'basic.hst.gz');
    const r = await convertTrace(fixture('basic.mtrace'), out);
    expect(r.gzip).toBe(true);
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect((await eventLines(out)).lines).toEqual((await eventLines(fixture('basic.mtrace'))).lines);
  });

  it('reads a gzip file of many output chunks, of two members, or padded with zeros, as its content', async () => {
    // Lines of varied length, so that lines straddle the reused output chunks (256 KiB each).
    const lines: string[] = ['= Start'];
    for (let i = 0; i < 12_000; i++) lines.push(`@ ./prog:(f${i % 7}+0x${(i % 300).toString(16)})[0x${(0x401000 + i % 50).toString(16)}] + 0x${(0x10000 + i * 0x40).toString(16)} 0x${(i % 900 + 1).toString(16)}`);
    const text = Buffer.from(`${lines.join('\n')}\n`);
    const plainPath = join(tmp.dir, 'many.mtrace');
    writeFileSync(plainPath, text);
    const plain = (await eventLines(plainPath)).lines;
    const half = text.lastIndexOf(0x0a, text.length >> 1) + 1;
    const variants: Array<[string, Buffer]> = [
      ['one member', gzipSync(text)],
      ['two members', Buffer.concat([gzipSync(text.subarray(0, half)), gzipSync(text.subarray(half))])],
      ['zero padding', Buffer.concat([gzipSync(text), Buffer.alloc(512)])],
    ];
    for (const [name, bytes] of variants) {
      const path = join(tmp.dir, `many-${name.replace(' ', '-')}.gz`);
      writeFileSync(path, bytes);
      expect((await eventLines(path)).lines, name).toEqual(plain);
    }
  });

  it.each([
    ['a cut member', (gz: Buffer) => gz.subarray(0, gz.length - 20), 'unexpected end of file'],
    ['garbage after the member', (gz: Buffer) => Buffer.concat([gz, Buffer.from('garbage')]), 'incorrect header check'],
    ['a damaged checksum', (gz: Buffer) => { const b = Buffer.from(gz); b[b.length - 6]! ^= 0xff; return b; }, 'incorrect data check'],
  ])('%s: zlib\'s own words, named as bad gzip data', async (_name, damage, words) => {
    const path = join(tmp.dir, 'damaged.gz');
    writeFileSync(path, damage(gzipSync(readFileSync(fixture('basic.mtrace')))));
    const err = await eventLines(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe(`corrupt or truncated gzip data (${words})`);
  });

  // The inflate thread (src/trace/inflate-thread.ts) takes over from the reader's own loop at a
  // content offset: anywhere (inside an output step, at a step's or a member's edge, past the end),
  // the content and the errors are those of the one-thread read.
  it('reads the same content when the inflate thread takes over at any offset', async () => {
    const lines: string[] = ['= Start'];
    // About 1.6 MB: more 256 KiB chunks than the ring's four slots.
    for (let i = 0; i < 20_000; i++) lines.push(`@ /opt/service/bin/a-long-program-name:(handler_${i % 7}+0x1a)[0x${(0x401000 + i % 50).toString(16)}] + 0x${(0x10000 + i * 0x40).toString(16)} 0x${(i % 900 + 1).toString(16)}`);
    const text = Buffer.from(`${lines.join('\n')}\n`);
    const plainPath = join(tmp.dir, 'handoff.mtrace');
    writeFileSync(plainPath, text);
    const plain = (await eventLines(plainPath)).lines;
    const half = text.lastIndexOf(0x0a, text.length >> 1) + 1;
    const twoMembers = join(tmp.dir, 'handoff-two-members.gz');
    writeFileSync(twoMembers, Buffer.concat([gzipSync(text.subarray(0, half)), gzipSync(text.subarray(half)), Buffer.alloc(64)]));
    const outputStep = 256 * 1024; // read.ts GUNZIP_OUT_BYTES
    expect(text.length).toBeGreaterThan(5 * outputStep);
    for (const at of [0, 1, outputStep - 1, outputStep + 1, half, half + 7, text.length, text.length + 1]) {
      expect((await eventLines(twoMembers, { inflateHandoffAt: at })).lines, `handoff at ${at}`).toEqual(plain);
    }
    expect((await eventLines(twoMembers, { inflate: 'thread' })).lines).toEqual(plain);
  });

  it.each([
    ['a cut member', (gz: Buffer) => gz.subarray(0, gz.length - 20), 'unexpected end of file'],
    ['garbage after the member', (gz: Buffer) => Buffer.concat([gz, Buffer.from('garbage')]), 'incorrect header check'],
    ['a damaged checksum', (gz: Buffer) => { const b = Buffer.from(gz); b[b.length - 6]! ^= 0xff; return b; }, 'incorrect data check'],
  ])('%s, found by the inflate thread: the same words', async (_name, damage, words) => {
    const path = join(tmp.dir, 'damaged-thread.gz');
    writeFileSync(path, damage(gzipSync(readFileSync(fixture('basic.mtrace')))));
    for (const at of [0, 10]) {
      const err = await eventLines(path, { inflateHandoffAt: at }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toBe(`corrupt or truncated gzip data (${words})`);
      expect((err as InputError).file).toBe(path);
    }
  });

  it('reports a truncated gzip stream as bad input', async () => {
    const path = join(tmp.dir, 'cut.gz');
    const packed = gzipSync(Buffer.from('= Start\n@ [0x1] + 0x10 0x20\n'.repeat(2000)));
    writeFileSync(path, packed.subarray(0, packed.length - 20));
    const err = await eventLines(path, { format: 'mtrace' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/corrupt or truncated gzip/);
  });
});

describe('format detection', () => {
  it.each([
    ['basic.mtrace', 'mtrace'],
    ['truncated.mtrace', 'mtrace'],
    ['threads.ltrace', 'ltrace'],
    ['plain.ltrace', 'ltrace'],
    ['two-processes.logalloc', 'logalloc'],
    ['munged.logalloc', 'logalloc'],
    ['short.rep', 'rep'],
    ['sample.txt', 'text'],
  ])('%s is %s', (name, format) => {
    expect(detectFormat(readFileSync(fixture(name)))).toBe(format);
  });

  it('names the file and suggests --format when the content fits no format', async () => {
    const path = join(tmp.dir, 'notes.txt');
    writeFileSync(path, 'dear diary\ntoday I freed a pointer\n');
    await expect(openTrace(path, null)).rejects.toThrow(/cannot tell the trace format.*--format/);
  });

  it('lets --format override detection', async () => {
    const path = join(tmp.dir, 'looks-like-rep');
    copyFileSync(fixture('short.rep'), path);
    // Read as heapsim text, the .rep header is not a valid event line.
    await expect(eventLines(path, { format: 'text' })).rejects.toThrow(/malformed heapsim text line/);
  });
});
