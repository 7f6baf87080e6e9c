// The conformance suite: every policy of the registry, and every stackable policy on every policy
// it can sit on, through the same random op sequences and the same checks after every batch
// (conformance.ts: the policy's own check() and the shared invariants C1..C6). A new policy is in
// here by its registry line. Sizes: RUNS × BATCHES batches per policy (stacked pairs: PAIR_RUNS ×
// BATCHES), each of up to MAX_OPS ops; the determinism check replays the first run of each on the
// other build.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArchName } from '../../../src/engine/abi.js';
import { policySpecs, getPolicy } from '../../../src/policies/registry.js';
import type { PolicySpec } from '../../../src/policies/registry.js';
import { conformanceRun, runArb, type StackSpec } from './conformance.js';

export const RUNS = 16;
export const PAIR_RUNS = 6;
export const BATCHES = 32;
export const MAX_OPS = 24;

/** The architectures a policy's figures are for: Linux models are 64-bit, the others both. */
function archesOf(p: PolicySpec): ArchName[] {
  return p.platform === 'linux' ? ['x64'] : ['x86', 'x64'];
}

function seedOf(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h >>> 0;
}

async function property(stacks: StackSpec[], runs: number, seed: number): Promise<number> {
  let batches = 0, k = 0;
  await fc.assert(fc.asyncProperty(runArb(BATCHES, MAX_OPS), async (run) => {
    const spec = stacks[k++ % stacks.length]!;
    batches += (await conformanceRun(spec, run, 'debug')).batches;
  }), { numRuns: runs, seed, endOnFailure: true });
  return batches;
}

/** C6: the first run of a stack replayed on the release build gives the same samples and addresses. */
async function determinism(spec: StackSpec, seed: number): Promise<void> {
  const [run] = fc.sample(runArb(BATCHES, MAX_OPS), { numRuns: 1, seed });
  const a = await conformanceRun(spec, run!, 'debug');
  const b = await conformanceRun(spec, run!, 'release', false);
  expect(b.digests, `${spec.top}: release build = debug build, batch by batch`).toEqual(a.digests);
  const c = await conformanceRun(spec, run!, 'release', false);
  expect(c.digests, `${spec.top}: the same run twice`).toEqual(b.digests);
}

describe('conformance: every policy of the registry', () => {
  for (const p of policySpecs()) {
    it(`${p.name}: ${RUNS} random runs of ${BATCHES} batches keep every invariant after every batch; deterministic`, async () => {
      const stacks = archesOf(p).map((arch) => ({ arch, top: p.name, layers: [] }));
      const batches = await property(stacks, RUNS, seedOf(p.name));
      expect(batches).toBe(RUNS * BATCHES);
      await determinism(stacks[0]!, seedOf(p.name) + 1);
    });
  }
});

describe('conformance: every stackable policy on every policy it can sit on', () => {
  const pairs: StackSpec[] = [];
  for (const p of policySpecs().filter((q) => q.stackable)) {
    for (const parent of p.parents ?? policySpecs().map((q) => q.name)) {
      const arch: ArchName = getPolicy(parent).platform === 'linux' || p.platform === 'linux' ? 'x64' : 'x86';
      pairs.push({ arch, top: p.name, layers: [parent] });
    }
  }
  it('there is at least one pair (pool is stackable)', () => expect(pairs.length).toBeGreaterThan(0));
  for (const s of pairs) {
    it(`${s.top} on ${s.layers[0]} (${s.arch}): ${PAIR_RUNS} random runs of ${BATCHES} batches; destroy gives everything back`, async () => {
      const batches = await property([s], PAIR_RUNS, seedOf(`${s.top}/${s.layers[0]}`));
      expect(batches).toBe(PAIR_RUNS * BATCHES);
    });
  }
});
