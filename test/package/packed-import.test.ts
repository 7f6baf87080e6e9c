// The package as a user gets it: `npm pack`, install the tarball in a separate project, import it by
// name. A broken `exports` map, a file missing from `files` or a browser entry that drags in Node
// modules fails here. Needs `npm run build` first (npm test does it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runWorkload } from '../../src/run/run.js';
import { makeWorkload } from '../../src/workload/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
let project = '';

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'heapsim-consumer-'));
  // --ignore-scripts: the tree is built already; pack must not rebuild it.
  const packed = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], ROOT));
  const tarball = join(project, packed[0].filename);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  sh('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], project);
}, 180_000);

afterAll(() => { if (project) rmSync(project, { recursive: true, force: true }); });

describe('packed package', () => {
  it('imports by name on Node and runs peak-hour, in this thread and in a worker, like the sources do', async () => {
    writeFileSync(join(project, 'run.mjs'), `
      import { runWorkload, makeWorkload, startNodeWorker, VERSION } from 'heapsim';
      const doc = await runWorkload(makeWorkload('peak-hour', { seed: 5 }), { policy: 'first-fit' });
      const worker = await startNodeWorker();
      const remote = await worker.api.run({ input: { workload: 'peak-hour', seed: 5 }, policy: 'first-fit' });
      await worker.terminate();
      process.stdout.write(JSON.stringify({ VERSION, doc, remote }));
    `);
    const out = JSON.parse(sh('node', ['run.mjs'], project));
    const expected = await runWorkload(makeWorkload('peak-hour', { seed: 5 }), { policy: 'first-fit' });
    expect(out.VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(out.doc).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(out.remote).toEqual(out.doc);
  });

  it('ships the WASM, the workers and the bin; hides internals', () => {
    const pkg = join(project, 'node_modules', 'heapsim');
    for (const f of ['build/release.wasm', 'build/debug.wasm', 'dist/worker/node-worker.js', 'dist/web/worker.js', 'dist/browser.js', 'dist/index.d.ts', 'dist/browser.d.ts']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(sh(join(project, 'node_modules', '.bin', 'heapsim'), ['--version'], project)).toMatch(/^heapsim \d/);
    writeFileSync(join(project, 'deep.mjs'), `
      const out = {};
      try { await import('heapsim/dist/engine/engine.js'); out.deep = 'imported'; } catch (e) { out.deep = e.code; }
      out.worker = import.meta.resolve('heapsim/worker');
      process.stdout.write(JSON.stringify(out));
    `);
    const r = JSON.parse(sh('node', ['deep.mjs'], project));
    expect(r.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(r.worker).toMatch(/node_modules\/heapsim\/dist\/worker\/node-worker\.js$/);
  });

  it('bundles for the browser with Vite: browser entry, WASM copied as an asset, no node: imports', () => {
    writeFileSync(join(project, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(join(project, 'main.js'), `
      import { runWorkload, makeWorkload, connectWorker } from 'heapsim';
      const worker = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module' });
      connectWorker(worker).then((api) => api.run({ input: { workload: 'peak-hour' }, policy: 'first-fit' }));
      runWorkload(makeWorkload('peak-hour'), { policy: 'first-fit' }).then((d) => console.log(d.events));
    `);
    writeFileSync(join(project, 'engine-worker.js'), "import 'heapsim/worker';\n");
    sh('node', [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn', '--outDir', 'out'], project);
    const assets = readdirSync(join(project, 'out', 'assets'));
    expect(assets.filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1);
    const js = assets.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThanOrEqual(2); // page and worker
    for (const f of js) {
      const code = readFileSync(join(project, 'out', 'assets', f), 'utf8');
      expect(code, f).not.toMatch(/["'`]node:/);
      expect(code, f).not.toMatch(/worker_threads/);
    }
  });
});
