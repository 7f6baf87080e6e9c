import { expect, it } from 'vitest';
import { instantiateEngine } from '../../../src/engine/load.js';
import { ABI_VERSION, MAX_HEAPS, OP_SIZE_BYTES, SAMPLE_SLOTS } from '../../../src/engine/abi.js';

it('the TS mirror of the ABI equals the module globals (both builds)', async () => {
  for (const build of ['release', 'debug'] as const) {
    const x = await instantiateEngine(build);
    expect(Number(x.ABI_VERSION.value)).toBe(ABI_VERSION);
    expect(Number(x.SAMPLE_SLOTS.value)).toBe(SAMPLE_SLOTS);
    expect(Number(x.MAX_HEAPS.value)).toBe(MAX_HEAPS);
    expect(Number(x.OP_SIZE_BYTES.value)).toBe(OP_SIZE_BYTES);
  }
});
