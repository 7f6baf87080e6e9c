// npm run mutate: mutation testing of the suite (not part of CI; it takes tens of minutes).
//
//   npm run mutate [-- --host-only | --assembly-only] [--mutate 'src/a.ts,src/b/**/*.ts'] [--jobs N]
//                  [--only TEXT]   (engine mutations whose description contains TEXT)
//
// Host (TypeScript): StrykerJS with its vitest runner mutates the files given by --mutate (default
// HOST_DEFAULT below: the readers' number and line rules, the mtrace reader, the diagnosis and
// the name lookups) and runs, per mutant, the tests of scripts/mutation.vitest.config.ts that cover
// it. StrykerJS is installed on first use with `npm install --no-save` at the pinned version
// (it is 200 packages and 100 MB that CI and ordinary installs do not need); scripts/stryker.config.mjs.
//
// Engine (AssemblyScript): ASSEMBLY_MUTATIONS below, one-line changes each applied to the source,
// rebuilt (npm run asbuild) and tested with the test files named beside it; the source is always
// restored and the build redone at the end. A mutation is killed when its tests fail.
//
// Prints both scores; the reports go to test-output/mutation/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = join(import.meta.dirname, '..');
const OUT = join(REPO, 'test-output', 'mutation');
const STRYKER_VERSION = '9.6.1'; // the last StrykerJS line that runs on Node 20 (10.x wants Node 22)
const STRYKER_PACKAGES = [`@stryker-mutator/core@${STRYKER_VERSION}`, `@stryker-mutator/vitest-runner@${STRYKER_VERSION}`];
const HOST_DEFAULT = ['src/trace/numbers.ts', 'src/trace/lines.ts', 'src/trace/formats/mtrace.ts', 'src/report/diagnose.ts', 'src/names.ts'];

interface AsMutation {
  file: string;
  /** Exact text, found exactly once in the file. */
  find: string;
  replace: string;
  what: string;
  tests: string[];
}

