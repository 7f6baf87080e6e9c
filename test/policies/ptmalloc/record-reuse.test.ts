// ptmalloc takes a dropped chunk record near the record it splits from (a bitmap of dropped
// records with a summary word per 64 bitmap words: assembly/policies/ptmalloc/ptmalloc.ts, newRec).
// Here a table of several thousand records (more than one summary word) gets dropped records
// scattered over all of it by coalescing frees, and is then refilled by splits of top and of big
// free chunks, three times: glibc's figures must match after every hundred calls with the
// invariants checked after every batch (a record handed out twice or never taken back breaks
// them), and the third round must need no table byte the first two did not (dropped records are
// all found again; the side table has grown to the pool by then).
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, firstDifference, Rng, type PtOp } from './harness.js';

const info = oracle();
const itOracle = info.binary ? it : it.skip;

const BLOCKS = 5000;               // > 4096 records: the bitmap's summary has more than one word
const MAX_REQUEST_BYTES = 400;     // most past the fastbins (128 bytes): those frees coalesce at once
const ROUNDS = 3;
const CHECK_EVERY = 100;
const FAST_REQUEST_BYTES = 24;     // a 32-byte chunk: tcache, then fastbin
const LARGE_REQUEST_BYTES = 2000;  // a large-bin request: malloc consolidates the fastbins first

function ops(): PtOp[] {
  const rng = new Rng(16);
  const out: PtOp[] = [];
  let id = 1;
  for (let r = 0; r < ROUNDS; r++) {
    const ids: number[] = [];
    for (let i = 0; i < BLOCKS; i++) {
      ids.push(id);
      out.push({ op: 'm', id: id++, size: 1 + rng.below(MAX_REQUEST_BYTES) });
    }
    // Every other block first (each stays alone between busy neighbours), then the rest (each
    // coalesces with both neighbours and drops their records), in a scattered order.
    const odd = ids.filter((_, i) => i % 2 === 1), even = ids.filter((_, i) => i % 2 === 0);
    for (const group of [odd, even]) {
      for (let i = group.length - 1; i > 0; i--) { const j = rng.below(i + 1); [group[i], group[j]] = [group[j]!, group[i]!]; }
      for (const x of group) out.push({ op: 'f', id: x });
    }
  }
  return out;
}

describe('ptmalloc chunk records: dropped records are found again near the split chunk', () => {
  itOracle('matches glibc, invariants hold, and the last round takes no new record', async () => {
    const script = ops();
    const real = runOracle({ text: opsScript(script) }, { ops: true, every: CHECK_EVERY });
    const perRound = script.length / ROUNDS;
    const all = await runSim(script, { every: CHECK_EVERY, build: 'debug', check: true });
    const allButLast = await runSim(script.slice(0, perRound * (ROUNDS - 1)), { every: CHECK_EVERY, build: 'debug', check: true });
    expect(firstDifference(real.checkpoints, all.checkpoints)).toBeUndefined();
    const tableBytes = (r: typeof all): number => r.engine.engineTableBytes().policies.ptmalloc!.tableBytes;
    expect(tableBytes(all)).toBe(tableBytes(allButLast));
  });

  // Consolidation drops its merged records with no test of the dropped-record bitmap's size: it makes
  // the bitmap cover every record taken before its loop. Here its merges drop records far past the
  // bitmap's first words (one coalescing free made those): fast chunks taken from top by the
  // thousand, all freed (tcache, then fastbins: nothing dropped), then a large request consolidates.
  itOracle('matches glibc when consolidation drops records the bitmap did not cover yet', async () => {
    const script: PtOp[] = [
      { op: 'm', id: 1, size: 400 }, { op: 'm', id: 2, size: 400 }, { op: 'm', id: 3, size: 400 },
      { op: 'f', id: 2 }, { op: 'f', id: 1 }, // coalesces: the bitmap's first words
    ];
    for (let i = 0; i < BLOCKS; i++) script.push({ op: 'm', id: 10 + i, size: FAST_REQUEST_BYTES });
    for (let i = 0; i < BLOCKS; i++) script.push({ op: 'f', id: 10 + i });
    script.push({ op: 'm', id: 9, size: LARGE_REQUEST_BYTES });
    const real = runOracle({ text: opsScript(script) }, { ops: true, every: CHECK_EVERY });
    const sim = await runSim(script, { every: CHECK_EVERY, build: 'debug', check: true });
    expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
  });
});
