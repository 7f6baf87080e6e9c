// tlsf: random calls against the reference model (model.ts) with the engine's invariants checked
// after every batch; the equality with Conte's own code is conte.test.ts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { checkAgainstModel, stepArb, KiB, MiB, type Model } from '../textbook/harness.js';
import { TlsfModel, type ModelBlock } from './model.js';

const MEM = 0x10000;   // the first reservation of a bare engine: where mem lands

class TlsfAdapter implements Model {
  readonly t: TlsfModel;
  readonly ids = new Map<number, ModelBlock>();
  zeroNulls = 0;
  noFitNulls = 0;
  inPlace = 0;
  moved = 0;

  constructor(poolBytes: number, readonly zeroAsOne: boolean) { this.t = new TlsfModel(poolBytes); }

  alloc(id: number, size: number, alignLog2: number): boolean {
    if (!size && this.zeroAsOne) size = 1;
    const b = alignLog2 > 3 ? this.t.memalign(2 ** alignLog2, size) : this.t.malloc(size);
    if (!b) { if (size) this.noFitNulls++; else this.zeroNulls++; return false; }
    this.ids.set(id, b);
    return true;
  }

  free(id: number): void { this.t.free(this.ids.get(id)!); this.ids.delete(id); }

  realloc(id: number, size: number): boolean {
    const b = this.ids.get(id)!;
    const r = this.t.realloc(b, size);
    if (!r) { this.noFitNulls++; return false; }
    if (r === b) this.inPlace++; else this.moved++;
    this.ids.set(id, r);
    return true;
  }

  trim(): void { /* TLSF has no trim */ }

  address(id: number): number { return MEM + this.ids.get(id)!.at + 8; }

  view(): Record<string, number> {
    const free = this.t.freeBlocks();
    const used = [...this.ids.values()];
    const uncommitted = Math.max(0, this.t.tailPage - this.t.frontier);
    return {
      busyBytes: this.t.usedBytes + 8 * used.length,
      freeBytes: free.reduce((s, b) => s + b.size + 8, 0) - uncommitted,
      freeBlocks: free.length, largestFreeBytes: Math.max(0, ...free.map((b) => b.size)), segments: 1,
      committedBytes: this.t.committedBytes(), reservedBytes: this.t.memBytes, uncommittedRanges: uncommitted ? 1 : 0,
      virtualBlocks: 0, virtualBytes: 0,
      'c.usedBytes': this.t.usedBytes, 'c.highWater': this.t.highWater, 'c.poolBytes': this.t.poolBytes,
      'c.usedBlocks': used.length, 'c.frontierBytes': Math.min(this.t.frontier, this.t.tailPage),
      'c.zeroSizeNulls': this.zeroNulls, 'c.noFitNulls': this.noFitNulls, 'c.reallocsInPlace': this.inPlace,
      'c.reallocsMoved': this.moved, 'c.memAddress': MEM,
    };
  }
}

describe('tlsf', () => {
  it('answers malloc(0) with NULL as the C code does when zeroSizeRequest is 0, with a smallest block by default', async () => {
    const e = await createEngine({ arch: 'x64' });
    const direct = e.createHeap('tlsf', { params: { poolBytes: 1 * MiB, zeroSizeRequest: 0 } });
    const wrapped = e.createHeap('tlsf', { params: { poolBytes: 1 * MiB } });
    const ops = new OpBuffer(4);
    ops.alloc(direct, 1, 0);
    ops.alloc(direct, 2, 1);
    ops.alloc(wrapped, 3, 0);
    const r = e.apply(ops);
    expect(r.failedOps).toBe(1);
    const [d, w] = e.sample().heaps;
    expect([d!.failedAllocs, d!.policyCounters['zeroSizeNulls'], d!.policyCounters['usedBytes']]).toEqual([1, 1, 24]);
    expect([w!.failedAllocs, w!.policyCounters['zeroSizeNulls'], w!.policyCounters['usedBytes']]).toEqual([0, 0, 24]);
  });

  it('takes a pool of at most 4 GiB (records keep 32-bit offsets and sizes) and refuses a larger one with a status', async () => {
    const GiB = 1024 * MiB;
    const e = await createEngine({ arch: 'x64' });
    expect(() => e.createHeap('tlsf', { params: { poolBytes: 4 * GiB + 64 * KiB } })).toThrow(/bad parameters for tlsf: poolBytes/);
    const h = e.createHeap('tlsf', { params: { poolBytes: 4 * GiB } });
    // Two blocks above 2 GiB and the rest of the pool: offsets and sizes use all 32 bits.
    const ops = new OpBuffer(8);
    ops.alloc(h, 1, 2 * GiB + 8);
    ops.alloc(h, 2, 1536 * MiB);
    ops.alloc(h, 3, 100);
    ops.free(h, 2);
    ops.alloc(h, 4, 1536 * MiB - 64);
    expect(e.apply(ops).failedOps).toBe(0);
    const u = e.sample().heaps[0]!;
    // used_bytes: the three blocks (sizes rounded up to 8); block 3 sits above 3.5 GiB from mem.
    expect(u.policyCounters['usedBytes']).toBe(2 * GiB + 8 + (1536 * MiB - 64) + 104);
    expect(u.policyCounters['highWater']).toBeGreaterThan(3.5 * GiB);
    expect(e.check()).toBe(0);
  });

  it('never gives memory back: TRIM does nothing and the committed frontier only rises', async () => {
    const e = await createEngine({ arch: 'x64' });
    const h = e.createHeap('tlsf', { params: { poolBytes: 64 * MiB } });
    const ops = new OpBuffer(300);
    for (let id = 0; id < 100; id++) ops.alloc(h, id, 100 * KiB);
    for (let id = 0; id < 100; id++) ops.free(h, id);
    ops.trim(h, 0);
    e.apply(ops);
    const s = e.sample().heaps[0]!;
    expect(s.busyBytes).toBe(0);
    expect(s.committedBytes).toBeGreaterThan(100 * 100 * KiB);
    expect(s.policyCounters['highWater']).toBeGreaterThan(100 * 100 * KiB);
  });

  it('agrees with the reference model on random calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(256 * KiB, 1 * MiB, 64 * MiB), fc.constantFrom(0, 1), fc.array(stepArb(48, 3 * MiB), { minLength: 20, maxLength: 300, size: 'max' }), async (poolBytes, zeroSizeRequest, steps) => {
        await checkAgainstModel('tlsf', { poolBytes, zeroSizeRequest }, new TlsfAdapter(poolBytes, zeroSizeRequest === 1), steps);
      }),
      { seed: 0x5eed_7157, numRuns: 30 },
    );
  });
});
