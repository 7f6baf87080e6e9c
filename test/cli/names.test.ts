// Names are looked up safely (regression tests for the reliability report's failure 8): a name that
// is a property of every JavaScript object is an unknown name like any other, a usage error that
// lists the valid ones; never a TypeError with a stack trace, never silently ignored.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { tempDir } from '../trace/helpers.js';
import { policyNames, policySpecs } from '../../src/policies/registry.js';
import { UsageError } from '../../src/errors.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

export const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty', 'prototype', '__defineGetter__'];

function usageError(r: { code: number; stderr: string; stdout: string }): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|TypeError|\n\s+at /);
}

describe.each(PROTOTYPE_NAMES)('the name %s', (name) => {
  it('as a command', async () => {
    const r = await cli(name);
    usageError(r);
    expect(r.stderr).toMatch(new RegExp(`unknown command '${name}' \\(commands: advise, analyze, convert, demo, merge, policies, record, run, stats, sweep;`));
  });

  it('as a workload (run, sweep, analyze --against)', async () => {
    const r = await cli('run', name);
    usageError(r);
    expect(r.stderr).toMatch(new RegExp(`unknown workload '${name}' \\(built in: peak-hour, windows-service-peak`));
    usageError(await cli('sweep', name));
    const dump = join(tmp.dir, 'dump.txt');
    writeFileSync(dump, '');
    const a = await cli('analyze', dump, '--against', name);
    expect(a.code).toBe(2);
    expect(a.stderr).not.toMatch(/internal error|TypeError/);
  });

  it('as a policy (run, demo, sweep, --set parent=, analyze --against)', async () => {
    // Every registered policy, from the registry (a new policy adds itself to the list).
    const known = new RegExp(`unknown policy '.*' \\(known: ${policyNames().join(', ')}\\)`);
    for (const argv of [['run', 'peak-hour', '--policy', name], ['demo', '--policy', name], ['sweep', 'peak-hour', '--policy', name],
      ['run', 'peak-hour', '--policy', 'pool', '--set', `parent=${name}`]]) {
      const r = await cli(...argv);
      usageError(r);
      expect(r.stderr).toMatch(known);
    }
  });

  it('as a glibc setting (--env): reported as not a malloc setting, never applied', async () => {
    const { parseGlibcEnvDetailed } = await import('../../src/policies/ptmalloc/glibc-env.js');
    const r = parseGlibcEnvDetailed(`${name}=1\nGLIBC_TUNABLES=${name}=1:glibc.malloc.${name}=1`);
    expect(Object.keys(r.params)).toEqual([]);
    expect(r.ignored.map((i) => i.setting).sort()).toEqual([`${name}=1`, `${name}=1`, `glibc.malloc.${name}=1`].sort());
  });

  it("as a setting of every policy's --env reader, in each allocator's spelling: unknown, never applied", () => {
    const spellings = [`${name}=1`, `MALLOC_${name}_=1`, `MALLOC_${name.toUpperCase()}_=1`, `GLIBC_TUNABLES=glibc.malloc.${name}=1`,
      `MALLOC_CONF=${name}:1`, `TCMALLOC_${name}=1`, `TCMALLOC_${name.toUpperCase()}=1`, `MIMALLOC_${name}=1`, `MIMALLOC_${name.toUpperCase()}=1`];
    const readers = policySpecs().filter((p) => p.readEnv !== undefined);
    expect(readers.length).toBeGreaterThan(0);
    for (const p of readers) {
      for (const setting of spellings) {
        let reading: { params: Record<string, number> } | undefined;
        try {
          reading = p.readEnv!(setting) as { params: Record<string, number> };
        } catch (err) {
          // Refusing the name is fine; only as a usage error (one line, exit 2), never a TypeError.
          expect(err, `${p.name} --env ${setting}: ${String(err)}`).toBeInstanceOf(UsageError);
          continue;
        }
        expect(Object.keys(reading.params), `${p.name} --env ${setting}`).toEqual([]);
      }
    }
  });

  it('as a --set key', async () => {
    const r = await cli('run', 'peak-hour', '--set', `${name}=1`);
    usageError(r);
    expect(r.stderr).toMatch(new RegExp(`has no parameter '${name}' \\(known: `));
  });

  it('as an --arch, --profile or --format value', async () => {
    usageError(await cli('run', 'peak-hour', '--arch', name));
    usageError(await cli('run', 'peak-hour', '--profile', name));
    const trace = join(tmp.dir, 't.txt');
    writeFileSync(trace, '#heapsim-trace 1\n');
    usageError(await cli('stats', trace, '--format', name));
  });
});
