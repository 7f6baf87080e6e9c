// Reference model of best-fit and next-fit (the rules of assembly/policies/textbook/fit.ts and
// docs/textbook-policies.md), written for reading: every block is an object in one address-sorted
// array, and the choice scans it.
import { AddressSpace, ArenaModel, blockBytes, userAddress, type Model } from './harness.js';

const MIN_BLOCK = 32;

interface Block { addr: number; size: number; free: boolean; alignLog2: number; seg: number }

export class FitModel implements Model {
  readonly arena: ArenaModel;
  readonly blocks: Block[] = [];
  readonly ids = new Map<number, Block>();
  rover = 0;
  busyBytes = 0;
  carved = 0;
  reused = 0;
  splits = 0;
  coalesces = 0;
  wraps = 0;

  constructor(readonly rule: 'best' | 'next', params: { segmentReserveBytes: number; commitStepBytes: number }) {
    this.arena = new ArenaModel(new AddressSpace(), params.segmentReserveBytes, params.commitStepBytes);
  }

  private need(size: number, alignLog2: number): number { return Math.max(blockBytes(size, alignLog2), MIN_BLOCK); }

  private insert(b: Block): void {
    let i = this.blocks.findIndex((x) => x.addr > b.addr);
    if (i < 0) i = this.blocks.length;
    this.blocks.splice(i, 0, b);
  }

  private drop(b: Block): void { this.blocks.splice(this.blocks.indexOf(b), 1); }

  private choose(need: number): Block | undefined {
    const fits = this.blocks.filter((b) => b.free && b.size >= need);
    if (!fits.length) return undefined;
    if (this.rule === 'best') return fits.reduce((a, b) => (b.size < a.size || (b.size === a.size && b.addr < a.addr) ? b : a));
    const ahead = fits.find((b) => b.addr >= this.rover);
    if (ahead) return ahead;
    this.wraps++;
    return fits[0];
  }

  private allocBlock(size: number, alignLog2: number): Block | undefined {
    const need = this.need(size, alignLog2);
    const f = this.choose(need);
    let b: Block;
    if (f) {
      if (f.size - need >= MIN_BLOCK) {
        b = { addr: f.addr, size: need, free: false, alignLog2, seg: f.seg };
        f.addr += need;
        f.size -= need;
        this.insert(b);
        this.splits++;
      } else {
        b = f;
        b.free = false;
        b.alignLog2 = alignLog2;
      }
      this.rover = b.addr + b.size;
      this.reused++;
    } else {
      const at = this.arena.carve(need);
      if (!at) return undefined;
      b = { addr: at, size: need, free: false, alignLog2, seg: this.arena.segs.length - 1 };
      this.insert(b);
      this.carved++;
    }
    this.busyBytes += b.size;
    return b;
  }

  private neighbour(b: Block, dir: -1 | 1): Block | undefined {
    const x = this.blocks[this.blocks.indexOf(b) + dir];
    if (!x || x.seg !== b.seg) return undefined;
    return dir < 0 ? (x.addr + x.size === b.addr ? x : undefined) : (b.addr + b.size === x.addr ? x : undefined);
  }

  /** b (busy counters already taken off) becomes free: merge, or back to the newest top. */
  private release(b: Block): void {
    const p = this.neighbour(b, -1);
    if (p?.free) { p.size += b.size; this.drop(b); b = p; this.coalesces++; }
    const q = this.neighbour(b, 1);
    if (q?.free) { b.size += q.size; this.drop(q); this.coalesces++; }
    const top = this.arena.newest();
    if (b.seg === this.arena.segs.length - 1 && b.addr + b.size === top.top) {
      top.top = b.addr;
      this.drop(b);
      this.coalesces++;
      return;
    }
    b.free = true;
    b.alignLog2 = 0;
  }

  alloc(id: number, size: number, alignLog2: number): boolean {
    const b = this.allocBlock(size, alignLog2);
    if (b) this.ids.set(id, b);
    return !!b;
  }

  free(id: number): void {
    const b = this.ids.get(id)!;
    this.ids.delete(id);
    this.busyBytes -= b.size;
    this.release(b);
  }

  realloc(id: number, size: number): boolean {
    const b = this.ids.get(id)!;
    const need = this.need(size, b.alignLog2 > 4 ? b.alignLog2 : 0);
    const have = b.size;
    if (need <= have) {
      if (have - need >= MIN_BLOCK) {
        const t: Block = { addr: b.addr + need, size: have - need, free: false, alignLog2: 0, seg: b.seg };
        b.size = need;
        this.insert(t);
        this.busyBytes -= have - need;
        this.release(t);
      }
      return true;
    }
    const q = this.neighbour(b, 1);
    if (q?.free && have + q.size >= need) {
      const extra = need - have;
      if (q.size - extra >= MIN_BLOCK) { q.addr += extra; q.size -= extra; b.size = need; }
      else { b.size += q.size; this.drop(q); }
      this.busyBytes += b.size - have;
      return true;
    }
    const m = this.allocBlock(size, b.alignLog2 > 4 ? b.alignLog2 : 0);
    if (!m) return false;
    this.busyBytes -= b.size;
    this.release(b);
    this.ids.set(id, m);
    return true;
  }

  trim(pad: number): void { this.arena.trim(pad); }

  address(id: number): number { const b = this.ids.get(id)!; return userAddress(b.addr, b.alignLog2); }

  view(): Record<string, number> {
    const a = this.arena.view();
    const free = this.blocks.filter((b) => b.free);
    const v: Record<string, number> = {
      busyBytes: this.busyBytes,
      freeBytes: free.reduce((t, b) => t + b.size, 0) + a.topBytes,
      freeBlocks: free.length + a.topBlocks,
      largestFreeBytes: Math.max(a.largestTop, ...free.map((b) => b.size), 0),
      segments: this.arena.segs.length, committedBytes: a.committed, reservedBytes: a.reserved,
      uncommittedRanges: a.uncommitted, virtualBlocks: 0, virtualBytes: 0,
      'c.topCommittedBytes': a.topBytes, 'c.carvedBlocks': this.carved, 'c.reusedBlocks': this.reused,
      'c.splits': this.splits, 'c.coalesces': this.coalesces, 'c.trimmedBytes': this.arena.trimmedBytes,
      'c.abandonedTopBytes': a.abandoned,
    };
    if (this.rule === 'next') { v['c.roverAddress'] = this.rover; v['c.wraps'] = this.wraps; }
    return v;
  }
}
