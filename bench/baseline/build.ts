// Builds the switch-dispatch baseline of bench/dispatch.bench.ts from source, at bench time, into
// bench/.build/ (git-ignored; nothing generated is tracked): a copy of assembly/ whose heaps.ts is
// bench/baseline/switch-heaps.ts (the registry's heaps.ts renamed heaps-registry.ts beside it),
// compiled with asconfig.json's release target, the same options as build/release.wasm.
// Run alone: npx tsx bench/baseline/build.ts
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'bench', '.build', 'switch-dispatch');
export const SWITCH_WASM = join(OUT, 'switch-dispatch.wasm');

/** Compiles the baseline; returns the path of its .wasm. Throws with asc's own message on failure. */
export function buildSwitchBaseline(): string {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  cpSync(join(ROOT, 'assembly'), join(OUT, 'assembly'), { recursive: true });
  renameSync(join(OUT, 'assembly', 'heaps.ts'), join(OUT, 'assembly', 'heaps-registry.ts'));
  copyFileSync(join(ROOT, 'bench', 'baseline', 'switch-heaps.ts'), join(OUT, 'assembly', 'heaps.ts'));
  copyFileSync(join(ROOT, 'asconfig.json'), join(OUT, 'asconfig.json'));
  const asc = join(createRequire(import.meta.url).resolve('assemblyscript/package.json'), '..', 'bin', 'asc.js');
  const r = spawnSync(process.execPath, [asc, 'assembly/index.ts', '--target', 'release', '--outFile', SWITCH_WASM], { cwd: OUT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the switch-dispatch baseline failed (asc in ${OUT}):\n${r.stderr || r.stdout}`);
  return SWITCH_WASM;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(buildSwitchBaseline());
}
