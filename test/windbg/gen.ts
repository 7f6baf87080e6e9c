// Generators of consistent WinDbg numbers (an address space summary, a heap table row), shared by
// the round-trip tests and the WinDbg fuzz properties.
import fc from 'fast-check';
import type { AddressSummary, HeapCounters } from '../../src/report/types.js';
import { externalFragmentationPct, virtualAddressFragmentationPct } from '../../src/report/windbg-numbers.js';

export const PAGE = 4096;
const pages = (max: number): fc.Arbitrary<number> => fc.integer({ min: 1, max }).map((n) => n * PAGE);

/** A consistent address summary: usage adds up to the total, type and state to their parts. */
export function addressSummary(maxPages: number, withRegions: boolean): fc.Arbitrary<AddressSummary> {
  const keys = ['free', 'other', 'heap', 'image', 'stack', 'teb', 'peb', 'mappedFile', 'pageHeap'] as const;
  return fc.record({
    sizes: fc.tuple(...keys.map(() => pages(maxPages))),
    regions: fc.tuple(...keys.map(() => fc.integer({ min: 1, max: 5000 }))),
    commitShare: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
    mappedShare: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    commitRegionShare: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
    largestShare: fc.double({ min: 0.01, max: 1, noNaN: true }),
    base: fc.integer({ min: 1, max: 0x7fff }).map((n) => n * 0x10000),
  }).map((g) => {
    const usage: AddressSummary['usage'] = {};
    keys.forEach((k, i) => { usage[k] = withRegions ? { bytes: g.sizes[i]!, regions: g.regions[i]! } : { bytes: g.sizes[i]! }; });
    const total = g.sizes.reduce((a, b) => a + b, 0);
    const free = usage.free!.bytes;
    const busy = total - free;
    const commit = Math.max(PAGE, Math.floor((busy * g.commitShare) / PAGE) * PAGE);
    const image = usage.image!.bytes;
    const mapped = Math.max(PAGE, Math.floor(((busy - image) * g.mappedShare) / PAGE) * PAGE);
    const busyRegions = g.regions.slice(1).reduce((a, b) => a + b, 0);
    const commitRegions = Math.max(1, Math.round(busyRegions * g.commitRegionShare));
    const regionsOf = (bytes: number, regions: number) => (withRegions ? { bytes, regions } : { bytes });
    const s: AddressSummary = {
      totalBytes: total,
      busyBytes: busy,
      state: { commit: regionsOf(commit, commitRegions), reserve: regionsOf(busy - commit, busyRegions - commitRegions), free: regionsOf(free, g.regions[0]!) },
      type: {
        image: regionsOf(image, usage.image!.regions ?? 0),
        mapped: regionsOf(mapped, 1),
        private: regionsOf(busy - image - mapped, busyRegions - (usage.image!.regions ?? 0) - 1),
      },
      usage,
      largestFree: { base: g.base, bytes: Math.max(PAGE, Math.floor((free * g.largestShare) / PAGE) * PAGE) },
    };
    return s;
  }).filter((s) => s.state.reserve.bytes > 0 && s.type.private.bytes > 0 && (s.state.reserve.regions ?? 1) > 0 && (s.type.private.regions ?? 1) > 0);
}

export const heapArb = (arch: 'x86' | 'x64'): fc.Arbitrary<HeapCounters> => fc.record({
  address: arch === 'x64' ? fc.integer({ min: 1, max: 0x7fff_ffff }).map((n) => n * 0x10000) : fc.integer({ min: 1, max: 0x7ffe }).map((n) => n * 0x10000),
  flags: fc.constantFrom(0x2, 0x1002, 0x8000, 0x41002),
  reservK: fc.integer({ min: 64, max: 4_000_000 }),
  commitShare: fc.double({ min: 0, max: 1, noNaN: true }),
  virtShare: fc.double({ min: 0, max: 1, noNaN: true }),
  freeShare: fc.double({ min: 0, max: 1, noNaN: true }),
  freeBlocks: fc.integer({ min: 0, max: 400_000 }),
  ucr: fc.integer({ min: 0, max: 60_000 }),
  virtualBlocks: fc.integer({ min: 0, max: 50 }),
  lock: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffff })),
  fast: fc.constantFrom('LFH', 'L', ''),
}).map((g) => {
  const commitK = Math.floor(g.reservK * g.commitShare);
  const virtK = commitK + Math.floor((g.reservK - commitK) * g.virtShare);
  const freeK = Math.floor(commitK * g.freeShare);
  return {
    address: g.address, flags: g.flags, reservedBytes: g.reservK * 1024, committedBytes: commitK * 1024, virtBytes: virtK * 1024,
    freeBytes: freeK * 1024, freeBlocks: g.freeBlocks, uncommittedRanges: g.ucr, virtualBlocks: g.virtualBlocks,
    busyBytes: (commitK - freeK) * 1024, lockContention: g.lock, fastHeap: g.fast,
    externalFragmentationPct: externalFragmentationPct(freeK * 1024, commitK * 1024),
    virtualAddressFragmentationPct: virtualAddressFragmentationPct(virtK * 1024, commitK * 1024),
  };
});

