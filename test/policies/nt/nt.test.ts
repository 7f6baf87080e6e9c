// Rule-by-rule tests of the nt policy (docs/nt-heap.md sections in the test names). Each test builds
// a small heap layout with explicit ops and reads it back through the heap walk and the sample.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine, type HeapSample } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { ntWalk, ntRetentionCauses, type NtRecord } from '../../../src/policies/nt/view.js';
import { heapCounters } from '../../../src/report/checkpoint.js';
import { EngineStatusError } from '../../../src/errors.js';

const PAGE = 4096;

type Op = ['alloc', number, number] | ['free', number] | ['realloc', number, number] | ['trim', number];

class Heap {
  constructor(readonly engine: Engine, readonly h: number) {}
  run(...ops: Op[]): number {
    const b = new OpBuffer(ops.length);
    for (const o of ops) {
      if (o[0] === 'alloc') b.alloc(this.h, o[1], o[2]);
      else if (o[0] === 'free') b.free(this.h, o[1]);
      else if (o[0] === 'realloc') b.realloc(this.h, o[1], o[2]);
      else b.trim(this.h, o[1]);
    }
    const r = this.engine.apply(b);
    expect(this.engine.check()).toBe(0);
    return r.failedOps;
  }
  walk(): NtRecord[] { return ntWalk(this.engine, this.h); }
  seg(i = 0): NtRecord[] { return this.walk().filter((r) => r.where === i && r.kind !== 'large' && r.kind !== 'chunk'); }
  sample(): HeapSample { return this.engine.sample().heaps.find((x) => x.heap === this.h)!; }
  c(name: string): number { return this.sample().policyCounters[name]!; }
  /** The record holding a live id's user address. */
  blockOf(id: number): NtRecord {
    const a = this.engine.blockOf(id).address;
    const r = this.walk().find((x) => x.kind !== 'userBlock' && x.address < a && a <= x.address + x.bytes);
    if (!r) throw new Error(`no record for id ${id}`);
    return r;
  }
}

async function heap(params: Record<string, number> = {}, arch: 'x86' | 'x64' = 'x86'): Promise<Heap> {
  const engine = await createEngine({ arch, build: 'debug' });
  const h = engine.createHeap('nt', { params });
  return new Heap(engine, h);
}

describe('nt: creation, parameters, flags', () => {
  it('a new heap has one segment: 1 MiB reserved, 8 KiB committed, header block, one free block, one UCR', async () => {
    const x = await heap();
    const s = x.sample();
    expect(s.policyCounters.segmentReservedBytes).toBe(1 << 20);
    expect(s.policyCounters.segmentCommittedBytes).toBe(8192);
    expect(s.segments).toBe(1);
    expect(x.seg().map((r) => r.kind)).toEqual(['header', 'free', 'ucr']);
    expect(x.seg()[0]!.bytes + x.seg()[1]!.bytes).toBe(8192);
    expect(s.policyCounters.heapFlags).toBe(0x1002);
    expect(s.policyCounters.heapAddress).toBe(x.seg()[0]!.address);
    expect(s.policyCounters.frontEndHeapType).toBe(0);
    expect((await heap({ noSerialize: 1 })).c('heapFlags')).toBe(0x1003);
  });

  it('rejects bad parameter values with BAD_PARAM and creates nothing', async () => {
    const engine = await createEngine({ arch: 'x86', build: 'debug' });
    for (const params of [
      { segmentReserveBytes: 4096 }, { segmentCommitBytes: 2 << 20 }, { segmentGrowthFactor: 0 },
      { segmentReserveMaxBytes: 65536 }, { virtualMemoryThreshold: 0x80000 }, { lfh: 2 }, { virtCorrection: 3 },
      { freeListOrder: 2 },
    ]) {
      expect(() => engine.createHeap('nt', { params }, 0)).toThrow(EngineStatusError);
      expect(() => engine.createHeap('nt', { params }, 0)).toThrow(/BAD_PARAM/);
    }
    expect(engine.sample().heaps).toHaveLength(0);
    expect(engine.sample().vm.reservedBytes).toBe(0);
    expect(engine.check()).toBe(0);
  });
});

