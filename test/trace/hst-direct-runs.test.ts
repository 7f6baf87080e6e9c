// The one-instance `.hst` replay applies the ops it decodes in runs, through heap 0's batch loop
// (assembly/trace/hst.ts applyOps, engine.ts traceRun), not one by one. The engine keeps its id
// entries in the ledger's records (shared records) and the ledger goes on ahead of the engine by
// a run: it frees ids and makes them live again, with other sizes, before the engine has applied
// the frees. So a free takes the block's requested bytes from its op (the FREE op's size, ids.ts
// idTake), never from the record the ledger may have rewritten; only a realloc reads the record's
// size (the old one), and the decoder applies its pending ops before resized() writes the new one.
// These files put each case at both kinds of pending free (the id applied before the run: the
// engine holds it; the id born in the run), with birth events below and above 2^32 (wide births
// live in a side table of the ledger). Every case here would need a run cut if frees read the
// record. The whole-document equality with the op-batch path, for random streams, is
// hst-direct.test.ts.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { traceWorkload } from '../../src/trace/workload.js';
import { hstFile } from './hst-bytes.js';
import { PRELUDE, encode, streamOf, type Rec } from './hst-records.js';

const base: Rec = { k: 'alloc', id: 0, size: 0n, align: 1n, caller: null, text: '', value: 0n };
const alloc = (id: number, size: number): Rec => ({ ...base, id, size: BigInt(size) });
const free = (id: number): Rec => ({ ...base, k: 'free', id });
const realloc = (id: number, size: number): Rec => ({ ...base, k: 'realloc', id, size: BigInt(size) });
/** Events the ledger's count is moved on by before the records: every birth is then a wide one. */
const WIDE_BIRTHS = 2n ** 32n;

// Ids 0-7 born; a realloc (a run applied: ids 0-7 are the engine's); then each case with sizes
// that differ from the block's old one, so a free reading the new size would miscount.
const RECS: Rec[] = [
  ...[16, 24, 40, 56, 72, 100, 300, 5000].map((size, id) => alloc(id, size)),
  realloc(7, 6000),
  free(3), alloc(3, 900),                   // applied before the run, freed and born again
  alloc(8, 48), free(8), alloc(8, 4096),    // born in the run, freed and born again
  alloc(5, 33),                             // an implicit free of an applied block
  alloc(9, 64), alloc(9, 2000),             // an implicit free of a block born in the run
  alloc(10, 8), realloc(10, 700), free(10), alloc(10, 12), // a realloc of a block born in the run
  free(0), free(1), alloc(1, 128), alloc(0, 20000), free(1), alloc(1, 1),
];
const WANT: [number, number][] = [[0, 20000], [1, 1], [2, 40], [3, 900], [4, 72], [5, 33], [6, 300], [7, 6000], [8, 4096], [9, 2000], [10, 12]];

describe('one-instance .hst replay: ops applied in runs', () => {
  it('an id freed, replaced or resized while an op reading its old size is pending: exact sizes, every invariant', async () => {
    const { records, events } = encode([...PRELUDE, ...RECS]);
    for (const skip of [0n, WIDE_BIRTHS]) {
      for (const policy of ['pool', 'nt', 'ptmalloc', 'first-fit']) { // own batch loops, and the generic one
        const bytes = hstFile(records, { events: events + Number(skip) }); // END counts every event
        const w = await traceWorkload(streamOf(bytes, []), { format: 'hst', direct: true });
        const wasm = w.direct!.instance as unknown as { ledgerSkipEvents(n: bigint): void };
        if (skip) wasm.ledgerSkipEvents(skip);
        const engine = await createEngine({ arch: 'x64', replay: true, instance: w.direct!.instance });
        engine.createHeap(policy);
        await w.direct!.run({ call: (fn) => engine.call(fn), applied: () => {} });
        const at = `${policy}, ${skip ? 'wide' : 'narrow'} births`;
        for (const [id, size] of WANT) expect(engine.blockOf(id).requestedBytes, `${at}: id ${id}`).toBe(size);
        expect(engine.check(), at).toBe(0); // the program's live bytes = the sizes of its live ids
        expect(engine.failedOps, at).toBe(0);
      }
    }
  });
});
