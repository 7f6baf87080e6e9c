// Reading a WinDbg text file: streamed in chunks, decoded as UTF-8 or UTF-16 (told by the byte
// order mark, or by the zero bytes ASCII text has in UTF-16), refused early when it is not text.
// Only regular files are read: a FIFO or a device could block or never end.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { lineSource } from './lines.js';
import type { LineSource } from './lines.js';
import { MAX_INPUT_BYTES, MAX_LINE_CHARS, READ_CHUNK_BYTES } from './limits.js';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

/** Bytes looked at to tell UTF-16 without a byte order mark from UTF-8. */
const SNIFF_BYTES = 4096;
/** Share of invalid or control characters in the first chunk above which the file is not text. */
const MAX_BAD_CHAR_SHARE = 0.01;
/** ...as long as there are at least this many (a few stray bytes in a long page are damage). */
const MIN_BAD_CHARS = 8;

export interface WindbgInput {
  lines: LineSource;
  encoding: TextEncodingName;
  /** How the file was read, when the reader had to decide something (e.g. UTF-16). */
  notes: string[];
  close(): void;
}

function fileError(err: unknown, name: string): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    ENOTDIR: 'no such file (a part of the path is not a directory)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ELOOP: 'too many levels of symbolic links',
    ENAMETOOLONG: 'file name too long',
    EISDIR: 'is a directory, not a file',
  };
  return new InputError(code !== undefined && why[code] !== undefined ? why[code]! : `cannot read (${code ?? 'error'})`, name);
}

/** Tells the encoding from the first bytes; returns it and the number of BOM bytes. */
export function sniffEncoding(head: Uint8Array): { encoding: TextEncodingName; bom: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bom: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bom: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bom: 2 };
  const n = Math.min(head.length, SNIFF_BYTES) & ~1;
  if (n >= 4) {
    let evenZero = 0, oddZero = 0;
    for (let i = 0; i < n; i += 2) {
      if (head[i] === 0) evenZero++;
      if (head[i + 1] === 0) oddZero++;
    }
    const pairs = n / 2;
    // ASCII in UTF-16LE: every second byte (the high one) is zero, the other almost never.
    if (oddZero >= pairs * 0.6 && evenZero <= pairs * 0.05) return { encoding: 'utf-16le', bom: 0 };
    if (evenZero >= pairs * 0.6 && oddZero <= pairs * 0.05) return { encoding: 'utf-16be', bom: 0 };
  }
  return { encoding: 'utf-8', bom: 0 };
}

/** Opens a WinDbg text file for streaming. Throws InputError (one line) for every refusal. */
export function openWindbgFile(path: string, name: string = path): WindbgInput {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    throw fileError(err, name);
  }
  if (stat.isDirectory()) throw new InputError('is a directory, not a file', name);
  if (!stat.isFile()) throw new InputError('is not a regular file (a FIFO, device or socket); save the WinDbg output to a file and read that', name);
  if (stat.size > MAX_INPUT_BYTES) {
    throw new InputError(`is ${stat.size} bytes; analyze reads WinDbg text files of at most ${MAX_INPUT_BYTES} bytes`, name);
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fileError(err, name);
  }
  let open = true;
  const close = (): void => { if (open) { open = false; closeSync(fd); } };
  try {
    if (!fstatSync(fd).isFile()) throw new InputError('is not a regular file', name);
    return streamLines(fd, name, close);
  } catch (err) {
    close();
    throw err;
  }
}

function streamLines(fd: number, name: string, close: () => void): WindbgInput {
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let offset = 0; // bytes read so far
  let eof = false;
  const readChunk = (): Uint8Array => {
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n === 0) { eof = true; return new Uint8Array(0); }
    const chunk = buffer.subarray(0, n);
    offset += n;
    if (offset > MAX_INPUT_BYTES) throw new InputError(`is larger than ${MAX_INPUT_BYTES} bytes, the most analyze reads`, name);
    return chunk;
  };

  let first = readChunk();
  const { encoding, bom } = sniffEncoding(first);
  const notes: string[] = [];
  if (encoding !== 'utf-8') notes.push(`read as ${encoding === 'utf-16le' ? 'UTF-16LE' : 'UTF-16BE'} text (${bom > 0 ? 'byte order mark' : 'zero bytes between ASCII characters'})`);
  else if (bom > 0) notes.push('read as UTF-8 text (byte order mark)');
  first = first.subarray(bom);
  const decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: true });

  let lineNo = 0;
  let carry = '';
  let queue: string[] = [];
  let at = 0;
  let chunkStart = bom; // byte offset of the chunk being decoded (for messages)
  let checkedFirst = false;

  const binary = (why: string): never => {
    throw new InputError(`${why}: this is not text; analyze reads WinDbg output saved as UTF-8 or UTF-16 text`, name);
  };

  const take = (chunk: Uint8Array, final: boolean): void => {
    if (encoding === 'utf-8') {
      const nul = chunk.indexOf(0);
      if (nul >= 0) binary(`byte ${chunkStart + nul}: NUL byte`);
    }
    const text = decoder.decode(chunk, { stream: !final });
    if (encoding !== 'utf-8' && text.includes('\u0000')) binary(`byte ${chunkStart}: NUL character`);
    if (!checkedFirst && text.length > 0) {
      checkedFirst = true;
      let bad = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0xfffd || (c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11 && c !== 0x1b)) bad++;
      }
      if (bad >= MIN_BAD_CHARS && bad > text.length * MAX_BAD_CHAR_SHARE) {
        binary(`${bad} of the first ${text.length} characters are control characters or invalid ${encoding === 'utf-8' ? 'UTF-8' : 'UTF-16'}`);
      }
    }
    chunkStart += chunk.length;
    let s = carry + text;
    // A CR at the end may be the first half of CRLF: keep it for the next chunk.
    let held = '';
    if (!final && s.endsWith('\r')) { held = '\r'; s = s.slice(0, -1); }
    queue = [];
    at = 0;
    const re = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      queue.push(s.slice(start, m.index));
      start = m.index + m[0].length;
    }
    carry = s.slice(start) + held;
    if (carry.length > MAX_LINE_CHARS) {
      throw new InputError(`line is longer than ${MAX_LINE_CHARS} characters, the longest analyze reads (WinDbg prints a few hundred)`, name, lineNo + queue.length + 1);
    }
    for (const l of queue) {
      if (l.length > MAX_LINE_CHARS) {
        throw new InputError(`line is longer than ${MAX_LINE_CHARS} characters, the longest analyze reads (WinDbg prints a few hundred)`, name, lineNo + queue.indexOf(l) + 1);
      }
    }
    if (final && carry.length > 0) { queue.push(carry); carry = ''; }
  };

  let pendingFirst: Uint8Array | undefined = first;
  let finished = false;
  const raw = (): string | undefined => {
    while (at >= queue.length) {
      if (finished) { close(); return undefined; }
      if (pendingFirst !== undefined) {
        const c = pendingFirst;
        pendingFirst = undefined;
        take(c, eof);
        if (eof) finished = true;
        continue;
      }
      const chunk = readChunk();
      take(chunk, eof);
      if (eof) finished = true;
    }
    return queue[at++];
  };
  return { lines: lineSource(raw, () => ++lineNo), encoding, notes, close };
}
