// Each text reader's rules for what is malformed, with expectations written by hand from the
// format descriptions in docs/trace-format.md, not from any other implementation (the C oracle's
// mtrace parser is a port of ours, so agreeing with it proves nothing about these rules).
// A case is a trace body and either the events it gives (heapsim text lines) or the line number a
// malformed line is reported at.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { FormatName } from '../../src/trace/events.js';
import { eventLines, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

type Case = [name: string, body: string, expected: string[] | { malformedAt: number; why?: RegExp }];

async function check(format: FormatName, [, body, expected]: Case): Promise<void> {
  const path = join(tmp.dir, `c${n++}.${format}`);
  writeFileSync(path, body);
  if (Array.isArray(expected)) {
    const { lines, ledger } = await eventLines(path, { format });
    expect(lines).toEqual(expected);
    expect(ledger.input.malformedLines).toBe(0);
    return;
  }
  const err = await eventLines(path, { format }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).line).toBe(expected.malformedAt);
  if (expected.why) expect((err as InputError).message).toMatch(expected.why);
  // Under --lenient the same line is counted and skipped.
  const lenient = await eventLines(path, { format, lenient: true });
  expect(lenient.ledger.input.malformedLines).toBe(1);
}

const MTRACE: Case[] = [
  ['< then > is one realloc', '+ 0x10 0x8\n< 0x10\n> 0x20 0x18\n', ['a 0 8', 'r 0 24']],
  ['< must be followed by >: an alloc after it', '+ 0x10 0x8\n< 0x10\n+ 0x30 0x8\n', { malformedAt: 3 }],
  ['< must be followed by >: a free after it', '+ 0x10 0x8\n< 0x10\n- 0x10\n', { malformedAt: 3 }],
  ['< must be followed by >: another <', '+ 0x10 0x8\n< 0x10\n< 0x10\n', { malformedAt: 3 }],
  ['< must be followed by >: a failed realloc', '+ 0x10 0x8\n< 0x10\n! 0x10 0x8\n', { malformedAt: 3 }],
  ['> with no < before it', '+ 0x10 0x8\n> 0x20 0x18\n', { malformedAt: 2 }],
  ['< at the end: a call with unknown result', '+ 0x10 0x8\n< 0x10\n', ['a 0 8', 'x unknown-result']],
  ['= with another word', '= Start\n= Middle\n', { malformedAt: 2 }],
  ['unknown operator', '* 0x10 0x8\n', { malformedAt: 1 }],
  ['+ without a size', '+ 0x10\n', { malformedAt: 1 }],
  ['- with a size', '- 0x10 0x8\n', { malformedAt: 1 }],
  ['decimal size', '+ 0x10 8\n', { malformedAt: 1 }],
  ['prefix that is not "@ caller"', 'x + 0x10 0x8\n', { malformedAt: 1 }],
  ['NULL spellings: (nil) and bare 0', '+ (nil) 0x8\n+ 0x10 0\n- (nil)\n', ['x failed-alloc', 'a 0 0', 'x free-null']],
  ['a size that does not fit 64 bits', '+ 0x10 0x10000000000000000\n', { malformedAt: 1, why: /does not fit 64 bits/ }],
  // Numbers are `0x…`, a bare `0` or `(nil)`; nothing else, and the message gives no reason it does not have.
  ['a decimal size of several digits', '+ 0x10 123\n', { malformedAt: 1, why: /^malformed mtrace line: "\+ 0x10 123" \(use/ }],
  ['a size of 0x with no digits', '+ 0x10 0x\n', { malformedAt: 1 }],
  ['a pointer that is not a number', '+ 0x10 0x8\n- 16\n', { malformedAt: 2, why: /^malformed mtrace line: "- 16" \(use/ }],
  ['(nil) misspelled', '+ (nul) 0x8\n', { malformedAt: 1 }],
  ['an operator of two characters', '+ 0x10 0x8\n@ ./p:[0x1] ++ 0x20 0x8\n', { malformedAt: 2 }],
  ['an operator glued to the prefix', 'x+ 0x10 0x8\n', { malformedAt: 1 }],
  ['lines of only spaces and tabs are blank', '+ 0x10 0x8\n \t \n\t\n- 0x10\n', ['a 0 8', 'f 0']],
  ['< of pointer 0x1 (any pointer value can be pending)', '+ 0x1 0x8\n< 0x1\n> 0x20 0x18\n', ['a 0 8', 'r 0 24']],
];

const LTRACE: Case[] = [
  ['plain calls', 'malloc(16) = 0x1000\nfree(0x1000) = <void>\n', ['a 0 16', 'f 0']],
  ['result with no space around =', 'malloc(16)=0x1000\n', ['a 0 16']],
  ['a known call without a result', 'malloc(16)\n', { malformedAt: 1 }],
  ['a known call whose result is not a number', 'malloc(16) = banana\n', { malformedAt: 1, why: /result is not a number/ }],
  ['a size that is not a number', 'malloc(sixteen) = 0x1000\n', { malformedAt: 1 }],
  ['other functions are ignored, not malformed', 'strlen("x") = 1\nmalloc(8) = 0x10\n', ['a 0 8']],
  ['resumed without its call, for an allocator function', '<... malloc resumed> ) = 0x10\n', { malformedAt: 1 }],
  ['unfinished then resumed', '[pid 1] malloc(8 <unfinished ...>\n[pid 2] free(0x99) = <void>\n[pid 1] <... malloc resumed> ) = 0x10\n',
    ['thread 2', 'x unmatched-free', 'thread 1', 'a 0 8']],
  ['no return: unknown result', 'malloc(8 <no return ...>\n', ['x unknown-result']],
  ['a result above 2^64', 'malloc(8) = 0x10000000000000000\n', { malformedAt: 1, why: /does not fit 64 bits/ }],
];

const LOGALLOC: Case[] = [
  ['calls with results', '7 7 malloc(32)=0x10\n7 7 free(0x10)\n', ['thread 7', 'a 0 32', 'f 0']],
  ['an allocation without a result', '7 7 malloc(32)\n', { malformedAt: 1 }],
  ['not the pid tid fn(args) shape', '7 malloc 32\n', { malformedAt: 1 }],
  ['other processes are counted, not malformed', '7 7 malloc(32)=0x10\n8 8 malloc(32)=0x20\n', ['thread 7', 'a 0 32']],
  ['a pid above 2^53-1', '90071992547409930 1 malloc(32)=0x10\n', { malformedAt: 1, why: /above 2\^53-1/ }],
];

const REP: Case[] = [
  ['classic header and body', '0\n2\n3\n1\na 0 16\nr 0 32\nf 0\n', ['a 0 16', 'r 0 32', 'f 0']],
  ['five header numbers', '0\n2\n3\n1\n5\na 0 16\n', { malformedAt: 5 }],
  ['f with a size', 'a 0 16\nf 0 16\n', { malformedAt: 2 }],
  ['a without a size', 'a 0\n', { malformedAt: 1 }],
  ['unknown kind', 'x 0 16\n', { malformedAt: 1 }],
];

const TEXT: Case[] = [
  ['every kind', '#heapsim-trace 1\na 0 16\nc 1 32\nm 2 64 100\nr 0 48\nf 1\nx free-null\nmark m\ntick 5\nthread 3\n',
    ['a 0 16', 'c 1 32', 'm 2 64 128', 'r 0 48', 'f 1', 'x free-null', 'mark m', 'tick 5', 'thread 3']],
  ['r with size 0 frees', '#heapsim-trace 1\na 0 16\nr 0 0\n', ['a 0 16', 'f 0']],
  ['an alloc of a live id frees the older block first (an implicit free)', '#heapsim-trace 1\na 0 16\na 0 16\n', ['a 0 16', 'i 0', 'a 0 16']],
  ['an id above the limit', '#heapsim-trace 1\na 134217728 16\n', { malformedAt: 2, why: /larger than 134217727/ }],
  ['a free of an id above the limit is unmatched', '#heapsim-trace 1\nf 134217728\n', ['x unmatched-free']],
  ['an unknown skip reason', '#heapsim-trace 1\nx lost\n', { malformedAt: 2 }],
  ['extra tokens', '#heapsim-trace 1\nf 0 1\n', { malformedAt: 2 }],
  ['a negative size', '#heapsim-trace 1\na 0 -1\n', { malformedAt: 2 }],
  ['a tick above 2^53-1', '#heapsim-trace 1\ntick 9007199254740992\n', { malformedAt: 2, why: /tick above/ }],
  ['a size above 2^64-1', '#heapsim-trace 1\na 0 18446744073709551616\n', { malformedAt: 2, why: /does not fit 64 bits/ }],
];

describe.each([
  ['mtrace', MTRACE], ['ltrace', LTRACE], ['logalloc', LOGALLOC], ['rep', REP], ['text', TEXT],
] as const)('%s rules', (format, cases) => {
  it.each(cases.map((c) => [c[0], c] as const))('%s', async (_name, c) => {
    await check(format, c);
  });
});

describe('mtrace callers', () => {
  it('are interned once each; `<` lines name none; `@` with no caller text is no caller', async () => {
    const path = join(tmp.dir, 'callers.mtrace');
    writeFileSync(path, '@ ./a:[0x1] + 0x10 0x8\n@ ./b:(f+0x2)[0x2] + 0x20 0x8\n@ ./a:[0x1] + 0x30 0x8\n@ ./c:[0x3] < 0x10\n@ ./d:[0x4] > 0x40 0x18\n@ + 0x50 0x8\n');
    const { lines, ledger } = await eventLines(path, { format: 'mtrace' });
    expect(lines).toEqual(['a 0 8 @./a:[0x1]', 'a 1 8 @./b:(f+0x2)[0x2]', 'a 2 8 @./a:[0x1]', 'r 0 24 @./d:[0x4]', 'a 3 8']);
    expect(ledger.callers).toEqual(['./a:[0x1]', './b:(f+0x2)[0x2]', './d:[0x4]']);
  });

  it('two callers whose FNV-1a hashes collide stay two callers (the bytes confirm a hash hit)', async () => {
    const fnv = (s: string): number => { let h = 0x811c9dc5; for (const c of Buffer.from(s)) h = Math.imul(h ^ c, 0x01000193); return h; };
    const [x, y] = ['./prog:[0x1298b]', './prog:[0x598b8]'];
    expect(fnv(x)).toBe(fnv(y));
    const path = join(tmp.dir, 'collide.mtrace');
    writeFileSync(path, `@ ${x} + 0x10 0x8\n@ ${y} + 0x20 0x8\n@ ${y} + 0x30 0x8\n@ ${x} + 0x40 0x8\n`);
    const { ledger } = await eventLines(path, { format: 'mtrace' });
    expect(ledger.callers).toEqual([x, y]);
  });
});