describe('nt: destroy', () => {
  it('releases every segment and large block; a new heap reuses the freed records and chunk slots', async () => {
    const x = await heap();
    const ops: Op[] = [];
    for (let i = 1; i <= 300; i++) ops.push(['alloc', i, i % 3 ? 40 : 3000]);
    ops.push(['alloc', 1000, 2 << 20]);
    x.run(...ops);
    expect(x.c('lfhUserBlocks')).toBeGreaterThan(0);
    x.engine.destroyHeap(x.h);
    expect(x.engine.sample().vm.reservedBytes).toBe(0);
    expect(x.engine.check()).toBe(0);
    const h2 = x.engine.createHeap('nt', {}, x.h);
    const y = new Heap(x.engine, h2);
    y.run(...ops.slice(0, 200));
    expect(y.sample().liveBlocks).toBe(200);
    expect(x.engine.blockOf(1).address).toBeGreaterThan(0);
  });
});

describe('nt: request rounding and the minimum block (§1.1)', () => {
  it.each([
    ['x86', 0, 16], ['x86', 1, 16], ['x86', 8, 16], ['x86', 9, 24], ['x86', 100, 112], ['x86', 1000, 1008],
    ['x64', 0, 32], ['x64', 1, 32], ['x64', 16, 32], ['x64', 17, 48], ['x64', 100, 128],
  ] as const)('%s: a request of %i bytes takes a %i-byte block', async (arch, n, block) => {
    const x = await heap({ lfh: 0 }, arch);
    x.run(['alloc', 1, n], ['alloc', 2, 64]);
    expect(x.blockOf(1).bytes).toBe(block);
    expect(x.blockOf(1).kind).toBe('busy');
    const G = arch === 'x86' ? 8 : 16;
    // user address = block + one header; blocks are granule aligned
    expect(x.engine.blockOf(1).address).toBe(x.blockOf(1).address + G);
    expect(x.blockOf(1).address % G).toBe(0);
  });
});

describe('nt: splitting and the 1-granule rule (§1.5)', () => {
  it('a remainder of one granule stays with the block; two granules become a free block', async () => {
    for (const [extra, split] of [[8, false], [16, true]] as const) {
      const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 30 });
      // A(1000 -> 1008 B), B(1000 -> 1008 B), C(64): free B, leaving a 1008-byte hole between A and C.
      x.run(['alloc', 1, 1000], ['alloc', 2, 1000], ['alloc', 3, 64], ['free', 2]);
      // Best fit: the hole is the smallest free block that holds 1008 − extra.
      x.run(['alloc', 4, 1008 - extra - 8]);
      const b = x.blockOf(4);
      const seg = x.seg();
      const next = seg[seg.findIndex((r) => r.address === b.address) + 1]!;
      if (split) {
        expect(b.bytes).toBe(1008 - extra);
        expect(next).toMatchObject({ kind: 'free', bytes: extra });
      } else {
        expect(b.bytes).toBe(1008);
        expect(next.kind).toBe('busy');
      }
    }
  });

  it('best fit by size: the smallest block that fits wins, the lowest address among equals', async () => {
    const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 30 });
    // holes of 2008, 1008, 1008 (in this address order), each between busy blocks
    x.run(['alloc', 1, 2000], ['alloc', 10, 16], ['alloc', 2, 1000], ['alloc', 11, 16], ['alloc', 3, 1000], ['alloc', 12, 16]);
    const a2 = x.blockOf(2).address, a3 = x.blockOf(3).address, a1 = x.blockOf(1).address;
    x.run(['free', 1], ['free', 3], ['free', 2]);
    x.run(['alloc', 4, 900]);
    expect(x.blockOf(4).address).toBe(a2);
    x.run(['alloc', 5, 900]);
    expect(x.blockOf(5).address).toBe(a3);
    x.run(['alloc', 6, 900]);
    expect(x.blockOf(6).address).toBe(a1);
  });
});

