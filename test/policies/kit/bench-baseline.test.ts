// `npm run bench` compares the registry dispatch with the switch heaps.ts had before it: it builds
// the engine again with bench/baseline/switch-heaps.ts in place of assembly/heaps.ts (compiling
// that takes too long for the test run). What would break that build or make it call the wrong
// policy is checked here, from the sources: the baseline exports every name heaps.ts exports (so
// the rest of the engine compiles against it unchanged), and the ids it switches on are the
// registry's.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getPolicy } from '../../../src/policies/registry.js';

const read = (p: string): string => readFileSync(fileURLToPath(new URL(`../../../${p}`, import.meta.url)), 'utf8');

function ownExports(src: string): string[] {
  return [...src.matchAll(/^(?:@inline\s+)?export function (\w+)/gm)].map((m) => m[1]!);
}

describe('the switch-dispatch baseline of the dispatch bench', () => {
  const heaps = read('assembly/heaps.ts');
  const baseline = read('bench/baseline/switch-heaps.ts');

  it('exports exactly what assembly/heaps.ts exports', () => {
    const reexported = [...baseline.matchAll(/export \{([^}]*)\} from "\.\/heaps-registry"/g)]
      .flatMap((m) => m[1]!.split(',').map((s) => s.trim()).filter(Boolean));
    const names = [...reexported, ...ownExports(baseline)].sort();
    expect(ownExports(heaps).length).toBeGreaterThan(10);
    expect(names).toEqual(ownExports(heaps).sort());
  });

  it('switches on the ids of the registry', () => {
    const ids = Object.fromEntries([...baseline.matchAll(/^const (\w+): i32 = (\d+);/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(ids).toEqual({
      FIRST_FIT: getPolicy('first-fit').id, NT: getPolicy('nt').id, POOL: getPolicy('pool').id, PTMALLOC: getPolicy('ptmalloc').id,
    });
  });
});
