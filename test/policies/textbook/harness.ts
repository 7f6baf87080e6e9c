// Shared by the textbook policies' property tests (best-fit, next-fit, segregated, buddy, tlsf):
// random alloc / aligned alloc / free / realloc / trim sequences run on the engine and on the
// policy's TypeScript reference model; after every batch the engine's invariants hold and the
// engine's view (every live block's address, the heap counters, the policy's own counters) equals
// the model's. Also the models' common pieces: the VM's placement rule and the sbrk-style arena.
import fc from 'fast-check';
import { expect } from 'vitest';
import { createEngine, type HeapSample, type VmCounters } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const PAGE = 4096;
const RESERVE_GRANULE = 65536;   // the VM places reservations on 64 KiB boundaries
const USER_LOW = 0x10000;
const USER_HIGH_X64 = 0x7fff_ffff_0000;

export const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;
export const alignDown = (x: number, a: number): number => Math.floor(x / a) * a;

/** assembly/policies/textbook/geometry.ts: 16-byte header and granule, alignment slack inside the block. */
export const HEADER_BYTES = 16;
export const GRANULE_BYTES = 16;
export function neededBytes(size: number, alignLog2: number): number {
  return Math.max(size, 1) + HEADER_BYTES + (alignLog2 > 4 ? 2 ** alignLog2 - GRANULE_BYTES : 0);
}
export const blockBytes = (size: number, alignLog2: number): number => alignUp(neededBytes(size, alignLog2), GRANULE_BYTES);
/** The address the program sees for a block at `addr`; alignLog2 counts only above 4. */
export function userAddress(addr: number, alignLog2: number): number {
  return alignLog2 > 4 ? alignUp(addr + HEADER_BYTES, 2 ** alignLog2) : addr + HEADER_BYTES;
}

/** A policy's reference model, driven by the same calls as the engine. */
export interface Model {
  /** false when the policy must fail the request. */
  alloc(id: number, sizeBytes: number, alignLog2: number): boolean;
  free(id: number): void;
  /** false when the policy must fail the request (the block stays). */
  realloc(id: number, sizeBytes: number): boolean;
  trim(padBytes: number): void;
  /** User address of a live id. */
  address(id: number): number;
  /** Expected heap sample fields (HeapSample names) and policy counters ('c.' + name). */
  view(): Record<string, number>;
}

/** The VM's placement rule for one heap on a bare x64 engine: lowest 64 KiB-aligned fit. */
export class AddressSpace {
  readonly regions = new Map<number, number>(); // base -> size

  reserve(sizeBytes: number): number {
    let at = USER_LOW;
    for (const [b, s] of [...this.regions].sort((x, y) => x[0] - y[0])) {
      if (at + sizeBytes <= b) break;
      at = Math.max(at, alignUp(b + s, RESERVE_GRANULE));
    }
    if (at + sizeBytes > USER_HIGH_X64) return 0;
    this.regions.set(at, sizeBytes);
    return at;
  }

  /** Grows a reservation in place when the range above it is free. */
  resize(base: number, sizeBytes: number): boolean {
    for (const [b] of this.regions) if (b > base && b < base + sizeBytes) return false;
    if (base + sizeBytes > USER_HIGH_X64) return false;
    this.regions.set(base, sizeBytes);
    return true;
  }

  release(base: number): void { this.regions.delete(base); }
}

export interface ModelSeg { base: number; end: number; top: number; frontier: number }

/** assembly/policies/textbook/arena.ts: segments grown at the top, committed in steps, trimmed at the tops. */
export class ArenaModel {
  readonly segs: ModelSeg[] = [];
  trimmedBytes = 0;
  private readonly firstReserve: number;
  private readonly step: number;
  private static readonly MAX_GROW = 256 * MiB;

  constructor(readonly space: AddressSpace, firstReserveBytes: number, commitStepBytes: number) {
    this.firstReserve = alignUp(firstReserveBytes, RESERVE_GRANULE);
    this.step = alignUp(commitStepBytes, PAGE);
  }

  private addSeg(bytes: number): boolean {
    const size = alignUp(Math.max(bytes, this.firstReserve), RESERVE_GRANULE);
    const base = this.space.reserve(size);
    if (!base) return false;
    this.segs.push({ base, end: base + size, top: base, frontier: base });
    return true;
  }

  /** The carved block's address, or 0. */
  carve(bytes: number): number {
    if (!this.segs.length && !this.addSeg(bytes)) return 0;
    let s = this.segs[this.segs.length - 1]!;
    if (s.end - s.top < bytes) {
      const size = s.end - s.base;
      const grow = Math.max(Math.min(size, ArenaModel.MAX_GROW), alignUp(bytes - (s.end - s.top), RESERVE_GRANULE));
      if (this.space.resize(s.base, size + grow)) s.end += grow;
      else {
        if (!this.addSeg(bytes)) return 0;
        s = this.segs[this.segs.length - 1]!;
      }
    }
    const at = s.top;
    s.top += bytes;
    s.frontier = Math.max(s.frontier, Math.min(s.base + alignUp(s.top - s.base, this.step), s.end));
    return at;
  }

  newest(): ModelSeg { return this.segs[this.segs.length - 1]!; }
  segIndexOf(addr: number): number { return this.segs.findIndex((s) => addr >= s.base && addr < s.end); }