describe('nt: coalescing (§1.6)', () => {
  it('a freed block merges with both free neighbours', async () => {
    const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 30 });
    x.run(['alloc', 1, 500], ['alloc', 2, 500], ['alloc', 3, 500], ['alloc', 4, 64]);
    const start = x.blockOf(1).address;
    x.run(['free', 1], ['free', 3]);
    expect(x.sample().freeBlocks).toBe(3); // A, C and the rest of the commit
    x.run(['free', 2]);
    expect(x.sample().freeBlocks).toBe(2);
    const merged = x.seg().find((r) => r.address === start)!;
    expect(merged).toMatchObject({ kind: 'free', bytes: 3 * 512 }); // 500 + 8 rounded up to 8: 512
  });

  it('never across an uncommitted range', async () => {
    const x = await heap({ lfh: 0, segmentCommitBytes: 65536, decommitTotalFreeThreshold: 0 });
    // P | X (20 KiB, decommitted when freed) | Q | rest
    x.run(['alloc', 1, 200], ['alloc', 2, 20000], ['alloc', 3, 200], ['alloc', 4, 64]);
    x.run(['free', 2]);
    const kinds = (): string[] => x.seg().map((r) => r.kind);
    expect(kinds()).toEqual(['header', 'busy', 'free', 'ucr', 'free', 'busy', 'busy', 'free', 'ucr']);
    x.run(['free', 1], ['free', 3]);
    // P merged into the head piece, Q into the tail piece: still two free blocks around the UCR.
    expect(kinds()).toEqual(['header', 'free', 'ucr', 'free', 'busy', 'free', 'ucr']);
  });

  it('never across a segment end: the next segment starts with its header block', async () => {
    const x = await heap({ lfh: 0, segmentReserveBytes: 65536, segmentCommitBytes: 65536 });
    x.run(['alloc', 1, 30000], ['alloc', 2, 30000], ['alloc', 3, 30000]);
    expect(x.sample().segments).toBe(2);
    const w = x.walk();
    const seg0 = w.filter((r) => r.where === 0), seg1 = w.filter((r) => r.where === 1);
    expect(seg1[0]!.kind).toBe('header');
    expect(seg0[seg0.length - 1]!.kind).toBe('free');
    x.run(['free', 1], ['free', 2], ['free', 3]);
    for (const i of [0, 1]) {
      const s = x.walk().filter((r) => r.where === i);
      expect(s[0]!.kind).toBe('header');
    }
  });
});

