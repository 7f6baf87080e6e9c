// Every VM status code, and that a rejected call changes nothing.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';

const PAGE = 4096;
const GRAN = 65536;

async function x86(): Promise<Engine> {
  return createEngine({ arch: 'x86', build: 'debug' });
}

function snapshot(e: Engine): string {
  return JSON.stringify({ walk: e.vm.walk(), vm: e.sample().vm });
}

describe('VM status codes', () => {
  it('reserve: BAD_SIZE, MISALIGNED, OUT_OF_RANGE, OVERLAP, NO_ADDRESS_SPACE', async () => {
    const e = await x86();
    expect(e.vm.reserve(0).status).toBe('BAD_SIZE');
    expect(e.vm.reserve(PAGE + 1).status).toBe('MISALIGNED');
    expect(e.vm.reserve(GRAN, { at: 0x10000 + PAGE }).status).toBe('MISALIGNED');
    expect(e.vm.reserve(GRAN, { at: 0x7fff0000 }).status).toBe('OUT_OF_RANGE');
    expect(e.vm.reserve(GRAN * 2, { at: 0x7ffe0000 }).status).toBe('OUT_OF_RANGE');
    const a = e.vm.reserve(GRAN, { at: 0x20000000 });
    expect(a).toEqual({ base: 0x20000000, status: 'OK' });
    const before = snapshot(e);
    expect(e.vm.reserve(GRAN, { at: 0x20000000 }).status).toBe('OVERLAP');
    expect(e.vm.reserve(2 * GRAN, { at: 0x20000000 - GRAN }).status).toBe('OVERLAP');
    expect(e.vm.reserve(0x7fff0000).status).toBe('NO_ADDRESS_SPACE');
    expect(snapshot(e)).toBe(before);
    expect(e.check()).toBe(0);
  });

  it('commit/decommit: MISALIGNED, BAD_SIZE, NOT_RESERVED, OUT_OF_RANGE; commit is idempotent', async () => {
    const e = await x86();
    const { base } = e.vm.reserve(4 * GRAN);
    const before = snapshot(e);
    expect(e.vm.commit(base + 1, PAGE).status).toBe('MISALIGNED');
    expect(e.vm.commit(base, PAGE + 7).status).toBe('MISALIGNED');
    expect(e.vm.commit(base, 0).status).toBe('BAD_SIZE');
    expect(e.vm.commit(base + 4 * GRAN - PAGE, 2 * PAGE).status).toBe('NOT_RESERVED');
    expect(e.vm.commit(0x40000000, PAGE).status).toBe('NOT_RESERVED');
    expect(e.vm.commit(0x7fff0000, PAGE).status).toBe('OUT_OF_RANGE');
    expect(e.vm.decommit(base + 3, PAGE).status).toBe('MISALIGNED');
    expect(snapshot(e)).toBe(before);
    expect(e.vm.commit(base, 2 * PAGE).ok).toBe(true);
    expect(e.vm.commit(base, 2 * PAGE).ok).toBe(true);
    expect(e.sample().vm.committedBytes).toBe(2 * PAGE);
    expect(e.vm.decommit(base, 4 * GRAN).ok).toBe(true);
    expect(e.sample().vm.committedBytes).toBe(0);
    expect(e.check()).toBe(0);
  });

  it('release: NOT_REGION_BASE, NOT_RESERVED (double release)', async () => {
    const e = await x86();
    const { base } = e.vm.reserve(GRAN);
    expect(e.vm.release(base + PAGE).status).toBe('NOT_REGION_BASE');
    expect(e.vm.release(base).ok).toBe(true);
    expect(e.vm.release(base).status).toBe('NOT_RESERVED');
    expect(e.sample().vm.reservedBytes).toBe(0);
    expect(e.vm.walk()).toHaveLength(1);
    expect(e.check()).toBe(0);
  });

  it('touch: NOT_COMMITTED leaves residency unchanged; purge drops resident, keeps commit', async () => {
    const e = await x86();
    const { base } = e.vm.reserve(GRAN);
    e.vm.commit(base, PAGE);
    expect(e.vm.touch(base, 2 * PAGE).status).toBe('NOT_COMMITTED');
    expect(e.sample().vm.residentBytes).toBe(0);
    expect(e.vm.touch(base + 100, 10).ok).toBe(true);
    expect(e.vm.isResident(base)).toBe(true);
    expect(e.sample().vm.residentBytes).toBe(PAGE);
    expect(e.vm.purge(base, GRAN)).toBe(PAGE);
    expect(e.sample().vm).toMatchObject({ residentBytes: 0, committedBytes: PAGE });
    e.vm.touch(base, 1);
    e.vm.decommit(base, PAGE);
    expect(e.sample().vm.residentBytes).toBe(0);
    expect(e.check()).toBe(0);
  });

  it('resize grows into a free neighbour, refuses an occupied one, shrinks by decommitting', async () => {
    const e = await x86();
    const { base } = e.vm.reserve(GRAN, { at: 0x30000000, pageAligned: true });
    e.vm.commit(base, GRAN);
    expect(e.vm.resize(base, 4 * GRAN).ok).toBe(true);
    e.vm.reserve(GRAN, { at: base + 4 * GRAN });
    expect(e.vm.resize(base, 5 * GRAN).status).toBe('NO_ADDRESS_SPACE');
    expect(e.vm.resize(base + PAGE, GRAN).status).toBe('NOT_REGION_BASE');
    expect(e.vm.resize(base, PAGE).ok).toBe(true);
    const s = e.sample().vm;
    expect(s.committedBytes).toBe(PAGE);
    expect(s.reservedBytes).toBe(PAGE + GRAN);
    // the counters count the callers' commit and decommit calls; a resize is neither
    expect(s.commitCalls).toBe(1);
    expect(s.decommitCalls).toBe(0);
    expect(e.check()).toBe(0);
  });

  it('places reservations lowest-first on 64 KiB boundaries, top-down and page-granular on request', async () => {
    const e = await x86();
    expect(e.vm.reserve(PAGE).base).toBe(0x10000);
    expect(e.vm.reserve(PAGE).base).toBe(0x20000);
    expect(e.vm.reserve(PAGE, { pageAligned: true }).base).toBe(0x11000);
    expect(e.vm.reserve(PAGE, { topDown: true }).base).toBe(0x7ffe0000);
    expect(e.vm.reserve(PAGE, { topDown: true, pageAligned: true }).base).toBe(0x7ffef000);
    expect(e.check()).toBe(0);
  });

  it('counts uncommitted ranges per region incrementally', async () => {
    const e = await x86();
    const { base } = e.vm.reserve(16 * PAGE);
    const ranges = () => { const v = e.sample().vm; return [v.committedRanges, v.uncommittedRanges]; };
    expect(ranges()).toEqual([0, 1]);
    e.vm.commit(base + 4 * PAGE, 2 * PAGE);
    expect(ranges()).toEqual([1, 2]);
    e.vm.commit(base + 8 * PAGE, PAGE);
    expect(ranges()).toEqual([2, 3]);
    e.vm.commit(base, 16 * PAGE);
    expect(ranges()).toEqual([1, 0]);
    e.vm.decommit(base + 15 * PAGE, PAGE);
    expect(ranges()).toEqual([1, 1]);
    expect(e.check()).toBe(0);
  });
});
