// Reference model of the buddy policy (assembly/policies/buddy/index.ts and docs/textbook-policies.md):
// Knuth's Algorithms R and S over arrays (one LIFO array per order, the head at the end), a map of
// free blocks by address, and the set of committed pages. Written for reading.
import { AddressSpace, alignDown, alignUp, neededBytes, userAddress, PAGE, type Model } from '../textbook/harness.js';

export interface BuddyParams { minBlockBytes: number; arenaBytes: number }

interface Block { addr: number; order: number; arena: number; alignLog2: number; free: boolean; large?: number }

export class BuddyModel implements Model {
  readonly space = new AddressSpace();
  readonly minOrder: number;
  readonly maxOrder: number;
  readonly lists: Block[][] = [];
  readonly freeAt = new Map<number, Block>();
  readonly arenas: number[] = [];            // base per slot, 0 = released
  readonly pages = new Set<number>();        // committed arena pages
  readonly ids = new Map<number, Block>();
  busyBytes = 0;
  largeBytes = 0;
  largeBlocks = 0;
  splits = 0;
  merges = 0;
  released = 0;
  trimmed = 0;
  commitCalls = 0;   // the VM's commit calls: every block handed out, every free block pushed, every large block

  constructor(p: BuddyParams) {
    this.minOrder = Math.log2(p.minBlockBytes);
    this.maxOrder = Math.log2(p.arenaBytes);
    for (let k = 0; k <= this.maxOrder; k++) this.lists.push([]);
  }

  private commit(from: number, to: number): void {
    for (let a = alignDown(from, PAGE); a < to; a += PAGE) this.pages.add(a);
  }

  private push(b: Block, k: number): void {
    b.order = k;
    b.free = true;
    this.lists[k]!.push(b);
    this.freeAt.set(b.addr, b);
    this.commit(b.addr, b.addr + 1);
    this.commitCalls++;
  }

  private unlink(b: Block): void {
    const l = this.lists[b.order]!;
    l.splice(l.indexOf(b), 1);
    this.freeAt.delete(b.addr);
    b.free = false;
  }

  private need(size: number, alignLog2: number): number { return neededBytes(size, alignLog2); }

  private orderFor(size: number, alignLog2: number): number {
    return Math.max(this.minOrder, Math.ceil(Math.log2(this.need(size, alignLog2))));
  }

  private allocBlock(size: number, alignLog2: number): Block | undefined {
    const a = alignLog2 > 4 ? alignLog2 : 0;
    const k = this.orderFor(size, alignLog2);
    if (k > this.maxOrder) {
      const bytes = alignUp(this.need(size, alignLog2), PAGE);
      const addr = this.space.reserve(bytes);
      if (!addr) return undefined;
      this.largeBytes += bytes;
      this.largeBlocks++;
      this.commitCalls++;
      return { addr, order: 0, arena: -1, alignLog2: a, free: false, large: bytes };
    }
    let j = k;
    while (j <= this.maxOrder && !this.lists[j]!.length) j++;
    let b: Block;
    if (j > this.maxOrder) {
      const base = this.space.reserve(2 ** this.maxOrder);
      if (!base) return undefined;
      let slot = this.arenas.indexOf(0);
      if (slot < 0) { slot = this.arenas.length; this.arenas.push(0); }
      this.arenas[slot] = base;
      b = { addr: base, order: this.maxOrder, arena: slot, alignLog2: 0, free: false };
      this.push(b, this.maxOrder);
      j = this.maxOrder;
    } else {
      b = this.lists[j]![this.lists[j]!.length - 1]!;
    }
    this.unlink(b);
    while (j > k) {
      j--;
      this.push({ addr: b.addr + 2 ** j, order: j, arena: b.arena, alignLog2: 0, free: true }, j);
      this.splits++;
    }
    b.order = k;
    b.alignLog2 = a;
    this.busyBytes += 2 ** k;
    this.commit(b.addr, b.addr + 2 ** k);
    this.commitCalls++;
    return b;
  }

  private release(b: Block): void {
    if (b.large) {
      this.space.release(b.addr);
      this.largeBytes -= b.large;
      this.largeBlocks--;
      return;
    }
    this.busyBytes -= 2 ** b.order;
    const base = this.arenas[b.arena]!;
    let k = b.order;
    while (k < this.maxOrder) {
      const buddy = this.freeAt.get(base + ((b.addr - base) ^ 2 ** k));
      if (!buddy || buddy.order !== k) break;
      this.unlink(buddy);
      b.addr = Math.min(b.addr, buddy.addr);
      k++;
      this.merges++;
    }
    this.push(b, k);
  }

  alloc(id: number, size: number, alignLog2: number): boolean {
    const b = this.allocBlock(size, alignLog2);
    if (b) this.ids.set(id, b);
    return !!b;
  }

  free(id: number): void {
    this.release(this.ids.get(id)!);
    this.ids.delete(id);
  }

  realloc(id: number, size: number): boolean {
    const b = this.ids.get(id)!;
    const k = this.orderFor(size, b.alignLog2);
    if (b.large) {
      if (k > this.maxOrder && alignUp(this.need(size, b.alignLog2), PAGE) === b.large) return true;
    } else if (k <= b.order) {
      for (let j = b.order - 1; j >= k; j--) {
        this.busyBytes -= 2 ** j;
        this.push({ addr: b.addr + 2 ** j, order: j, arena: b.arena, alignLog2: 0, free: true }, j);
        this.splits++;
      }
      b.order = k;
      return true;
    }
    const m = this.allocBlock(size, b.alignLog2);
    if (!m) return false;
    this.release(b);
    this.ids.set(id, m);
    return true;
  }

  trim(): void {
    for (let k = this.minOrder; k <= this.maxOrder; k++) {
      for (const b of [...this.lists[k]!].reverse()) {
        const size = 2 ** k;
        if (k === this.maxOrder) {
          for (let a = b.addr; a < b.addr + size; a += PAGE) if (this.pages.delete(a)) this.trimmed += PAGE;
          this.unlink(b);
          this.space.release(b.addr);
          this.arenas[b.arena] = 0;
          this.released++;
        } else if (size > PAGE) {
          for (let a = b.addr + PAGE; a < b.addr + size; a += PAGE) if (this.pages.delete(a)) this.trimmed += PAGE;
        }
      }
    }
  }

  address(id: number): number { const b = this.ids.get(id)!; return userAddress(b.addr, b.alignLog2); }

  view(): Record<string, number> {
    const live = this.arenas.filter((a) => a).length;
    let top = -1;
    for (let k = this.maxOrder; k >= this.minOrder; k--) if (this.lists[k]!.length) { top = k; break; }
    const free = [...this.freeAt.values()];
    const committed = this.pages.size * PAGE;
    return {
      busyBytes: this.busyBytes + this.largeBytes, freeBytes: committed - this.busyBytes, freeBlocks: free.length,
      largestFreeBytes: top < 0 ? 0 : 2 ** top, segments: live, committedBytes: committed + this.largeBytes,
      reservedBytes: live * 2 ** this.maxOrder + this.largeBytes, uncommittedRanges: 0,
      virtualBlocks: this.largeBlocks, virtualBytes: this.largeBytes,
      'c.arenas': live, 'c.arenaBytes': 2 ** this.maxOrder, 'c.largestFreeOrder': top, 'c.splits': this.splits,
      'c.merges': this.merges, 'c.releasedArenas': this.released, 'c.trimmedBytes': this.trimmed,
      'c.freeBlockBytes': free.reduce((t, b) => t + 2 ** b.order, 0), 'vm.commitCalls': this.commitCalls,
    };
  }
}
