// The engine's batch loop is instantiated once per mode of the id table (assembly/engine.ts batchOf,
// assembly/ids.ts OwnIds and SharedIds): own entries (the engine's 8-byte table: requested bytes
// beside the entry word, 2^32 - 1 and more in a side table) when a host hands it op batches, shared
// records (the trace ledger's: the entry word at offset 4, the requested bytes in the ledger's
// 16 size bits, 64 KiB - 1 and more in the ledger's side table) in the one-instance `.hst` replay.
// Each loop reads and writes its own layout with constants, so a trace whose allocations, reallocs
// and frees cross those two size boundaries must give the same run document both ways, under every
// policy: the `.hst` replay on shared records against the same records as op batches.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policyNames } from '../../../src/policies/registry.js';
import type { RunOptions } from '../../../src/run/run.js';
import { expectSameDocument, runDoc } from '../../trace/direct-path.js';
import { hstFile } from '../../trace/hst-bytes.js';
import { PRELUDE, encode, streamOf, type Rec } from '../../trace/hst-records.js';

const SHARED_SIZE_WIDE = 2n ** 16n - 1n; // assembly/trace/ledger.ts SIZE_WIDE
const OWN_REQ_BIG = 2n ** 32n - 1n;      // assembly/ids.ts REQ_BIG
/** Sizes on both sides of each layout's limit of its size field, and small ones. */
const SIZES = [0n, 24n, 1000n, SHARED_SIZE_WIDE - 1n, SHARED_SIZE_WIDE, SHARED_SIZE_WIDE + 1n, 1n << 20n,
  OWN_REQ_BIG - 1n, OWN_REQ_BIG, OWN_REQ_BIG + 1n];
const IDS = 12;
const EVERY_POLICY = policyNames();

const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
/** A realloc's size: the format writes a realloc to 0 bytes as a free. */
const reallocSize = (size: bigint): bigint => (size === 0n ? 1n : size);

/** Both paths on the same records: equal documents, the replay on shared records really taken. */
async function expectSameBothModes(recs: readonly Rec[], o: RunOptions): Promise<string> {
  const { records, events } = encode([...PRELUDE, ...recs]);
  const bytes = hstFile(records, { events });
  const own = await runDoc(streamOf(bytes, []), 'hst', false, o, 'batches');
  const shared = await runDoc(streamOf(bytes, []), 'hst', false, o, 'direct');
  expectSameDocument(shared.out, own.out);
  expect(shared.out.startsWith('error:'), shared.out.slice(0, 200)).toBe(false);
  expect(shared.used).toBe('direct');
  return shared.out;
}

/** Every id born, moved across each size boundary up and down, freed, born again into a live id. */
function crossings(): Rec[] {
  const recs: Rec[] = [];
  SIZES.forEach((size, i) => recs.push({ ...base, id: i, size }));
  SIZES.forEach((_, i) => recs.push({ ...base, k: 'realloc', id: i, size: reallocSize(SIZES[(i + 4) % SIZES.length]!) }));
  SIZES.forEach((_, i) => recs.push({ ...base, k: 'realloc', id: i, size: reallocSize(SIZES[(i + 7) % SIZES.length]!) }));
  for (let i = 0; i < SIZES.length; i += 2) recs.push({ ...base, k: 'free', id: i });
  SIZES.forEach((size, i) => recs.push({ ...base, id: i, size: SIZES[(i + 3) % SIZES.length]! + size % 7n }));
  for (let i = 0; i < SIZES.length; i++) recs.push({ ...base, k: 'free', id: i });
  return recs;
}

const recArb: fc.Arbitrary<Rec> = fc.record({
  k: fc.constantFrom<Rec['k']>('alloc', 'alloc', 'calloc', 'aligned', 'realloc', 'realloc', 'free', 'free'),
  id: fc.nat({ max: IDS - 1 }),
  size: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SIZES) }, { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 1n << 17n }) }),
  align: fc.constantFrom(1n, 16n, 4096n),
  caller: fc.constant(null),
  text: fc.constant(''),
  value: fc.constant(0n),
}).map((r) => (r.k === 'realloc' ? { ...r, size: reallocSize(r.size) } : r));

describe('batch loop per id mode: own entries and shared records', () => {
  it('allocations, reallocs and frees across both size limits give the same document under every policy (x64 and x86)', async () => {
    expect(EVERY_POLICY.length).toBeGreaterThanOrEqual(12);
    for (const policy of EVERY_POLICY) {
      for (const arch of ['x64', 'x86'] as const) {
        const doc = JSON.parse(await expectSameBothModes(crossings(), { policy, arch, every: 3 })) as { program: { failedAllocs: number } };
        if (arch === 'x86') expect(doc.program.failedAllocs, policy).toBeGreaterThan(0); // unplaced blocks too
      }
    }
  });

  it('random streams on a few ids (reallocs of live, freed and unplaced blocks, births into live ids): the same document', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(recArb, { minLength: 5, maxLength: 60 }),
      fc.constantFrom(...EVERY_POLICY),
      fc.constantFrom<'x86' | 'x64'>('x86', 'x64'),
      fc.constantFrom(0, 1, 5),
      async (recs, policy, arch, every) => { await expectSameBothModes(recs, { policy, arch, every }); },
    ), { numRuns: 40 });
  });
});
