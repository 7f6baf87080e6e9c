// Steps shared by the residency tests of the policies that skip a touch on a page they know
// resident (pool, segregated, nt, tlsf, mimalloc, tcmalloc, jemalloc): apply one batch that must
// not fail, read a heap's resident bytes, purge the pages blocks lie in, and the two checks the
// run-of-pages policies share (hand-outs after a purge are resident; random batches with purges
// between them keep the policy's checker quiet).
import { expect } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

/** Ops one test batch holds at most. */
const BATCH_OPS = 4096;
/** The VM page the tests purge by. */
export const PAGE_BYTES = 4096;

/** Applies the ops `fill` writes as one batch; every op must succeed (the first failure is shown). */
export function applyOk(e: Engine, fill: (ops: OpBuffer) => void): void {
  const ops = new OpBuffer(BATCH_OPS);
  fill(ops);
  const r = e.apply(ops);
  expect(r.failedOps, JSON.stringify(r.firstFailure)).toBe(0);
}

/** Heap `h`'s resident bytes in a sample taken now. */
export function residentBytes(e: Engine, h: number): number {
  return e.sample().heaps.find((x) => x.heap === h)!.residentBytes;
}

export const firstPage = (a: number): number => Math.floor(a / PAGE_BYTES);
const endPage = (a: number, bytes: number): number => Math.ceil((a + bytes) / PAGE_BYTES);

/** Whether every page of block `id`'s request is resident. */
export function blockResident(e: Engine, id: number): boolean {
  const b = e.blockOf(id);
  for (let p = firstPage(b.address); p < endPage(b.address, b.requestedBytes); p++) if (!e.vm.isResident(p * PAGE_BYTES)) return false;
  return true;
}

type Block = { address: number; requestedBytes: number };

/** Purges every page from the first to the last that one of `blocks` lies in; returns the bytes purged. */
export function purgeBlocks(e: Engine, blocks: Block[]): number {
  let lo = Infinity, hi = 0;
  for (const b of blocks) {
    lo = Math.min(lo, firstPage(b.address));
    hi = Math.max(hi, endPage(b.address, b.requestedBytes));
  }
  return e.vm.purge(lo * PAGE_BYTES, (hi - lo) * PAGE_BYTES);
}

/** Allocates `bytes` for each id of `ids` in heap `h`: all in one batch, or one op a batch. */
export function allocEach(e: Engine, h: number, ids: number[], bytes: number, oneOpPerBatch: boolean): void {
  if (oneOpPerBatch) for (const id of ids) applyOk(e, (o) => o.alloc(h, id, bytes));
  else applyOk(e, (o) => { for (const id of ids) o.alloc(h, id, bytes); });
}

/** Frees each id of `ids` in heap `h`: all in one batch, or one op a batch. */
export function freeEach(e: Engine, h: number, ids: number[], oneOpPerBatch: boolean): void {
  if (oneOpPerBatch) for (const id of ids) applyOk(e, (o) => o.free(h, id));
  else applyOk(e, (o) => { for (const id of ids) o.free(h, id); });
}

/** Allocates `bytes` for each id of `ids`; every block must be resident (the program writes it) and the checker quiet. */
export function allocAllResident(e: Engine, h: number, ids: number[], bytes: number, oneOpPerBatch: boolean): void {
  allocEach(e, h, ids, bytes, oneOpPerBatch);
  expect(e.check()).toBe(0);
  expect(ids.every((id) => blockResident(e, id))).toBe(true);
}

/**
 * Every block of `ids` freed, their pages purged, the same requests again under the ids after
 * `firstNewId`: each block handed out must be resident (the program writes it), wherever it lands,
 * and the checker quiet throughout.
 */
export function handOutsAfterPurgeResident(e: Engine, h: number, ids: number[], firstNewId: number, bytes: number, oneOpPerBatch: boolean): void {
  const blocks = ids.map((i) => e.blockOf(i));
  freeEach(e, h, ids, oneOpPerBatch);
  expect(purgeBlocks(e, blocks)).toBeGreaterThan(0);
  expect(e.check()).toBe(0);
  const again = ids.map((_, k) => firstNewId + k);
  allocEach(e, h, again, bytes, oneOpPerBatch);
  expect(again.every((id) => blockResident(e, id))).toBe(true);
  expect(e.check()).toBe(0);
}

/** What randomBatchesWithPurges purges between batches, and whether it checks the blocks a batch made. */
export interface PurgeRounds {
  /** Purges what the next batch may touch again, given a random live block's id. */
  purge: (e: Engine, liveId: number) => void;
  /** Blocks handed out in a batch and still live after it must be resident (the program wrote them). */
  madeResident: boolean;
}

/** Random batches of allocations and frees in heap `h` (a fixed seed), a purge between them; the checker quiet after each. */
export function randomBatchesWithPurges(e: Engine, h: number, rounds: PurgeRounds): void {
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  const live = new Set<number>();
  let next = 0;
  const ROUNDS = 30, OPS_PER_ROUND = 200, MAX_REQUEST_BYTES = 3000;
  for (let r = 0; r < ROUNDS; r++) {
    const made: number[] = [];
    applyOk(e, (o) => {
      for (let k = 0; k < OPS_PER_ROUND; k++) {
        if (live.size && rnd(3) === 0) {
          const ids = [...live];
          const id = ids[rnd(ids.length)]!;
          o.free(h, id); live.delete(id);
        } else { o.alloc(h, next, 1 + rnd(MAX_REQUEST_BYTES)); live.add(next); made.push(next++); }
      }
    });
    expect(e.check()).toBe(0);
    if (rounds.madeResident) for (const id of made) if (live.has(id)) expect(blockResident(e, id)).toBe(true);
    const ids = [...live];
    if (ids.length) rounds.purge(e, ids[rnd(ids.length)]!);
  }
}
