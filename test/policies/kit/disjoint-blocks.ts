// A check shared by the packed-record tests of the policies whose record derives a block's address
// from an index (mimalloc's block records, tcmalloc's object records): `blocks` blocks, every
// other one of the smallest size (they fill whole pages or spans of it) and the rest of 97 other
// sizes, are handed out; sorted by address they must not overlap, and again after every third is
// freed and allocated once more (reused records and blocks). A lost index bit or a misnamed page
// puts two blocks at one address, and this fails.
import { expect } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

export async function expectBlocksDisjoint(policy: string, build: 'debug' | 'release', blocks: number, smallestBytes: number): Promise<void> {
  const sizeOf = (i: number): number => (i % 2 === 0 ? smallestBytes : 16 * (1 + (i % 97)));
  const e = await createEngine({ arch: 'x64', build });
  const h = e.createHeap(policy);
  const ops = new OpBuffer(blocks);
  const expectDisjoint = (ids: number[]) => {
    const placed = ids.map((id) => ({ at: e.blockOf(id).address, bytes: sizeOf(id) })).sort((a, b) => a.at - b.at);
    for (let k = 1; k < placed.length; k++) expect(placed[k - 1].at + placed[k - 1].bytes).toBeLessThanOrEqual(placed[k].at);
  };
  for (let i = 0; i < blocks; i++) ops.alloc(h, i, sizeOf(i));
  expect(e.apply(ops).failedOps).toBe(0);
  expect(e.check()).toBe(0);
  const all = [...Array(blocks).keys()];
  expectDisjoint(all);
  ops.clear();
  for (let i = 0; i < blocks; i += 3) ops.free(h, i);
  for (let i = 0; i < blocks; i += 3) ops.alloc(h, blocks + i, sizeOf(blocks + i));
  expect(e.apply(ops).failedOps).toBe(0);
  expect(e.check()).toBe(0);
  expectDisjoint(all.map((i) => (i % 3 === 0 ? blocks + i : i)));
}