describe('nt: the decommit rule at and around both thresholds (§1.7)', () => {
  // Layout: A(100) | B | C(100) | rest of the commit (free). B's neighbours stay busy, so S = B's block.
  async function freeB(bBytes: number, params: Record<string, number>): Promise<{ x: Heap; decommitted: number; freeBefore: number; s: number }> {
    const x = await heap({ lfh: 0, segmentCommitBytes: 256 * 1024, ...params });
    x.run(['alloc', 1, 100], ['alloc', 2, bBytes - 8], ['alloc', 3, 100]);
    const s = x.blockOf(2).bytes;
    const freeBefore = x.sample().freeBytes;
    x.run(['free', 2]);
    return { x, decommitted: x.c('decommittedBytes'), freeBefore, s };
  }

  it('block threshold: S = DFBT − 8 stays committed, S = DFBT decommits its whole pages', async () => {
    const below = await freeB(8192 - 8, { decommitFreeBlockThreshold: 8192, decommitTotalFreeThreshold: 0 });
    expect(below.s).toBe(8184);
    expect(below.decommitted).toBe(0);
    expect(below.x.sample().uncommittedRanges).toBe(1);
    const at = await freeB(8192, { decommitFreeBlockThreshold: 8192, decommitTotalFreeThreshold: 0 });
    expect(at.s).toBe(8192);
    expect(at.decommitted).toBeGreaterThanOrEqual(PAGE);
    expect(at.x.sample().uncommittedRanges).toBe(2);
    expect(at.x.c('segmentCommittedBytes')).toBe(256 * 1024 - at.decommitted);
  });

  it('total threshold: decommit only when free total + S reaches DTFT', async () => {
    const probe = await freeB(16384, { decommitFreeBlockThreshold: 4096, decommitTotalFreeThreshold: 1 << 30 });
    expect(probe.decommitted).toBe(0);
    const need = probe.freeBefore + probe.s;
    expect((await freeB(16384, { decommitFreeBlockThreshold: 4096, decommitTotalFreeThreshold: need + 8 })).decommitted).toBe(0);
    expect((await freeB(16384, { decommitFreeBlockThreshold: 4096, decommitTotalFreeThreshold: need })).decommitted).toBeGreaterThan(0);
  });

  it('x86 defaults: 4 KiB and 64 KiB (a heap with little free memory keeps even large free blocks)', async () => {
    const small = await freeB(16384, { segmentCommitBytes: 8192 });
    expect(small.freeBefore + small.s).toBeLessThan(65536);
    expect(small.decommitted).toBe(0);
    const big = await freeB(16384, { segmentCommitBytes: 512 * 1024 });
    expect(big.freeBefore + big.s).toBeGreaterThanOrEqual(65536);
    expect(big.decommitted).toBeGreaterThan(0);
  });

  it('only whole pages go; head and tail pieces stay free blocks, never a single granule', async () => {
    const { x, decommitted } = await freeB(20000, { decommitTotalFreeThreshold: 0 });
    const s = x.seg();
    const u = s.findIndex((r, i) => r.kind === 'ucr' && i < s.length - 1);
    const head = s[u - 1]!, ucr = s[u]!, tail = s[u + 1]!;
    expect(ucr.address % PAGE).toBe(0);
    expect(ucr.bytes % PAGE).toBe(0);
    expect(ucr.bytes).toBe(decommitted);
    expect([head.kind, tail.kind]).toEqual(['free', 'free']);
    expect(head.bytes).toBeLessThan(PAGE + 16);
    expect(head.bytes).not.toBe(8);
    expect(tail.bytes).not.toBe(8);
    for (let a = ucr.address; a < ucr.address + ucr.bytes; a += PAGE) expect(x.engine.vm.isCommitted(a)).toBe(false);
    expect(x.engine.vm.isCommitted(head.address)).toBe(true);
    expect(x.engine.vm.isCommitted(tail.address)).toBe(true);
  });

  it('a decommitted range merges with a neighbouring UCR', async () => {
    const x = await heap({ lfh: 0, decommitTotalFreeThreshold: 0 });
    // Fill the 8 KiB commit, then one block that needs fresh pages at the UCR's start.
    x.run(['alloc', 1, 100], ['alloc', 2, 6400], ['alloc', 3, 30000]);
    const ucrs = x.sample().uncommittedRanges;
    // Freeing the last block before the UCR: its pages join the tail UCR, no new range.
    x.run(['free', 3]);
    expect(x.sample().uncommittedRanges).toBe(ucrs);
    expect(x.c('decommittedBytes')).toBeGreaterThan(0);
  });

  it('trim decommits the whole pages of every free block, thresholds ignored', async () => {
    const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 30, segmentCommitBytes: 256 * 1024 });
    x.run(['alloc', 1, 100], ['alloc', 2, 50000], ['alloc', 3, 100], ['free', 2]);
    const before = x.c('segmentCommittedBytes');
    expect(x.c('freeWholePageBytes')).toBeGreaterThan(200 * 1024);
    x.run(['trim', 0]);
    expect(x.c('freeWholePageBytes')).toBe(0);
    expect(x.c('segmentCommittedBytes')).toBeLessThan(before - 200 * 1024);
  });
});

describe('nt: realloc (§1.5)', () => {
  it('shrinking splits the tail off in place and frees it through the free path', async () => {
    const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 30 });
    x.run(['alloc', 1, 3000], ['alloc', 2, 64]);
    const a = x.engine.blockOf(1).address;
    x.run(['realloc', 1, 40]);
    expect(x.engine.blockOf(1).address).toBe(a);
    expect(x.blockOf(1).bytes).toBe(48);
    const seg = x.seg();
    const i = seg.findIndex((r) => r.address === x.blockOf(1).address);
    expect(seg[i + 1]).toMatchObject({ kind: 'free', bytes: 3008 - 48 });
    expect(seg[i + 2]!.kind).toBe('busy');
  });

  it('a shrink whose tail would be one granule keeps the block as it is', async () => {
    const x = await heap({ lfh: 0 });
    x.run(['alloc', 1, 100], ['realloc', 1, 92]);
    expect(x.blockOf(1).bytes).toBe(112);
  });

  it('growing takes the free successor in place, else the block moves', async () => {
    const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 30 });
    x.run(['alloc', 1, 1000], ['alloc', 2, 1000], ['alloc', 3, 64], ['free', 2]);
    const a = x.engine.blockOf(1).address;
    x.run(['realloc', 1, 1500]);
    expect(x.engine.blockOf(1).address).toBe(a);
    expect(x.blockOf(1).bytes).toBe(1512);
    x.run(['realloc', 1, 4000]);
    expect(x.engine.blockOf(1).address).not.toBe(a);
    expect(x.engine.blockOf(1).requestedBytes).toBe(4000);
  });
});