const VM_TESTS = ['test/unit/vm/page-runs.test.ts', 'test/unit/vm/status.test.ts'];
const ASSEMBLY_MUTATIONS: AsMutation[] = [
  { file: 'assembly/vm/space.ts', find: 'if (committedBytes > committedPeak) committedPeak = committedBytes;', replace: '', what: 'VM: the committed peak is never raised', tests: VM_TESTS },
  { file: 'assembly/vm/space.ts', find: 'if (residentBytes > residentPeak) residentPeak = residentBytes;', replace: '', what: 'VM: the resident peak is never raised', tests: VM_TESTS },
  { file: 'assembly/vm/space.ts', find: 'if (committedBytes > committedPeak)', replace: 'if (committedBytes > committedPeak + 4096)', what: 'VM: the committed peak lags by a page', tests: VM_TESTS },
  { file: 'assembly/vm/space.ts', find: '  commitCalls++;', replace: '', what: 'VM: commit calls are not counted', tests: VM_TESTS },
  { file: 'assembly/vm/space.ts', find: '  decommitCalls++;', replace: '', what: 'VM: decommit calls are not counted', tests: VM_TESTS },
  { file: 'assembly/vm/space.ts', find: '    decommitCalls--;', replace: '', what: 'VM: shrinking a region counts as a decommit call', tests: VM_TESTS },
  { file: 'assembly/engine.ts', find: 'return samples <= <u64>(MAX_SAMPLES_PER_BATCH - sampleCount);', replace: 'return samples < <u64>(MAX_SAMPLES_PER_BATCH - sampleCount);', what: 'engine: one sample fewer per batch than documented', tests: ['test/unit/engine/batch-bounds.test.ts'] },
  { file: 'assembly/engine.ts', find: 'if (n > MAX_EXACT_COUNT - ev) return false;', replace: 'if (n >= MAX_EXACT_COUNT - ev) return false;', what: 'engine: the event count stops one short of 2^53-1', tests: ['test/unit/engine/batch-bounds.test.ts'] },
  { file: 'assembly/policies/first-fit/first-fit.ts', find: 'if (s < <u64>ld32(H_P_DBLOCK) || ld64(H_FREE_BYTES) < <u64>ld32(H_P_DTOTAL)) return 0;', replace: 'if (s <= <u64>ld32(H_P_DBLOCK) || ld64(H_FREE_BYTES) < <u64>ld32(H_P_DTOTAL)) return 0;', what: 'first-fit: a free block of exactly decommitBlockBytes is not decommitted', tests: ['test/policies/first-fit', 'test/unit/readme-example.test.ts'] },
  { file: 'assembly/policies/first-fit/first-fit.ts', find: 'if (s < <u64>ld32(H_P_DBLOCK) || ld64(H_FREE_BYTES) < <u64>ld32(H_P_DTOTAL)) return 0;', replace: 'if (s < <u64>ld32(H_P_DBLOCK) || ld64(H_FREE_BYTES) <= <u64>ld32(H_P_DTOTAL)) return 0;', what: 'first-fit: exactly decommitTotalBytes free does not decommit', tests: ['test/policies/first-fit', 'test/unit/readme-example.test.ts'] },
  { file: 'assembly/policies/first-fit/first-fit.ts', find: 'if (s < <u64>ld32(H_P_DBLOCK) || ld64(H_FREE_BYTES) < <u64>ld32(H_P_DTOTAL)) return 0;', replace: 'if (s < <u64>ld32(H_P_DBLOCK)) return 0;', what: 'first-fit: the decommitTotalBytes condition dropped', tests: ['test/policies/first-fit', 'test/unit/readme-example.test.ts'] },
  // (`area <= pad` to `area < pad` was listed here: an equivalent mutant, since at area == pad the
  // page-rounded extra is 0 and systrim returns just after; replaced by the pad being forgotten.)
  { file: 'assembly/policies/ptmalloc/ptmalloc.ts', find: 'const extra = <i64>alignDown(<u64>area - pad, PAGE_SIZE_BYTES);', replace: 'const extra = <i64>alignDown(<u64>area, PAGE_SIZE_BYTES);', what: 'ptmalloc: systrim gives back top_pad too', tests: ['test/policies/ptmalloc/facts.test.ts', 'test/policies/ptmalloc/ops-fidelity.test.ts'] },
  { file: 'assembly/policies/ptmalloc/ptmalloc.ts', find: 'let size = alignUp(nb + g64(G_TOP_PAD) + MINSIZE - old, PAGE_SIZE_BYTES);', replace: 'let size = alignUp(nb + g64(G_TOP_PAD) - old, PAGE_SIZE_BYTES);', what: 'ptmalloc: the break grows without the 32 bytes of MINSIZE', tests: ['test/policies/ptmalloc/facts.test.ts', 'test/policies/ptmalloc/ops-fidelity.test.ts'] },
  { file: 'assembly/policies/ptmalloc/ptmalloc.ts', find: 'if (topSize() >= g64(G_TRIM_THRESHOLD)) sysTrim(g64(G_TOP_PAD));', replace: 'if (topSize() > g64(G_TRIM_THRESHOLD)) sysTrim(g64(G_TOP_PAD));', what: 'ptmalloc: free trims only above trim_threshold, not at it', tests: ['test/policies/ptmalloc/facts.test.ts', 'test/policies/ptmalloc/ops-fidelity.test.ts', 'test/policies/ptmalloc/trim-boundary.test.ts'] },
];

const { values } = parseArgs({
  options: {
    'host-only': { type: 'boolean', default: false },
    'assembly-only': { type: 'boolean', default: false },
    mutate: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
mkdirSync(OUT, { recursive: true });
const lines: string[] = [];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, quiet = false): number {
  const r = spawnSync(cmd, args, { cwd: REPO, stdio: quiet ? 'ignore' : 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function strykerInstalled(): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO, 'node_modules', '@stryker-mutator', 'core', 'package.json'), 'utf8')) as { version: string };
    return pkg.version === STRYKER_VERSION && existsSync(join(REPO, 'node_modules', '@stryker-mutator', 'vitest-runner', 'package.json'));
  } catch {
    return false;
  }
}

