// The start of `heapsim` (issue 16, point 3: the CLI's imports were ~170-190 ms of every run).
//   - `heapsim run X.hst` loads only what a .hst run uses: a child process runs the built CLI's
//     main() (dist/cli/main.js: the module graph that the bundle's lazy parts follow) under a module
//     hook that writes down every module loaded, and none of the modules below may be among them.
//   - The installed command (package.json "bin": dist/cli/heapsim.cjs) runs that CLI bundled into
//     one CommonJS file (`npm run build:cli`, dist/cli/bundle.cjs) with V8's code cache: it finds
//     the engine's .wasm, registers the policies with the engine's ids and starts sweep's worker
//     threads as the unbundled modules do (same output); `node dist/cli/bin.js` runs it too.
//   - The code cache is used, and a bundle changed after its cache was made (same length: V8's
//     own check passes) runs its own code, not the cache's.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeSyntheticHst } from '../../src/trace/synthetic.js';
import { tempDir } from '../trace/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = pathToFileURL(join(ROOT, 'dist')).href + '/';
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Modules a .hst run must not load (paths under dist/, without .js): a prefix ending in / is a folder. */
const NOT_FOR_HST_RUN = [
  'workload/', 'windbg/', 'advise/', 'sweep/', 'shard/', 'web/', 'worker/',
  'cli/commands/advise', 'cli/commands/analyze', 'cli/commands/sweep', 'cli/commands/record', 'cli/commands/demo',
  'cli/inputs', 'policies/catalog',
  'trace/formats/mtrace', 'trace/formats/ltrace', 'trace/formats/logalloc', 'trace/formats/rep', 'trace/formats/calls',
  'trace/address-map', 'trace/convert', 'trace/stats', 'trace/decoded-cache',
];
/** Modules it does load: proof that the hook saw the run. */
const LOADED_BY_HST_RUN = ['cli/commands/run', 'trace/formats/hst-wasm', 'engine/engine', 'report/text'];
const HST_EVENTS = 500;
const CLI_DIR = join(ROOT, 'dist', 'cli');
/** The installed command. */
const BIN = join(ROOT, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { heapsim: string } }).bin.heapsim);
/** `node dist/cli/bin.js`: the same command through an ES module of the package. */
const BIN_JS = join(CLI_DIR, 'bin.js');
const BUNDLE = join(CLI_DIR, 'bundle.cjs');
/** The last policy of src/policies/registry.ts: a bundle that registered them in another order would not load. */
const LAST_REGISTERED_POLICY = 'mimalloc';
/** Above it, the bundle holds the CLI's modules, not a few-line entry. */
const BUNDLE_MIN_BYTES = 100_000;
/** What the launcher writes to stderr with HEAPSIM_CODE_CACHE=report (src/cli/heapsim.cts). */
const CACHE_USED = 'code cache: used';
const CACHE_NOT_USED = 'code cache: not used';
/** The largest byte value of an ASCII character. */
const ASCII_MAX = 0x7f;
const hst = join(tmp.dir, 'small.hst');
beforeAll(() => writeSyntheticHst(hst, { events: HST_EVENTS, seed: 1 }));

