// Fuzz properties of the command line: option names and values, and special paths as inputs and
// outputs. Every outcome meets the oracle (oracle.ts); heavy work is kept out of the CI budget by
// giving `run`, `sweep` and `stats` a tiny trace rather than a built-in workload, and by leaving
// out `record` (it runs programs) and `demo` (it always runs its workload).
import fc from 'fast-check';
import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { policyNames } from '../../src/policies/registry.js';
import { checkOutcome, runCli } from './oracle.js';
import { scratchFile, type FuzzProperty } from './properties.js';

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'prototype'];
const TINY_TRACE = '#heapsim-trace 1\na 0 16\nc 1 32\nmark m\nr 0 64\nf 1\n';

const valueArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '1', '7', '-1', '1e3', '0x10', '4K', '64k', '1.5M', '99999999999999999999', 'NaN', 'Infinity', '', ' ',
    'x86', 'x64', 'x86-3gb', 'bare', 'windows-service-x86', 'hst', 'text', 'mtrace', 'ltrace', 'logalloc', 'rep',
    'peak-hour', 'm', 'end', 'a,b', ',', '1,2,3', 'MALLOC_TOP_PAD_=0', 'GLIBC_TUNABLES=glibc.malloc.tcache_count=0',
    'parent=pool', 'parent=nt', 'parent.chunkBytes=64K', '__proto__=1', 'constructor=1', '=1', 'a', 'lfh=1', 'top_pad=0',
    'MIMALLOC___PROTO__=1', 'MIMALLOC_CONSTRUCTOR=1', 'MALLOC_CONF=__proto__:1', 'TCMALLOC___PROTO__=1', 'GLIBC_TUNABLES=glibc.malloc.__proto__=1'),
  fc.constantFrom(...policyNames(), ...PROTOTYPE_NAMES),
  fc.constantFrom(...policyNames()).chain((p) => fc.constantFrom(`${p}`, `${p},first-fit`)),
  fc.string({ maxLength: 20 }),
  fc.constant('z'.repeat(5000)),
  fc.constant('line\nbreak'),
);

const OPTION_NAMES = ['--policy', '--arch', '--profile', '--seed', '--every', '--set', '--json', '--csv', '--env', '--trim-at',
  '--format', '--lenient', '--top', '--to', '-o', '--output', '--jobs', '--help', '-h', '--against', '--bogus', '-x', '--', '--set='];

const argvArb = fc.record({
  command: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('run', 'stats', 'convert', 'sweep', 'analyze') },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES, 'help', '--help', '--version', 'nope', '') },
  ),
  positional: fc.constantFrom('$TRACE', '$TRACE', '$TRACE', 'no-such-file.mtrace', '$DIR', 'peak-hour-typo', ...PROTOTYPE_NAMES),
  options: fc.array(fc.tuple(fc.constantFrom(...OPTION_NAMES), fc.option(valueArb, { nil: undefined })), { maxLength: 5 }),
});

type ArgvCase = { command: string; positional: string; options: Array<[string, string | undefined]> };

const cliArgs: FuzzProperty<ArgvCase> = {
  name: 'option names and values × every command',
  arbitrary: argvArb,
  ciRuns: 150,
  async check(c) {
    const trace = scratchFile('tiny.txt', TINY_TRACE);
    const out = scratchFile('cli-out.hst', '');
    const argv: string[] = [c.command];
    argv.push(c.positional === '$TRACE' ? trace : c.positional === '$DIR' ? dirname(trace) : c.positional);
    for (const [name, value] of c.options) {
      argv.push(name === '-o' || name === '--output' ? name : name);
      if (name === '-o' || name === '--output') argv.push(out);
      else if (value !== undefined) argv.push(value);
    }
    if (c.command === 'sweep' && !argv.includes('--jobs')) argv.push('--jobs', '1');
    const o = await runCli(argv.filter((a) => a !== ''));
    checkOutcome(o);
  },
};

/** Paths that are not plain files, made once per process in the scratch directory. */
function specialPaths(): Record<string, string> {
  const base = dirname(scratchFile('anchor', ''));
  const dir = join(base, 'special');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    mkdirSync(join(dir, 'a-dir'));
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    symlinkSync('a-dir', join(dir, 'link-to-dir'));
    symlinkSync('nowhere', join(dir, 'dangling'));
    spawnSync('mkfifo', [join(dir, 'a-fifo')]);
    spawnSync('mknod', [join(dir, 'a-device'), 'c', '1', '7']); // private node, never /dev/full itself
  }
  const paths: Record<string, string> = {
    directory: join(dir, 'a-dir'), 'symlink loop': join(dir, 'loop-a'), 'link to a directory': join(dir, 'link-to-dir'),
    'dangling link': join(dir, 'dangling'), 'missing file': join(dir, 'missing.mtrace'), 'missing directory': join(dir, 'nope', 'x.hst'),
    'file as directory': join(scratchFile('plain.txt', TINY_TRACE), 'x'), 'trailing slash': scratchFile('slash.txt', TINY_TRACE) + '/',
    'empty file': scratchFile('empty.mtrace', ''), 'very long name': join(dir, 'n'.repeat(5000)), 'newline in name': join(dir, 'a\nb'),
    '/dev/null': '/dev/null', '/dev/zero': '/dev/zero',
  };
  if (existsSync(join(dir, 'a-fifo'))) paths.FIFO = join(dir, 'a-fifo');
  if (existsSync(join(dir, 'a-device')) && lstatSync(join(dir, 'a-device')).isCharacterDevice()) paths['device node'] = join(dir, 'a-device');
  return paths;
}

/** A directory's entries, [] when it is none. */
function listing(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

type PathCase = { kind: string; role: 'input' | 'output'; command: string };

const paths: FuzzProperty<PathCase> = {
  name: 'special paths × run/stats/convert/analyze',
  arbitrary: fc.record({
    kind: fc.constantFrom('directory', 'symlink loop', 'link to a directory', 'dangling link', 'missing file', 'missing directory',
      'file as directory', 'trailing slash', 'empty file', 'very long name', 'newline in name', '/dev/null', '/dev/zero', 'FIFO', 'device node'),
    role: fc.constantFrom('input' as const, 'output' as const),
    command: fc.constantFrom('run', 'stats', 'convert', 'analyze'),
  }),
  ciRuns: 60,
  async check(c) {
    const all = specialPaths();
    const path = all[c.kind];
    if (path === undefined) return; // this machine cannot make it (mkfifo, mknod)
    const trace = scratchFile('ok.txt', TINY_TRACE);
    const before = listing(dirname(path));
    const argv = c.role === 'output' ? ['convert', trace, '-o', path]
      : c.command === 'convert' ? ['convert', path, '-o', scratchFile('p-out.hst', '')] : [c.command, path];
    const o = await runCli(argv);
    checkOutcome(o);
    // A new name or a regular file is a fine output; nothing else is a fine input or output (an
    // empty file is no WinDbg output either: analyze refuses it too).
    const writable = c.role === 'output' && ['missing file', 'empty file', 'newline in name'].includes(c.kind);
    expect(o.code, o.stderr).toBe(writable ? 0 : 2);
    if (writable) {
      if (c.kind !== 'empty file') unlinkSync(path); // leave the special names as they were for later cases
    } else if (c.role === 'output') {
      expect(listing(dirname(path))).toEqual(before); // nothing created or replaced beside a refused target
    }
  },
};

export const CLI_PROPERTIES: FuzzProperty<never>[] = [cliArgs, paths] as unknown as FuzzProperty<never>[];