describe('nt: free-list ties and x64 defaults', () => {
  it('freeListOrder=1 gives equal-size blocks out in the order they were freed; 0 by address', async () => {
    for (const [order, want] of [[0, 'low'], [1, 'high']] as const) {
      const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 30, freeListOrder: order });
      x.run(['alloc', 1, 500], ['alloc', 10, 16], ['alloc', 2, 500], ['alloc', 11, 16]);
      const low = x.blockOf(1).address, high = x.blockOf(2).address;
      x.run(['free', 2], ['free', 1], ['alloc', 3, 500]);
      expect(x.blockOf(3).address).toBe(want === 'low' ? low : high);
    }
  });

  it('x64: 16-byte granule, DFBT 16 KiB by default (a 12 KiB free block with whole pages stays committed)', async () => {
    const run = async (bytes: number): Promise<number> => {
      const x = await heap({ lfh: 0, segmentCommitBytes: 512 * 1024 }, 'x64');
      x.run(['alloc', 1, 100], ['alloc', 2, bytes - 16], ['alloc', 3, 100], ['free', 2]);
      return x.c('decommittedBytes');
    };
    expect(await run(12 * 1024)).toBe(0);
    expect(await run(16 * 1024)).toBeGreaterThan(0);
  });
});

describe('nt: segments and growth (§1.3)', () => {
  it('commits at the first fitting UCR of the first segment that has one', async () => {
    const x = await heap({ lfh: 0 });
    x.run(['alloc', 1, 20000]);
    const s = x.seg();
    expect(x.sample().segments).toBe(1);
    expect(s.map((r) => r.kind)).toEqual(['header', 'busy', 'free', 'ucr']);
    // the 8 KiB commit held no 20000-byte block: the commit grew from the UCR's start
    expect(x.c('segmentCommittedBytes')).toBe(8192 + Math.ceil(20008 / PAGE) * PAGE);
  });

  it('later segments double (growth 2), stay fixed (growth 1), stop at the cap', async () => {
    const sizes = async (params: Record<string, number>): Promise<number[]> => {
      const x = await heap({ lfh: 0, segmentReserveBytes: 65536, ...params });
      const ops: Op[] = [];
      for (let i = 0; i < 120; i++) ops.push(['alloc', i + 1, 30000]);
      x.run(...ops);
      return x.engine.vm.walk().filter((r) => !r.free && r.owner === x.h).map((r) => r.sizeBytes);
    };
    const K = 65536;
    expect((await sizes({})).slice(0, 6)).toEqual([K, 2 * K, 4 * K, 8 * K, 16 * K, 32 * K]);
    expect(new Set(await sizes({ segmentGrowthFactor: 1 }))).toEqual(new Set([K]));
    expect(Math.max(...await sizes({ segmentReserveMaxBytes: 4 * K }))).toBe(4 * K);
  });

  it('growable heap: a request larger than the next reservation gets a segment of its own size', async () => {
    const x = await heap({ lfh: 0, segmentReserveBytes: 65536 });
    x.run(['alloc', 1, 400000]);
    expect(x.sample().segments).toBe(2);
    expect(x.blockOf(1).where).toBe(1);
  });
});