function host(): void {
  if (!strykerInstalled()) {
    console.log(`mutate: installing StrykerJS ${STRYKER_VERSION} (npm install --no-save; package.json and the lock file are not changed)`);
    if (run('npm', ['install', '--no-save', '--no-audit', '--no-fund', ...STRYKER_PACKAGES]) !== 0) throw new Error('mutate: npm install of StrykerJS failed');
  }
  const mutate = values.mutate ?? HOST_DEFAULT.join(',');
  const code = run('npx', ['stryker', 'run', 'scripts/stryker.config.mjs'], { HEAPSIM_MUTATE: mutate, HEAPSIM_MUTATE_JOBS: values.jobs });
  const report = join(OUT, 'host.json');
  if (code !== 0 || !existsSync(report)) throw new Error(`mutate: StrykerJS failed (exit ${code})`);
  type Mutant = { status: string };
  const json = JSON.parse(readFileSync(report, 'utf8')) as { files: Record<string, { mutants: Mutant[] }> };
  const count = (ms: Mutant[], ...s: string[]): number => ms.filter((m) => s.includes(m.status)).length;
  let killed = 0, valid = 0;
  lines.push('host (StrykerJS; killed or timed out / killed, timed out, survived or not covered):');
  for (const [file, f] of Object.entries(json.files)) {
    const k = count(f.mutants, 'Killed', 'Timeout');
    const v = k + count(f.mutants, 'Survived', 'NoCoverage');
    killed += k; valid += v;
    lines.push(`  ${(v ? (100 * k / v).toFixed(1) : '-').padStart(5)} %  ${String(k).padStart(5)} / ${String(v).padEnd(5)}  ${file}`);
  }
  lines.push(`  host mutation score: ${(100 * killed / Math.max(valid, 1)).toFixed(1)} % (${killed} of ${valid})`);
}

function assembly(): void {
  const results: string[] = [];
  let killed = 0, valid = 0;
  const originals = new Map<string, string>();
  const restore = (): void => { for (const [f, text] of originals) writeFileSync(join(REPO, f), text); };
  process.once('SIGINT', () => { restore(); process.exit(130); });
  try {
    for (const m of ASSEMBLY_MUTATIONS.filter((x) => values.only === undefined || x.what.includes(values.only))) {
      const path = join(REPO, m.file);
      const text = originals.get(m.file) ?? readFileSync(path, 'utf8');
      originals.set(m.file, text);
      const at = text.indexOf(m.find);
      if (at < 0 || text.indexOf(m.find, at + 1) >= 0) throw new Error(`mutate: '${m.find}' is not found exactly once in ${m.file}: update ASSEMBLY_MUTATIONS`);
      writeFileSync(path, text.slice(0, at) + m.replace + text.slice(at + m.find.length));
      let outcome: string;
      if (run('npm', ['run', 'asbuild', '--silent'], {}, true) !== 0) outcome = 'does not compile (not counted)';
      else {
        valid++;
        const failed = run('npx', ['vitest', 'run', ...m.tests], {}, true) !== 0;
        if (failed) killed++;
        outcome = failed ? 'killed' : 'SURVIVED';
      }
      writeFileSync(path, text);
      results.push(`  ${outcome.padEnd(8)}  ${m.what}  (${m.file}; ${m.tests.join(', ')})`);
      console.log(results[results.length - 1]);
    }
  } finally {
    restore();
    run('npm', ['run', 'asbuild', '--silent'], {}, true);
  }
  lines.push('engine (one-line AssemblyScript mutations, rebuilt, with the tests named):', ...results);
  lines.push(`  engine mutation score: ${(100 * killed / Math.max(valid, 1)).toFixed(1)} % (${killed} of ${valid})`);
}

if (!values['assembly-only']) host();
if (!values['host-only']) assembly();
const summary = lines.join('\n');
writeFileSync(join(OUT, 'summary.txt'), summary + '\n');
console.log(summary);
