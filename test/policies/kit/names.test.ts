// Policy names are looked up in the registry's Map only: names that every JavaScript object has
// (constructor, __proto__, toString, hasOwnProperty) are unknown policies, a usage error that lists
// the valid names, never a crash or a policy.
import { describe, expect, it } from 'vitest';
import { cli } from '../../cli/helpers.js';
import { POLICIES, getPolicy, hasPolicy, policyNames } from '../../../src/policies/registry.js';
import { UsageError } from '../../../src/errors.js';

const OBJECT_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

describe('policy name lookups', () => {
  it('the registry knows only registered names', () => {
    for (const n of OBJECT_NAMES) {
      expect(hasPolicy(n), n).toBe(false);
      expect(POLICIES[n], n).toBeUndefined();
      expect(() => getPolicy(n), n).toThrow(UsageError);
    }
    for (const n of policyNames()) expect(getPolicy(n).name).toBe(n);
  });

  it('--policy constructor and --set parent=__proto__ are usage errors listing the valid names', async () => {
    const known = `known: ${policyNames().join(', ')}`;
    for (const args of [['--policy', 'constructor'], ['--policy', 'pool', '--set', 'parent=__proto__'], ['--policy', 'toString']]) {
      const r = await cli('run', 'peak-hour', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/unknown policy '(constructor|__proto__|toString)'/);
      expect(r.stderr).toContain(known);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const d = await cli('demo', '--policy', 'valueOf');
    expect(d.code).toBe(2);
    expect(d.stderr).toContain(known);
    const s = await cli('sweep', 'peak-hour', '--policy', 'first-fit,hasOwnProperty', '--jobs', '1');
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/unknown policy 'hasOwnProperty'/);
  });
});