  trim(pad: number): void {
    for (const s of this.segs) {
      let keep = alignUp(s.top + pad, PAGE);
      if (keep > s.frontier) keep = s.frontier;
      this.trimmedBytes += s.frontier - keep;
      s.frontier = keep;
    }
  }

  /** busy/free/commit fields the arena contributes to a heap sample. */
  view(): { topBytes: number; topBlocks: number; largestTop: number; committed: number; reserved: number; uncommitted: number; abandoned: number } {
    let topBytes = 0, topBlocks = 0, largestTop = 0, committed = 0, reserved = 0, uncommitted = 0, abandoned = 0;
    this.segs.forEach((s, i) => {
      const t = s.frontier - s.top;
      topBytes += t;
      if (t) { topBlocks++; largestTop = Math.max(largestTop, t); }
      committed += s.frontier - s.base;
      reserved += s.end - s.base;
      if (s.frontier < s.end) uncommitted++;
      if (i + 1 < this.segs.length) abandoned += s.end - s.top;
    });
    return { topBytes, topBlocks, largestTop, committed, reserved, uncommitted, abandoned };
  }
}

// ------------------------------------------------------------------ random calls

export type Step =
  | { op: 'alloc'; id: number; size: number; alignLog2: number }
  | { op: 'free'; id: number }
  | { op: 'realloc'; id: number; size: number }
  | { op: 'trim'; pad: number };

export function stepArb(ids: number, maxLarge: number): fc.Arbitrary<Step> {
  const size = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 300 }) },
    { weight: 4, arbitrary: fc.integer({ min: 301, max: 8192 }) },
    { weight: 2, arbitrary: fc.integer({ min: 8193, max: 200_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200_001, max: maxLarge }) },
  );
  const align = fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constantFrom(3, 5, 6, 12, 16) });
  const id = fc.integer({ min: 0, max: ids - 1 });
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ op: fc.constant('alloc' as const), id, size, alignLog2: align }) },
    { weight: 8, arbitrary: fc.record({ op: fc.constant('free' as const), id }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('realloc' as const), id, size }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('trim' as const), pad: fc.constantFrom(0, 4096, 100_000) }) },
  );
}

const FIELDS: (keyof HeapSample)[] = [
  'busyBytes', 'freeBytes', 'freeBlocks', 'largestFreeBytes', 'segments', 'committedBytes', 'reservedBytes',
  'virtualBlocks', 'virtualBytes', 'uncommittedRanges',
];

function engineView(h: HeapSample, vm: VmCounters, keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) {
    if (k.startsWith('c.')) out[k] = h.policyCounters[k.slice(2)]!;
    else if (k.startsWith('vm.')) out[k] = vm[k.slice(3) as keyof VmCounters] as number;   // the engine's one heap
    else if ((FIELDS as string[]).includes(k)) out[k] = h[k as keyof HeapSample] as number;
    else throw new Error(`model view key ${k} is not compared`);
  }
  return out;
}

/** Runs the steps on the engine (batches of `batchOps`) and on the model; compares after every batch. */
export async function checkAgainstModel(
  policy: string, params: Record<string, number>, model: Model, steps: Step[], batchOps = 25,
  build: 'debug' | 'release' = 'debug',
): Promise<void> {
  const e = await createEngine({ arch: 'x64', build });
  const h = e.createHeap(policy, { params });
  const live = new Set<number>();
  const ops = new OpBuffer(batchOps);
  const expectFail: boolean[] = [];
  const flush = (where: string): void => {
    const r = e.apply(ops);
    const failed = expectFail.filter(Boolean).length;
    expect(r.failedOps, `${where}: failed ops ${JSON.stringify(r.firstFailure)}`).toBe(failed);
    expect(e.check(), where).toBe(0);
    const want = model.view();
    const sample = e.sample();
    const hs = sample.heaps.find((x) => x.heap === h)!;
    expect(engineView(hs, sample.vm, Object.keys(want)), where).toEqual(want);
    const got: Record<number, number> = {}, wantAddr: Record<number, number> = {};
    for (const id of live) { got[id] = e.blockOf(id).address; wantAddr[id] = model.address(id); }
    expect(got, `${where}: addresses`).toEqual(wantAddr);
    ops.clear();
    expectFail.length = 0;
  };
  for (const [i, st] of steps.entries()) {
    switch (st.op) {
      case 'alloc':
        if (live.has(st.id)) continue;
        if (st.alignLog2) ops.alignedAlloc(h, st.id, st.size, 2 ** st.alignLog2); else ops.alloc(h, st.id, st.size);
        if (model.alloc(st.id, st.size, st.alignLog2)) { live.add(st.id); expectFail.push(false); } else expectFail.push(true);
        break;
      case 'free':
        if (!live.has(st.id)) continue;
        ops.free(h, st.id);
        model.free(st.id);
        live.delete(st.id);
        expectFail.push(false);
        break;
      case 'realloc':
        if (!live.has(st.id)) continue;
        ops.realloc(h, st.id, st.size);
        expectFail.push(!model.realloc(st.id, st.size));
        break;
      case 'trim':
        ops.trim(h, st.pad);
        model.trim(st.pad);
        expectFail.push(false);
        break;
    }
    if (ops.full) flush(`step ${i}`);
  }
  if (ops.length) flush('last batch');
  e.destroyHeap(h);
  const after = e.sample();
  expect([after.vm.reservedBytes, after.vm.committedBytes], 'a destroyed heap gives back all it held').toEqual([0, 0]);
}
