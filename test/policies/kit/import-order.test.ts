// A program may import one policy's module (for its settings reader, say) before anything else.
// The ids must still be the registry's: importing a policy module registers nothing; the host table
// is filled once, in src/policies/registry.ts's order, and the engine's check at load agrees.
// The import order below is the point of this file: keep the policy module first.
import { readJemallocEnv } from '../../../src/policies/jemalloc/index.js';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { policyById, policySpecs } from '../../../src/policies/registry.js';
import { registerPolicies } from '../../../src/policies/kit/table.js';

describe('policy ids do not depend on module evaluation order', () => {
  it('jemalloc imported first: ids still follow the registry, and the engine loads', async () => {
    expect(typeof readJemallocEnv).toBe('function');
    const names = policySpecs().map((p) => p.name);
    expect(names[0]).toBe('first-fit');
    expect(policyById(1)?.name).toBe('first-fit');
    expect(policyById(names.indexOf('jemalloc') + 1)?.name).toBe('jemalloc');
    expect(names.indexOf('jemalloc')).toBeGreaterThan(names.indexOf('ptmalloc'));
    const engine = await createEngine();
    expect(engine).toBeDefined();
  });

  it('the table is filled once', () => {
    expect(() => registerPolicies([])).toThrow(/already filled/);
  });
});
