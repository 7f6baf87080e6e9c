// Every example command in the README runs here, as written: the `sh` code blocks, the `run:` steps
// of the CI job, and the inline `analyze` example. `npx heapsim` is this checkout's CLI
// (dist/cli/bin.js), run by the shell so quoting is the README's own; each block runs in a fresh
// directory so files it writes (t.mtrace) stay out of the repository. `npm install` and `npm test`
// are what .ci/run runs; `npm run build:web` is run by the browser test, `npm run bench` is a
// long campaign outside `npm test` (both are checked to exist); `npm run web` is started and its page
// fetched. What each command promises in the README is asserted on its output.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** Commands of each ```sh block, and the `run:` steps of the ```yaml block, in README order. */
function blocks(): { lang: string; commands: string[] }[] {
  const out: { lang: string; commands: string[] }[] = [];
  for (const m of README.matchAll(/```(sh|yaml)\n([\s\S]*?)```/g)) {
    const lines = m[2]!.split('\n');
    const commands = m[1] === 'sh'
      ? lines.map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '')
      : lines.map((l) => /^\s*- run: (.*)$/.exec(l)?.[1]?.trim()).filter((l): l is string => l !== undefined);
    out.push({ lang: m[1]!, commands });
  }
  return out;
}

function sh(command: string, cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', command.replaceAll('npx heapsim', `node ${JSON.stringify(BIN)}`)], {
    cwd, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const freshDir = (): string => { const d = mkdtempSync(join(tmpdir(), 'heapsim-readme-')); dirs.push(d); return d; };

describe('README example commands', () => {
  const all = blocks();
  const heapsim = all.flatMap((b) => b.commands.filter((c) => c.startsWith('npx heapsim ')));
  const npm = all.flatMap((b) => b.commands.filter((c) => c.startsWith('npm ')));

  it('finds the examples (so a README rewrite cannot empty this test)', () => {
    expect(heapsim.length).toBeGreaterThanOrEqual(8);
    expect(npm).toEqual(expect.arrayContaining(['npm install', 'npm run web', 'npm run build:web', 'npm ci']));
  });

  it('npm commands: install and test are what CI runs; every `npm run` script exists', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm install$/m);
    expect(ci).toMatch(/^npm test$/m);
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    for (const c of npm) {
      const run = /^npm run (\S+)/.exec(c);
      if (run) expect(Object.keys(scripts)).toContain(run[1]);
    }
    // The browser test builds the page with `npm run build:web` (test/browser/playground.test.ts).
    expect(readFileSync(join(ROOT, 'test', 'browser', 'playground.test.ts'), 'utf8')).toContain("['run', 'build:web']");
  });

  it('npm run web serves the playground', async () => {
    const port = await new Promise<number>((res) => { const s = createServer().listen(0, () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); }); });
    const child = spawn('npm', ['run', 'web', '--', '--port', String(port), '--strictPort'], { cwd: ROOT, stdio: 'ignore', detached: true });
    try {
      let html = '';
      for (let i = 0; i < 60 && !html.includes('</html>'); i++) {
        await new Promise((r) => setTimeout(r, 500));
        html = await fetch(`http://localhost:${port}/`).then((r) => r.text()).catch(() => '');
      }
      expect(html).toMatch(/heapsim/i);
    } finally {
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
    }
  }, 60_000);

  it('every `npx heapsim` command of the sh blocks runs and shows what the README says', () => {
    for (const b of all.filter((x) => x.lang === 'sh')) {
      const cwd = freshDir();
      for (const c of b.commands.filter((x) => x.startsWith('npx heapsim '))) {
        const r = sh(c, cwd);
        expect([c, r.code, r.stderr.split('\n').filter((l) => /internal error|^\s+at |usage error/i.test(l))]).toEqual([c, 0, []]);
        if (c === 'npx heapsim demo') {
          expect(r.stdout).toMatch(/^verdict: second-order: .*free space trapped between live blocks/m);
          expect(r.stdout).toMatch(/^0:000> !heap -s$/m);
        }
        if (c.startsWith('npx heapsim run peak-hour')) expect(r.stdout).toMatch(/^verdict: second-order: /m);
        if (c.startsWith('npx heapsim record')) expect(existsSync(join(cwd, 't.mtrace'))).toBe(true);
        if (c === 'npx heapsim run t.mtrace --policy ptmalloc') {
          // The Linux example: a recorded program that retains memory under glibc, the verdict, the trim what-if.
          const lines = r.stdout.split('\n');
          expect(lines[0]).toMatch(/^heapsim run: t\.mtrace on ptmalloc \(x64, profile bare, Linux view\): \d+ events$/);
          expect(lines[2]).toMatch(/^verdict: second-order: 2\d\.\d MiB retained at the end \(committed − live; 2\d\.\d MiB of it resident\), mostly free chunks below a live chunk/);
          expect(lines[3]).toMatch(/^what malloc_trim\(0\) would give back at the end \(event \d+\): 2\d\.\d MiB of RSS/);
          expect(r.stdout).toMatch(/^committed peak +\d+ /m);
          expect(r.stdout).toMatch(/^heap 0 ptmalloc: heap \(brk\) [\d.]+ MiB, mmap /m);
          expect(r.stdout).toMatch(/^ {2}mallinfo2\(\): arena \d+, ordblks/m);
          expect(r.stdout).not.toMatch(/!address|Usage SUMMARY|TotSize/);
        }
        if (c.includes('--trim-at end')) {
          expect(r.stdout).toMatch(/^#20000 +20000 /m);
          expect(r.stdout).toMatch(/trim what-ifs|what malloc_trim\(0\) would give back at end|what malloc_trim\(0\) would give back at the end/);
          expect(r.stdout).toMatch(/^verdict: second-order: /m);
        }
        if (c.includes('--env') && c.includes('t.mtrace')) expect(r.stdout).toMatch(/^verdict: second-order: /m);
        if (c.startsWith('npx heapsim run mt.hst')) expect(r.stdout).toMatch(/^verdict: (none|first-order|second-order): /m); // arenas follow the machine's cores ($(nproc)): not pinned
        if (c.startsWith('npx heapsim record -o mt.hst')) expect(r.stderr).toMatch(/\d+ threads, \d+ exits/);
      }
    }
  }, 240_000);

  it('the CI job records its test program and the gate fails it with exit 1, naming the limit', () => {
    const yaml = all.find((b) => b.lang === 'yaml')!;
    const steps = yaml.commands.filter((c) => c.startsWith('npx heapsim '));
    expect(steps).toHaveLength(2);
    const cwd = freshDir();
    const rec = sh(steps[0]!, cwd);
    expect(rec.code, rec.stderr).toBe(0);
    const gate = sh(steps[1]!, cwd);
    expect(gate.code).toBe(1);
    expect(gate.stderr).toMatch(/^heapsim run: limit failed: verdict second-order \(--fail-on second-order,out-of-memory\): /m);
    expect(gate.stderr).not.toMatch(/--max-peak/); // the peak is under its limit
    expect(README).toContain('`heapsim run: limit failed: verdict second-order (--fail-on second-order,out-of-memory): …`, exit 1');
  }, 120_000);

  it('the inline analyze example answers second-order with the numbers the README quotes', () => {
    const m = /`heapsim (analyze test\/fixtures\/seed-second-order\.txt)`/.exec(README);
    expect(m).not.toBeNull();
    const r = sh(`npx heapsim ${m![1]}`, ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/second-order/);
    expect(r.stdout).toMatch(/\+498\.1 MiB/);
    expect(README).toContain('committed rose by 498.1 MiB while heap 00310000 kept its\n1255320 K reservation');
    expect(r.stdout).toMatch(/1255320 K/);
  });
});