describe('nt: large blocks above VirtualMemoryThreshold (§1.9)', () => {
  it('x86: a block of exactly 0x7F000 bytes stays in a segment; one granule more gets its own reservation', async () => {
    const x = await heap({ lfh: 0 });
    x.run(['alloc', 1, 0x7f000 - 8]);
    expect(x.blockOf(1).kind).toBe('busy');
    expect(x.sample().virtualBlocks).toBe(0);
    const reserved = x.c('segmentReservedBytes');
    x.run(['alloc', 2, 0x7f000 - 7]);
    const s = x.sample();
    expect(s.virtualBlocks).toBe(1);
    expect(s.virtualBytes).toBe(0x80000); // data + 0x20 header, rounded up to pages
    expect(s.policyCounters.segmentReservedBytes).toBe(reserved);
    expect(s.reservedBytes).toBe(reserved + 0x80000);
    const region = x.engine.vm.walk().find((r) => !r.free && r.base === x.blockOf(2).address)!;
    expect(region).toMatchObject({ usage: 'heap', committedBytes: 0x80000, owner: x.h });
    expect(x.engine.blockOf(2).address).toBe(region.base + 0x20);
    x.run(['free', 2]);
    expect(x.sample().virtualBlocks).toBe(0);
    expect(x.engine.vm.walk().some((r) => !r.free && r.base === region.base)).toBe(false);
  });

  it('512 KiB on x86 commits 516 KiB (SG15); x64 uses 0xFF000 and a 0x40 header', async () => {
    const x = await heap({ lfh: 0 });
    x.run(['alloc', 1, 512 * 1024]);
    expect(x.sample().virtualBytes).toBe(0x81000);
    const y = await heap({ lfh: 0 }, 'x64');
    y.run(['alloc', 1, 0xff000 - 16], ['alloc', 2, 0xff000 - 15]);
    expect(y.blockOf(1).kind).toBe('busy');
    expect(y.sample().virtualBlocks).toBe(1);
    expect(y.engine.blockOf(2).address % 65536).toBe(0x40);
  });

  it('`!heap -s` view: Reserv/Commit are the segments only, Virt blocks counts large blocks', async () => {
    const x = await heap({ lfh: 0 });
    x.run(['alloc', 1, 4 << 20], ['alloc', 2, 1000]);
    const v = heapCounters(x.sample());
    expect(v.reservedBytes).toBe(1 << 20);
    expect(v.committedBytes).toBe(x.c('segmentCommittedBytes'));
    expect(v.virtualBlocks).toBe(1);
    expect(v.committedBytes).toBe(v.busyBytes + v.freeBytes);
  });
});

describe('nt: Virt (Reserv minus the large-UCR correction, §4.4)', () => {
  it('0 = Reserv; 1 = minus each segment\'s largest UCR; 2 = minus UCRs of at least virtLargeUcrBytes', async () => {
    const build = async (virtCorrection: number, virtLargeUcrBytes = 1 << 20): Promise<Heap> => {
      const x = await heap({ lfh: 0, virtCorrection, virtLargeUcrBytes, decommitTotalFreeThreshold: 0, segmentCommitBytes: 512 * 1024 });
      x.run(['alloc', 1, 100], ['alloc', 2, 100000], ['alloc', 3, 100], ['free', 2]);
      return x;
    };
    const ucrs = (x: Heap): number[] => x.seg().filter((r) => r.kind === 'ucr').map((r) => r.bytes);
    const r0 = await build(0);
    expect(r0.c('virtBytes')).toBe(r0.c('segmentReservedBytes'));
    const r1 = await build(1);
    expect(ucrs(r1)).toHaveLength(2);
    expect(r1.c('virtBytes')).toBe(r1.c('segmentReservedBytes') - Math.max(...ucrs(r1)));
    const r2 = await build(2, 200 * 1024);
    expect(r2.c('virtBytes')).toBe(r2.c('segmentReservedBytes') - ucrs(r2).filter((b) => b >= 200 * 1024).reduce((a, b) => a + b, 0));
    const r3 = await build(2, 4096);
    expect(r3.c('virtBytes')).toBe(r3.c('segmentCommittedBytes'));
  });
});

