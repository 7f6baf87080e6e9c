// Runs the vitest suite and ends with one line `N passed, N failed, N skipped` read from vitest's
// JSON report, so a run that executed no test is visible (and fails).
//
// Under CI=true a skipped or todo test is a failure: CI installs the C compiler, the real allocator
// libraries, Chromium and the recorded programs' commands, so a test that skips there lost its
// dependency (or its path after a move) and would otherwise pass in silence. Each one is named.
// Elsewhere skips stay skips (a developer's machine may lack a library), and are still named.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { relative } from 'node:path';

const ci = process.env.CI === 'true';
mkdirSync('test-output', { recursive: true });
const report = process.env.HEAPSIM_TEST_REPORT ?? 'test-output/vitest.json';
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });
let passed = 0, failed = 0, skipped = 0;
const skippedNames = [];
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  failed = json.numFailedTests + (json.numRuntimeErrorTestSuites ?? 0);
  skipped = json.numPendingTests + json.numTodoTests;
  for (const file of json.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status !== 'passed' && t.status !== 'failed') skippedNames.push(`${relative(process.cwd(), file.name)} > ${t.fullName} (${t.status})`);
    }
  }
} catch {
  failed = Math.max(failed, 1);
}
if (skippedNames.length) {
  console.log(ci ? `CI=true: ${skippedNames.length} skipped test(s) count as failures:` : `${skippedNames.length} skipped test(s):`);
  for (const name of skippedNames) console.log(`  ${name}`);
}
if (ci) {
  failed += skipped;
  skipped = 0;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = run.status === 0 && failed === 0 && passed > 0 ? 0 : 1;
