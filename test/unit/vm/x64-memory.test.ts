// The x64 page table is sparse: engine memory follows what is committed, not the 128 TiB space.
import { expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { Prng } from '../../../src/workload/prng.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ENGINE_BOUND_BYTES = 64 * MiB;

it('8 GiB reserved in scattered reservations over x64 costs well under 64 MiB of engine memory', async () => {
  const e = await createEngine({ arch: 'x64' });
  const rng = new Prng(7);
  const regionBytes = 1 * MiB;
  let reserved = 0;
  while (reserved < 8 * GiB) {
    // Random 64 KiB aligned address in the 128 TiB user space; skip the rare collision.
    const at = (1 + Math.floor(rng.next() * (2 ** 31 - 2))) * 65536;
    const r = e.vm.reserve(regionBytes, { at });
    if (!r.base) { expect(r.status).toBe('OVERLAP'); continue; }
    // Commit and touch one page in each, so the page table really has entries there.
    expect(e.vm.commit(r.base, 4096).ok).toBe(true);
    expect(e.vm.touch(r.base, 1).ok).toBe(true);
    reserved += regionBytes;
  }
  const vm = e.sample().vm;
  expect(vm.reservedBytes).toBe(8 * GiB);
  expect(vm.regions).toBe(8192);
  expect(vm.committedBytes).toBe(8192 * 4096);
  expect(e.memoryBytes).toBeLessThan(ENGINE_BOUND_BYTES);
  expect(e.check()).toBe(0);
});