/** Runs `heapsim <args>` through dist/cli/main.js; the dist/ modules it loaded, as paths without .js. */
function modulesLoaded(args: string[]): { modules: string[]; status: number | null; stdout: string; stderr: string } {
  const list = join(tmp.dir, 'modules.txt');
  // The hook runs on the loader's thread: it appends each module's URL to the file named in the
  // environment (an import() inside a hook would wait for the hook itself: getBuiltinModule).
  const hook = `export async function load(url, context, next) {
    const { appendFileSync } = process.getBuiltinModule('node:fs');
    appendFileSync(process.env.HEAPSIM_MODULE_LIST, url + '\\n');
    return next(url, context);
  }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const driver = `const { main } = await import(${JSON.stringify(`${DIST}cli/main.js`)});
    process.exitCode = await main(${JSON.stringify(args)}, { stdout: process.stdout, stderr: process.stderr });`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', driver], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, HEAPSIM_MODULE_LIST: list },
  });
  const modules = readFileSync(list, 'utf8').split('\n')
    .filter((url) => url.startsWith(DIST))
    .map((url) => url.slice(DIST.length).replace(/\.js$/, ''));
  return { modules, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('heapsim run X.hst loads no workload, text reader, WinDbg, advise, sweep or worker module', () => {
  const r = modulesLoaded(['run', hst, '--policy', 'nt']);
  expect(r.stderr).toContain(`trace: ${HST_EVENTS} events (hst)`);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^verdict: /m);
  for (const m of LOADED_BY_HST_RUN) expect(r.modules, m).toContain(m);
  const heavy = r.modules.filter((m) => NOT_FOR_HST_RUN.some((p) => (p.endsWith('/') ? m.startsWith(p) : m === p)));
  expect(heavy).toEqual([]);
});

/** `heapsim <args>` as installed (or through another entry file). */
function bin(args: string[], entry = BIN, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [entry, ...args], { cwd: tmp.dir, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('the bundled heapsim gives the run document of the unbundled modules, and sweeps on worker threads', () => {
  expect(statSync(BUNDLE).size).toBeGreaterThan(BUNDLE_MIN_BYTES);
  const args = ['run', hst, '--policy', LAST_REGISTERED_POLICY, '--json'];
  const bundled = bin(args);
  expect(bundled.status, bundled.stderr).toBe(0);
  const modules = modulesLoaded(args);
  expect(JSON.parse(bundled.stdout)).toEqual(JSON.parse(modules.stdout));
  const throughBinJs = bin(args, BIN_JS);
  expect(throughBinJs.status, throughBinJs.stderr).toBe(0);
  expect(throughBinJs.stdout).toBe(bundled.stdout);
  expect(JSON.parse(bundled.stdout).policy).toBe(LAST_REGISTERED_POLICY);
  const sweep = ['sweep', hst, '--policy', `nt,${LAST_REGISTERED_POLICY}`, '--csv'];
  const inWorkers = bin([...sweep, '--jobs', '2']);
  expect(inWorkers.status, inWorkers.stderr).toBe(0);
  const inMain = bin([...sweep, '--jobs', '1']);
  expect(inWorkers.stdout).toBe(inMain.stdout);
  expect(inWorkers.stdout.trim().split('\n')).toHaveLength(3); // the header and one line per policy
});

it('the bundle is ASCII, so V8 keeps its source as a one-byte string (half the memory, faster to scan)', () => {
  const bytes = readFileSync(BUNDLE);
  const at = bytes.findIndex((b) => b > ASCII_MAX);
  expect(at, at < 0 ? '' : `a non-ASCII byte at ${at}: ${bytes.subarray(Math.max(0, at - 60), at + 20).toString('utf8')}`).toBe(-1);
});

it('the bundle is written in Node\'s module wrapper, compiled as read (no joined copy); a bundle without it is wrapped at the start and runs the same', async () => {
  const { WRAP_START, WRAP_END } = await import(pathToFileURL(join(CLI_DIR, 'code-cache.cjs')).href) as { WRAP_START: string; WRAP_END: string };
  const text = readFileSync(BUNDLE, 'utf8');
  expect(text.startsWith(WRAP_START)).toBe(true);
  expect(text.endsWith(WRAP_END)).toBe(true);
  const copy = join(tmp.dir, 'cli-unwrapped');
  mkdirSync(copy);
  for (const f of ['heapsim.cjs', 'code-cache.cjs', 'bundle.cache']) copyFileSync(join(CLI_DIR, f), join(copy, f));
  writeFileSync(join(copy, 'bundle.cjs'), text.slice(WRAP_START.length, text.length - WRAP_END.length));
  const unwrapped = bin(['--version'], join(copy, 'heapsim.cjs')); // a copy away from build/: no engine
  expect(unwrapped.status, unwrapped.stderr).toBe(0);
  expect(unwrapped.stdout).toMatch(/^heapsim /);
  expect(unwrapped.stdout).toBe(bin(['--version']).stdout);
});

it('the code cache is used, and only for the bundle it was made from', () => {
  const report = { ...process.env, HEAPSIM_CODE_CACHE: 'report' };
  const installed = bin(['--version'], BIN, report);
  expect(installed.status).toBe(0);
  expect(installed.stderr).toContain(CACHE_USED);
  // A copy of the command whose bundle differs in one word of the same length: V8 alone would
  // take the stale cache (it checks the source's length) and print the old word.
  const copy = join(tmp.dir, 'cli-copy');
  mkdirSync(copy);
  for (const f of ['heapsim.cjs', 'code-cache.cjs', 'bundle.cjs', 'bundle.cache']) copyFileSync(join(CLI_DIR, f), join(copy, f));
  const before = readFileSync(join(copy, 'bundle.cjs'), 'utf8');
  const after = before.replace('`heapsim ${VERSION}', '`HEAPSIM ${VERSION}');
  expect(after).not.toBe(before);
  expect(after.length).toBe(before.length);
  writeFileSync(join(copy, 'bundle.cjs'), after);
  const changed = bin(['--version'], join(copy, 'heapsim.cjs'), report);
  expect(changed.status).toBe(0);
  expect(changed.stdout).toMatch(/^HEAPSIM /);
  expect(changed.stderr).toContain(CACHE_NOT_USED);
});

it('the launcher drops a block that raises glibc malloc\'s thresholds: above the mmap threshold it starts with, within the range glibc raises it to', async () => {
  const { MALLOC_THRESHOLD_RAISE_BYTES } = await import(pathToFileURL(join(CLI_DIR, 'code-cache.cjs')).href) as { MALLOC_THRESHOLD_RAISE_BYTES: number };
  // glibc: DEFAULT_MMAP_THRESHOLD_MIN (128 KiB) at the start; a freed mmapped chunk raises it only
  // when the chunk (the block, its header, rounded to a page) is at most DEFAULT_MMAP_THRESHOLD_MAX
  // (32 MiB on 64-bit systems): a 32 MiB block raises nothing (measured: python.hst pool faults unchanged).
  const MMAP_THRESHOLD_START_BYTES = 128 << 10;
  const MMAP_THRESHOLD_MAX_BYTES = 32 << 20;
  const PAGE_BYTES = 4096;
  expect(MALLOC_THRESHOLD_RAISE_BYTES).toBeGreaterThan(MMAP_THRESHOLD_START_BYTES);
  expect(MALLOC_THRESHOLD_RAISE_BYTES + PAGE_BYTES).toBeLessThanOrEqual(MMAP_THRESHOLD_MAX_BYTES);
  const launcher = readFileSync(join(CLI_DIR, 'heapsim.cjs'), 'utf8');
  expect(launcher.indexOf('raiseMallocThresholds')).toBeGreaterThan(-1);
  expect(launcher.indexOf('raiseMallocThresholds')).toBeLessThan(launcher.indexOf('compileBundle)('));
});
