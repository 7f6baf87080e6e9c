// ptmalloc's hot paths address chunk records through the pool's base taken once into a local
// ("pointer style", assembly/policies/ptmalloc/ptmalloc.ts at()); a split takes a new record, which
// may grow the pool and move it, so every split takes the base again after the take. Here the
// pool's growth (no record is ever dropped in these scripts, so the table grows when its last
// fresh record is taken) is made to land on each kind of split in turn: a top split, the split of
// a binned chunk whose rest goes to unsorted, and the split of the last remainder. A base kept
// from before the take writes the new record's links into the old, freed table: the invariants
// (checked after every call) or glibc's figures then differ.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, firstDifference, type PtOp } from './harness.js';

const info = oracle();
const itOracle = info.binary ? it : it.skip;

// The pool's first table holds 1024 records (index 0 unused); before the fillers it holds top and
// the tcache's own chunk, and each filler adds one (a top split). The sweep puts the growing take
// on every call after the fillers, with a margin on both sides.
const FIRST_TABLE_RECORDS = 1024;
const RECORDS_BEFORE_FILLERS = 3;      // index 0, top, the tcache chunk
const CALLS_AFTER_FILLERS = 6;
const SWEEP_MARGIN = 3;
const FILLER_BYTES = 24;               // a 32-byte chunk: the tcache's smallest size, never freed here
const BINNED_BYTES = 2000;             // past the tcache (1032 bytes): its free goes to unsorted
const LARGE_REQUEST_BYTES = 1500;      // a large request served by splitting the remainder's bin

function ops(fillers: number): PtOp[] {
  const out: PtOp[] = [];
  let id = 0;
  for (let i = 0; i < fillers; i++) out.push({ op: 'm', id: id++, size: FILLER_BYTES });
  const binned = id++;
  out.push({ op: 'm', id: binned, size: BINNED_BYTES }, { op: 'm', id: id++, size: FILLER_BYTES });
  out.push({ op: 'f', id: binned });
  // filed into its large bin, then split: the rest to unsorted as the last remainder
  out.push({ op: 'm', id: id++, size: FILLER_BYTES });
  // the last remainder alone in unsorted: split again
  out.push({ op: 'm', id: id++, size: FILLER_BYTES });
  // a large request: the remainder is filed, then split from the next non-empty bin
  out.push({ op: 'm', id: id++, size: LARGE_REQUEST_BYTES });
  return out;
}

describe('ptmalloc record pool growth during a split', () => {
  itOracle('matches glibc after every call, invariants hold, wherever the pool grows', async () => {
    const last = FIRST_TABLE_RECORDS - RECORDS_BEFORE_FILLERS + SWEEP_MARGIN;
    const first = last - CALLS_AFTER_FILLERS - 2 * SWEEP_MARGIN;
    for (let fillers = first; fillers <= last; fillers++) {
      const script = ops(fillers);
      const real = runOracle({ text: opsScript(script) }, { ops: true, every: 1 });
      const sim = await runSim(script, { every: 1, build: 'debug', check: true });
      expect(real.checkpoints.length).toBe(script.length + 1);
      expect(firstDifference(real.checkpoints, sim.checkpoints), `${fillers} fillers`).toBeUndefined();
    }
  });
});
