// `npm run build:cli`: the installed command (src/cli/code-cache.cts says why it is built so).
//   dist/cli/bundle.cjs   src/cli/bin.ts and everything it imports, one CommonJS file (esbuild), in
//                         Node's module wrapper (code-cache.cts wrapBundle: compiled as it is);
//                         `import.meta.url` becomes the bundle's own file URL, so the engine's
//                         .wasm and the worker entries are found from dist/cli/ as before
//   dist/cli/bundle.cache V8's code cache after one small `heapsim run` (a synthetic .hst)
//   dist/cli/bin.js       for `node dist/cli/bin.js ...`: loads the launcher, dist/cli/heapsim.cjs
// Needs tsc's output (the launcher, the synthetic trace writer) and build/release.wasm.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI_DIR = join(ROOT, 'dist', 'cli');
const MODULE_URL = '__heapsimModuleUrl';
/** Events of the trace the cache is made on: enough to reach every step of a run, no more. */
const CACHE_RUN_EVENTS = 2000;

await build({
  entryPoints: [join(ROOT, 'src', 'cli', 'bin.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: join(CLI_DIR, 'bundle.cjs'),
  sourcemap: true,
  logLevel: 'warning',
  // No comments or layout: V8 reads, hashes and scans less source at every start (the cache
  // spares compiling, not those). Names stay (no identifier or syntax minifying).
  minifyWhitespace: true,
  // Non-ASCII characters of strings as escapes: with none in the file (comments are dropped, and
  // test/cli/startup.test.ts holds the bundle to it) V8 keeps the source as a one-byte string.
  charset: 'ascii',
  define: { 'import.meta.url': MODULE_URL },
  banner: { js: `const ${MODULE_URL} = require('node:url').pathToFileURL(__filename).href;` },
});

writeFileSync(join(CLI_DIR, 'bin.js'), `#!/usr/bin/env node
// The installed command is dist/cli/heapsim.cjs (package.json "bin"); this file runs it for
// \`node dist/cli/bin.js ...\` (an ES module of this package: it loads the CommonJS launcher).
import { createRequire } from 'node:module';
createRequire(import.meta.url)('./heapsim.cjs');
`);
chmodSync(join(CLI_DIR, 'heapsim.cjs'), 0o755);

// The bundle in the CommonJS wrapper, as the launcher compiles it (code-cache.cts wrapBundle).
const { wrapBundle } = await import(join(CLI_DIR, 'code-cache.cjs'));
wrapBundle(CLI_DIR);

// The code cache: one `heapsim run` of a small trace in a child process, which writes the cache of
// what it compiled when it exits.
const tmp = mkdtempSync(join(tmpdir(), 'heapsim-build-'));
try {
  const hst = join(tmp, 'cache-run.hst');
  const { writeSyntheticHst } = await import(join(ROOT, 'dist', 'trace', 'synthetic.js'));
  await writeSyntheticHst(hst, { events: CACHE_RUN_EVENTS, seed: 1 });
  const codeCache = join(CLI_DIR, 'code-cache.cjs');
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(codeCache)}).writeCodeCache(${JSON.stringify(CLI_DIR)}, ${JSON.stringify(['run', hst])})`], {
    stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build-cli: the code cache run failed (${r.status}): ${r.stderr}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
