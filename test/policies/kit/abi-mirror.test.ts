// The host's registry (src/policies/registry.ts) against the compiled module's (assembly/policies/
// registry.ts), read from the module itself: ids, names, stackability, parameter and counter names
// in slot order, and room for the counters. Both builds. A policy added on one side only, or a
// name spelt differently, fails here.
import { describe, expect, it } from 'vitest';
import { instantiateEngine, type EngineExports } from '../../../src/engine/load.js';
import { readString } from '../../../src/engine/engine.js';
import { HEAP_SLOTS, K, POLICY_COUNTERS } from '../../../src/engine/abi.js';
import { policySpecs } from '../../../src/policies/registry.js';

const list = (x: EngineExports, ptr: number): string[] => { const s = readString(x, ptr); return s ? s.split(',') : []; };

describe('policy table: host registry = module registry', () => {
  for (const build of ['release', 'debug'] as const) {
    it(`${build} build: every policy, id for id, with its parameter and counter names`, async () => {
      const x = await instantiateEngine(build);
      expect(Number(x.HEAP_SLOTS.value)).toBe(HEAP_SLOTS);
      expect(Number(x.K_POLICY_BASE.value)).toBe(K.POLICY_BASE);
      expect(Number(x.POLICY_COUNTERS.value)).toBe(POLICY_COUNTERS);
      expect(POLICY_COUNTERS).toBeGreaterThanOrEqual(32);
      const specs = policySpecs();
      expect(x.policyCount()).toBe(specs.length);
      for (const spec of specs) {
        const id = spec.id;
        expect(readString(x, x.policyName(id)), `policy ${id}`).toBe(spec.name);
        expect(list(x, x.policyParamNames(id)), `${spec.name} parameters`).toEqual(spec.params.map((p) => p.name));
        expect(list(x, x.policyCounterNames(id)), `${spec.name} counters`).toEqual(spec.counters);
        expect(x.policyStackable(id) === 1, `${spec.name} stackable`).toBe(spec.stackable);
        expect(spec.counters.length, `${spec.name} counters fit`).toBeLessThanOrEqual(POLICY_COUNTERS);
        expect(spec.params.map((p) => p.slot)).toEqual(spec.params.map((_, i) => i));
      }
      expect(readString(x, x.policyName(specs.length + 1))).toBe('');
    });
  }
});
