// tcmalloc's 8-byte object record (store.ts OBJ_BYTES): the object's span and its index in the span
// share one word (11 index bits: the 8-byte class's one-page span holds 1,024 objects), spans from
// WIDE_SPAN on are named in a side table (debug builds from the 8th span, so the debug case runs
// that path). A lost index bit or a span misnamed puts two objects at one address: the objects
// handed out, sorted by address, must not overlap, before and after a round of frees and reuse.
import { describe, it } from 'vitest';
import { expectBlocksDisjoint } from '../kit/disjoint-blocks.js';

const SMALLEST_CLASS_BYTES = 8;   // tcmalloc's first size class
const BLOCKS = 12_000;            // 8-byte objects fill several 1,024-object spans; the rest many spans

describe.each(['debug', 'release'] as const)('tcmalloc object records (%s build)', (build) => {
  it('objects of full 8-byte spans and of many other spans never overlap, through frees and reuse', async () => {
    await expectBlocksDisjoint('tcmalloc', build, BLOCKS, SMALLEST_CLASS_BYTES);
  });
});
