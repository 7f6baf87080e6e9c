// OpBuffer.alignedAlloc takes only powers of two: exactly, also next to 2^52 and 2^53, where a
// rounded Math.log2 is an integer for numbers that are not (the .hst reader had the same test:
// test/trace/hst-wasm.test.ts 'alignments a rounded log2 takes for powers of two').
import { expect, it } from 'vitest';
import { OpBuffer } from '../../../src/engine/ops.js';

it('an alignment that is not a power of two is refused, however near one it is', () => {
  const b = new OpBuffer(8);
  for (const bad of [0, 3, 0.5, 0.25, -4, 2 ** 52 + 1, 2 ** 53 - 1, 0.5 + 2 ** 10]) {
    expect(() => b.alignedAlloc(0, 1, 16, bad)).toThrow(`alignment ${bad} is not a power of two`);
  }
  expect(b.length).toBe(0);
  for (const good of [1, 16, 4096, 2 ** 52, 2 ** 53]) b.alignedAlloc(0, 1, 16, good);
  expect(b.length).toBe(5);
});
