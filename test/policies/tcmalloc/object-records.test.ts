// tcmalloc's 8-byte object record (store.ts OBJ_BYTES): the object's span and its index in the span
// share one word (11 index bits: the 8-byte class's one-page span holds 1,024 objects), spans from
// WIDE_SPAN on are named in a side table (debug builds from the 8th span, so the debug case runs
// that path). A lost index bit or a span misnamed puts two objects at one address: the objects
// handed out, sorted by address, must not overlap, before and after a round of frees and reuse.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const SMALLEST_CLASS_BYTES = 8;   // tcmalloc's first size class
const BLOCKS = 12_000;            // 8-byte objects fill several 1,024-object spans; the rest many spans

function sizeOf(i: number): number { return i % 2 === 0 ? SMALLEST_CLASS_BYTES : 16 * (1 + (i % 97)); }

describe.each(['debug', 'release'] as const)('tcmalloc object records (%s build)', (build) => {
  it('objects of full 8-byte spans and of many other spans never overlap, through frees and reuse', async () => {
    const e = await createEngine({ arch: 'x64', build });
    const h = e.createHeap('tcmalloc');
    const ops = new OpBuffer(BLOCKS);
    const expectDisjoint = (ids: number[]) => {
      const blocks = ids.map((id) => ({ at: e.blockOf(id).address, bytes: sizeOf(id) })).sort((a, b) => a.at - b.at);
      for (let k = 1; k < blocks.length; k++) expect(blocks[k - 1].at + blocks[k - 1].bytes).toBeLessThanOrEqual(blocks[k].at);
    };
    for (let i = 0; i < BLOCKS; i++) ops.alloc(h, i, sizeOf(i));
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    const all = [...Array(BLOCKS).keys()];
    expectDisjoint(all);
    ops.clear();
    for (let i = 0; i < BLOCKS; i += 3) ops.free(h, i);
    for (let i = 0; i < BLOCKS; i += 3) ops.alloc(h, BLOCKS + i, sizeOf(BLOCKS + i));   // reused records and objects
    expect(e.apply(ops).failedOps).toBe(0);
    expect(e.check()).toBe(0);
    expectDisjoint(all.map((i) => (i % 3 === 0 ? BLOCKS + i : i)));
  });
});
