// The test runner's CI rule (scripts/run-tests.mjs): under CI=true a skipped test is a failure,
// named in the output, so a test that lost its compiler, library or program cannot pass in silence.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');

function runSuite(ci: boolean): { code: number | null; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'heapsim-ci-rule-'));
  try {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, HEAPSIM_TEST_REPORT: join(dir, 'report.json') };
    if (ci) env.CI = 'true';
    const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', '--config', 'test/fixtures/ci-skip/vitest.config.ts'], { cwd: REPO, env, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('scripts/run-tests.mjs', () => {
  it('under CI=true counts a skipped test as failed, names it and exits 1', () => {
    const r = runSuite(true);
    const lines = r.stdout.trim().split('\n');
    expect(lines[lines.length - 1]).toBe('1 passed, 1 failed, 0 skipped');
    expect(r.stdout).toContain('one-skips.check.ts > needs a library this machine lacks (skipped)');
    expect(r.code).toBe(1);
  });

  it('elsewhere keeps the skip a skip and exits 0', () => {
    const r = runSuite(false);
    const lines = r.stdout.trim().split('\n');
    expect(lines[lines.length - 1]).toBe('1 passed, 0 failed, 1 skipped');
    expect(r.code).toBe(0);
  });
});
