// `heapsim run X.hst` loads only what a .hst run uses (issue 16, point 3: the CLI's imports were
// ~170-190 ms of every run). A child process runs the built CLI's main() (dist/, as `heapsim`
// does: the bundled bin.js keeps the same module graph, only lazily evaluated) under a module
// hook that writes down every module loaded, and none of the modules below may be among them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
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

it('heapsim run X.hst loads no workload, text reader, WinDbg, advise, sweep or worker module', async () => {
  const hst = join(tmp.dir, 'small.hst');
  await writeSyntheticHst(hst, { events: HST_EVENTS, seed: 1 });
  const r = modulesLoaded(['run', hst, '--policy', 'nt']);
  expect(r.stderr).toContain(`trace: ${HST_EVENTS} events (hst)`);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^verdict: /m);
  for (const m of LOADED_BY_HST_RUN) expect(r.modules, m).toContain(m);
  const heavy = r.modules.filter((m) => NOT_FOR_HST_RUN.some((p) => (p.endsWith('/') ? m.startsWith(p) : m === p)));
  expect(heavy).toEqual([]);
});
