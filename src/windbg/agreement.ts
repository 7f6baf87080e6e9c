// How well a simulation agrees with the dumps it is compared with (`analyze --against`): for each
// snapshot matched with a checkpoint, the ratio of simulated to observed for every number both
// have (the process's committed bytes; the main heap's Reserv, Commit, Free, free blocks,
// uncommitted ranges and both fragmentation percentages), and an overall figure.
//
// The main heap of a dump is its heap with the largest reservation; of a simulation, its heap with
// the largest reservation too (for a stack of layers, the bottom heap that owns the pages).
import type { Checkpoint, HeapCounters } from '../report/types.js';
import type { WindbgSnapshot } from './parse.js';
import { heapIdOf } from './series.js';

/** A simulated number agrees with the dump when it is within this fraction of it (point 6 of issue 17). */
export const AGREEMENT_TOLERANCE = 0.1;

export interface AgreementRow {
  snapshot: string;
  checkpoint: string;
  /** What is compared, e.g. `heap Commit (K)`. */
  metric: string;
  observed: number;
  simulated: number;
  /** simulated / observed; undefined when the observed value is 0 and the simulated one is not. */
  ratio?: number;
  within: boolean;
}

export interface Agreement {
  rows: AgreementRow[];
  /** Observed values left out, with the reason (a dump row that contradicts itself). */
  excluded: string[];
  /** Numbers within AGREEMENT_TOLERANCE, and numbers compared. */
  within: number;
  compared: number;
  /** Mean of min(r, 1/r) over the compared numbers, as a percentage (100 = every number equal). */
  overallPct: number;
}

const K = (bytes: number): number => Math.floor(bytes / 1024);

function mainHeap(heaps: readonly HeapCounters[]): HeapCounters | undefined {
  let best: HeapCounters | undefined;
  for (const h of heaps) if (!best || h.reservedBytes > best.reservedBytes) best = h;
  return best;
}

function row(snapshot: string, checkpoint: string, metric: string, observed: number, simulated: number): AgreementRow {
  const ratio = observed === 0 ? (simulated === 0 ? 1 : undefined) : simulated / observed;
  return { snapshot, checkpoint, metric, observed, simulated, ...(ratio === undefined ? {} : { ratio }), within: ratio !== undefined && Math.abs(ratio - 1) <= AGREEMENT_TOLERANCE };
}

/** Compares matched snapshot/checkpoint pairs (`checkpoints[i]` is the match of `snapshots[i]`). */
export function agreement(snapshots: readonly WindbgSnapshot[], checkpoints: ReadonlyArray<Checkpoint | undefined>): Agreement {
  const rows: AgreementRow[] = [];
  const excluded: string[] = [];
  snapshots.forEach((s, i) => {
    const cp = checkpoints[i];
    if (!cp) return;
    const add = (metric: string, observed: number, simulated: number): void => { rows.push(row(s.label, cp.label, metric, observed, simulated)); };
    const state = s.address?.state;
    if (state) add('MEM_COMMIT (K)', K(state.commit.bytes), K(cp.address.state.commit));
    const dump = mainHeap(s.heaps);
    const sim = mainHeap(cp.heaps ?? [cp.heap]);
    if (!dump || !sim) return;
    add('heap Reserv (K)', K(dump.reservedBytes), K(sim.reservedBytes));
    add('heap Commit (K)', K(dump.committedBytes), K(sim.committedBytes));
    add('heap Free (K)', K(dump.freeBytes), K(sim.freeBytes));
    if (dump.freeBlocks === 0 && dump.freeBytes > 0) {
      // Free is the sum of the blocks on the free lists, so 0 blocks with Free > 0 is not a count.
      excluded.push(`"${s.label}" heap ${heapIdOf(dump.address, s.arch, 0)}: List length 0 with ${K(dump.freeBytes)} K free cannot be the number of free blocks`);
    } else {
      add('heap free blocks', dump.freeBlocks, sim.freeBlocks);
    }
    add('heap UCR', dump.uncommittedRanges, sim.uncommittedRanges);
    add('external fragmentation (%)', dump.externalFragmentationPct, sim.externalFragmentationPct);
    add('virtual address fragmentation (%)', dump.virtualAddressFragmentationPct, sim.virtualAddressFragmentationPct);
  });
  const within = rows.filter((r) => r.within).length;
  const closeness = rows.map((r) => (r.ratio === undefined || r.ratio <= 0 ? 0 : Math.min(r.ratio, 1 / r.ratio)));
  const overallPct = rows.length === 0 ? 0 : (100 * closeness.reduce((a, b) => a + b, 0)) / rows.length;
  return { rows, excluded, within, compared: rows.length, overallPct };
}
