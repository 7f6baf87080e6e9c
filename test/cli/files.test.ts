// Files in and out of the command line (regression tests for the reliability report's failures 1,
// 9, 13 and 14): inputs that are not regular files are refused in one line; outputs are written
// under a temporary name and renamed only when complete, non-regular targets are refused, write
// errors are one line and exit 1, Ctrl-C and a closed pipe leave nothing behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { tempDir } from '../trace/helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../trace/fixtures/basic.mtrace', import.meta.url));
/** The repository: child processes run here so that `--import tsx` resolves. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let n = 0;
const dir = (): string => {
  const d = join(tmp.dir, `d${n++}`);
  mkdirSync(d);
  return d;
};
/** Everything in a directory (temporary files are dot files). */
const listing = (d: string): string[] => readdirSync(d).sort();

function fifo(path: string): boolean {
  return spawnSync('mkfifo', [path]).status === 0;
}

/** Special paths: name → what the message calls it. */
function specialPaths(d: string): [string, RegExp][] {
  const out: [string, RegExp][] = [[join(d, 'a-directory'), /a directory/]];
  mkdirSync(out[0]![0]);
  symlinkSync('loop-b', join(d, 'loop-a'));
  symlinkSync('loop-a', join(d, 'loop-b'));
  out.push([join(d, 'loop-a'), /too many levels of symbolic links \(ELOOP\)/]);
  if (fifo(join(d, 'a-fifo'))) out.push([join(d, 'a-fifo'), /a FIFO/]);
  out.push(['/dev/null', /a character device/]);
  return out;
}

function oneLine(stderr: string): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('inputs that are not regular files', () => {
  it('run, stats and convert refuse a directory, a symlink loop, a FIFO and a device in one line, exit 2', async () => {
    const d = dir();
    for (const [path, kind] of specialPaths(d)) {
      for (const argv of [['stats', path], ['run', path], ['convert', path, '-o', join(d, 'out.hst')]]) {
        const r = await cli(...argv);
        expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
        oneLine(r.stderr);
        expect(r.stderr).toContain(path);
        expect(r.stderr).toMatch(kind);
      }
    }
    expect(existsSync(join(d, 'out.hst'))).toBe(false);
  });
});

describe('output files', () => {
  it('a target that is not a regular file is refused and left alone', async () => {
    const d = dir();
    writeFileSync(join(d, 'real.hst'), 'keep');
    symlinkSync('real.hst', join(d, 'link.hst'));
    // As outputs, symlinks (a loop too) are refused as symlinks: heapsim never writes through one.
    const targets: [string, RegExp][] = [[join(d, 'link.hst'), /a symbolic link/],
      ...specialPaths(d).filter(([p]) => p !== '/dev/null').map(([p, k]): [string, RegExp] => [p, p.endsWith('loop-a') ? /a symbolic link/ : k])];
    // A private device node when we may make one (never the real /dev/full or /dev/null).
    if (spawnSync('mknod', [join(d, 'full'), 'c', '1', '7']).status === 0) targets.push([join(d, 'full'), /a character device/]);
    for (const [target, kind] of targets) {
      const r = await cli('convert', FIXTURE, '-o', target);
      expect(r.code, r.stderr).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/refusing to write/);
      expect(r.stderr).toMatch(kind);
    }
    expect(readFileSync(join(d, 'real.hst'), 'utf8')).toBe('keep');
    expect(listing(d).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a bad line after megabytes of good ones: one line, exit 2, no temporary file, the old target intact', async () => {
    const d = dir();
    const input = join(d, 'bad.txt');
    writeFileSync(input, '#heapsim-trace 1\n' + Array.from({ length: 200_000 }, (_, i) => `a ${i} 16\n`).join('') + 'bogus line\n');
    writeFileSync(join(d, 'out.hst'), 'old');
    for (const out of ['out.hst', 'out.hst.gz']) {
      const r = await cli('convert', input, '-o', join(d, out));
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/bad\.txt:200002: malformed heapsim text line/);
    }
    expect(listing(d)).toEqual(['bad.txt', 'out.hst']);
    expect(readFileSync(join(d, 'out.hst'), 'utf8')).toBe('old');
  });

  it('a write error (file too large under ulimit -f) is one line, exit 1, and leaves nothing', () => {
    const d = dir();
    const input = join(d, 'big.mtrace');
    writeFileSync(input, '= Start\n' + Array.from({ length: 100_000 }, (_, i) => `@ [0x1] + 0x${(0x1000 + i * 16).toString(16)} 0x10\n`).join(''));
    writeFileSync(join(d, 'out.hst'), 'old');
    const r = spawnSync('sh', ['-c', `ulimit -f 64; exec "${process.execPath}" --import tsx "${BIN}" convert "${input}" -o "${join(d, 'out.hst')}"`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toBe(`heapsim convert: cannot write ${join(d, 'out.hst')}: file too large (EFBIG)\n`);
    expect(listing(d)).toEqual(['big.mtrace', 'out.hst']);
    expect(readFileSync(join(d, 'out.hst'), 'utf8')).toBe('old');
  });

  it('Ctrl-C in the middle of a conversion leaves no partial file and the old target intact', async () => {
    const d = dir();
    writeFileSync(join(d, 'huge.mtrace'), '= Start\n' + Array.from({ length: 600_000 }, (_, i) => `@ [0x1] + 0x${(0x1000 + i * 16).toString(16)} 0x10\n`).join(''));
    writeFileSync(join(d, 'out.hst'), 'old');
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'convert', join(d, 'huge.mtrace'), '-o', join(d, 'out.hst')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    // Wait for the temporary file to appear, then interrupt.
    const started = Date.now();
    while (!listing(d).some((f) => f.startsWith('.out.hst.')) && Date.now() - started < 30_000 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(listing(d).some((f) => f.startsWith('.out.hst.'))).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(stderr).toBe('');
    expect(listing(d)).toEqual(['huge.mtrace', 'out.hst']);
    expect(readFileSync(join(d, 'out.hst'), 'utf8')).toBe('old');
  });

  it('stdout closed by head ends the command quietly', () => {
    const d = dir();
    writeFileSync(join(d, 't.mtrace'), readFileSync(FIXTURE));
    // bash: PIPESTATUS holds heapsim's own exit status.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" --import tsx "${BIN}" stats "${join(d, 't.mtrace')}" --json | head -c 1; echo " status=\${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('{ status=0\n');
  });
});