describe('nt: LFH front end (§2)', () => {
  const lfhChunks = (x: Heap): number => x.walk().filter((r) => r.kind === 'chunk').length;

  it('new heap: the 17th allocation of a size creates the LFH, the 18th switches the bucket on, the 19th is an LFH chunk', async () => {
    const x = await heap();
    for (let i = 1; i <= 19; i++) {
      x.run(['alloc', i, 100]);
      expect([i, x.c('frontEndHeapType')]).toEqual([i, i >= 17 ? 2 : 0]);
      expect([i, lfhChunks(x)]).toEqual([i, i >= 19 ? 1 : 0]);
    }
    expect(x.c('lfhUserBlocks')).toBe(1);
    expect(x.walk().filter((r) => r.kind === 'busy')).toHaveLength(18);
    // Once the LFH exists, another size needs 17 back-end allocations: the 18th is an LFH chunk.
    for (let i = 1; i <= 18; i++) x.run(['alloc', 100 + i, 2000]);
    expect(x.walk().filter((r) => r.kind === 'chunk' && r.bytes === 2048 + 8)).toHaveLength(1);
  });

  it('steady alloc/free pairs stay on the back end until the counter cap (0xFF00)', async () => {
    // Each pair adds 0x21 and takes 1 back: 0x20 per pair. The 2040th allocation sees
    // 0x20 × 2039 + 0x21 = 0xFF01 > 0xFF00 and creates the LFH; the 2041st switches the bucket on.
    const x = await heap();
    const pairs = (n: number): Op[] => Array.from({ length: n }, () => [['alloc', 1, 300], ['free', 1]] as Op[]).flat();
    x.run(...pairs(2039));
    expect(x.c('frontEndHeapType')).toBe(0);
    x.run(...pairs(1));
    expect(x.c('frontEndHeapType')).toBe(2);
    x.run(...pairs(1), ['alloc', 1, 300]);
    expect(lfhChunks(x)).toBe(1);
  });

  it('a bucket switched on by requests below VirtualMemoryThreshold still sends its requests above it to large blocks', async () => {
    // x86, vmt 9000 B: bucket 113 holds requests of 8705..9216 B; 8800 B needs 8816 B (back end,
    // counted: the bucket switches on), 9100 B needs 9112 B > vmt (a large block, LFH or not).
    const x = await heap({ virtualMemoryThreshold: 9000 });
    x.run(...Array.from({ length: 20 }, (_, i) => ['alloc', i + 1, 8800] as Op));
    expect(lfhChunks(x)).toBeGreaterThan(0);
    x.run(['alloc', 100, 9100]);
    expect(x.walk().filter((r) => r.kind === 'large')).toHaveLength(1);
    expect(x.sample().virtualBlocks).toBe(1);
  });

  it('lfh=0 and noSerialize=1 keep every allocation on the back end', async () => {
    for (const params of [{ lfh: 0 }, { noSerialize: 1 }]) {
      const x = await heap(params);
      x.run(...Array.from({ length: 100 }, (_, i) => ['alloc', i + 1, 64] as Op));
      expect(x.c('frontEndHeapType')).toBe(0);
      expect(lfhChunks(x)).toBe(0);
    }
  });

  it('a user block is a busy back-end block; it returns only when every chunk in it is free', async () => {
    const x = await heap();
    const ids = Array.from({ length: 60 }, (_, i) => i + 1);
    x.run(...ids.map((i) => ['alloc', i, 40] as Op));
    const blocks = x.walk().filter((r) => r.kind === 'userBlock');
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    const first = blocks[0]!;
    const inFirst = ids.filter((i) => { const a = x.engine.blockOf(i).address; return a > first.address && a < first.address + first.bytes; });
    expect(inFirst.length).toBeGreaterThan(2);
    // Free all but one chunk of the first user block: it stays, pinned.
    const freeBefore = x.sample().freeBytes;
    x.run(...inFirst.slice(1).map((i) => ['free', i] as Op));
    expect(x.walk().some((r) => r.kind === 'userBlock' && r.address === first.address)).toBe(true);
    const s = x.sample();
    expect(s.freeBytes).toBe(freeBefore); // free chunks are not back-end Free
    const pinned = ntRetentionCauses(heapCounters(s)).find((c) => c.layer === 'LFH')!;
    expect(pinned.bytes).toBe(s.policyCounters.lfhUserBlockBytes! - s.policyCounters.lfhLiveChunkBytes!);
    expect(pinned.bytes).toBeGreaterThan(0);
    // The last chunk goes: the user block is freed to the back end.
    x.run(['free', inFirst[0]!]);
    expect(x.walk().some((r) => r.kind === 'userBlock' && r.address === first.address)).toBe(false);
  });

  it('chunk handles: a retired subsegment gives its slot run back and the next one reuses it; aligned chunks keep their alignment', async () => {
    const x = await heap({}, 'x64');
    // Fill and empty several buckets in turn, with 64-byte alignment on every third request: the
    // user blocks (and their slot runs) come and go; the slot table must stop growing after the
    // first round, every live chunk must be found from its handle, and the walk lists each
    // subsegment's chunks in address order.
    const cycle = (round: number): void => {
      const ids: number[] = [];
      const ops: Op[] = [];
      for (let b = 0; b < 6; b++) {
        for (let i = 0; i < 400; i++) {
          const id = round * 100_000 + b * 1000 + i + 1;
          ids.push(id);
          ops.push(['alloc', id, 24 + b * 40]);
        }
      }
      x.run(...ops);
      const b = new OpBuffer(1);
      b.alignedAlloc(x.h, round * 100_000 + 99_999, 100, 64);
      x.engine.apply(b);
      expect(x.engine.blockOf(round * 100_000 + 99_999).address % 64).toBe(0);
      // The first ~18 requests of each size go to the back end (activation, §2); the rest are chunks.
      const chunks = x.walk().filter((r) => r.kind === 'chunk');
      expect(chunks.reduce((t, c) => t + c.bytes, 0)).toBe(x.c('lfhLiveChunkBytes'));
      expect(chunks.length).toBeGreaterThan(ids.length - 6 * 20);
      for (const id of ids.filter((_, i) => i % 400 >= 30 && i % 37 === 0)) {
        const a = x.engine.blockOf(id).address;
        expect(chunks.some((c) => c.address < a && a < c.address + c.bytes)).toBe(true);
      }
      x.run(['realloc', round * 100_000 + 99_999, 90]); // same bucket: stays, still aligned
      expect(x.engine.blockOf(round * 100_000 + 99_999).address % 64).toBe(0);
      x.run(...ids.map((id) => ['free', id] as Op), ['free', round * 100_000 + 99_999]);
      expect(x.c('lfhUserBlocks')).toBe(0);
    };
    cycle(0);
    const tableBytes = (): number => x.engine.engineTableBytes().policies.nt!.tableBytes;
    const after1 = tableBytes();
    for (let r = 1; r < 4; r++) cycle(r);
    expect(tableBytes()).toBe(after1);
  });

  it('bucket granularity: 8-byte steps to 256, then 16, 32, ... 512 up to 16 KiB; larger requests skip the LFH', async () => {
    const x = await heap({ lfhRandomChunks: 0 });
    const chunkOf = (n: number, id0: number): number => {
      x.run(...Array.from({ length: 19 }, (_, i) => ['alloc', id0 + i, n] as Op));
      const a = x.engine.blockOf(id0 + 18).address;
      const r = x.walk().find((c) => c.kind === 'chunk' && c.address < a && a < c.address + c.bytes);
      return r ? r.bytes : 0;
    };
    expect(chunkOf(1, 1000)).toBe(16);
    expect(chunkOf(250, 2000)).toBe(264);
    expect(chunkOf(257, 3000)).toBe(280);
    expect(chunkOf(1025, 4000)).toBe(1096);
    expect(chunkOf(16384, 5000)).toBe(16392);
    expect(chunkOf(16385, 6000)).toBe(0);
  });
});

describe('nt: diagnosis mechanisms', () => {
  it('splits free space into whole pages the thresholds keep and partial pages trapped between live blocks', async () => {
    const x = await heap({ lfh: 0, decommitFreeBlockThreshold: 1 << 20, segmentCommitBytes: 128 * 1024 });
    x.run(['alloc', 1, 100], ['alloc', 2, 30000], ['alloc', 3, 100], ['alloc', 4, 2000], ['alloc', 5, 100], ['free', 2], ['free', 4]);
    const v = heapCounters(x.sample());
    const causes = Object.fromEntries(ntRetentionCauses(v).map((c) => [c.mechanism, c.bytes]));
    const free = x.seg().filter((r) => r.kind === 'free');
    let whole = 0;
    for (const f of free) whole += Math.max(0, Math.floor((f.address + f.bytes) / PAGE) * PAGE - Math.ceil(f.address / PAGE) * PAGE);
    expect(causes['free blocks below the decommit thresholds']).toBe(whole);
    expect(causes['free space trapped between live blocks']).toBe(v.freeBytes - whole);
    expect(causes['LFH user blocks pinned by live chunks']).toBe(0);
    expect(whole).toBeGreaterThan(20000);
  });
});
