// Reference model of the segregated policy (assembly/policies/segregated/index.ts and
// docs/textbook-policies.md): a class table, one LIFO array per class, blocks carved from the
// arena's top, large blocks in their own reservations. Written for reading.
import { AddressSpace, ArenaModel, alignUp, blockBytes, userAddress, GRANULE_BYTES, PAGE, type Model } from '../textbook/harness.js';

export interface SegregatedParams {
  minClassBytes: number;
  maxClassBytes: number;
  classesPerDoubling: number;
  segmentReserveBytes: number;
  commitStepBytes: number;
}

interface Block { addr: number; size: number; cls: number; alignLog2: number; large: boolean }

/** The class table: from minClassBytes by max(16, 2^floor(log2 c) / perDoubling) up to maxClassBytes. */
export function classTable(p: SegregatedParams): number[] {
  const out: number[] = [];
  for (let c = p.minClassBytes; c <= p.maxClassBytes; c += Math.max(GRANULE_BYTES, 2 ** Math.floor(Math.log2(c)) / p.classesPerDoubling)) out.push(c);
  return out;
}

export class SegregatedModel implements Model {
  readonly classes: number[];
  readonly lists: Block[][];
  readonly arena: ArenaModel;
  readonly space = new AddressSpace();
  readonly ids = new Map<number, Block>();
  busyBytes = 0;
  largeBytes = 0;
  largeBlocks = 0;
  reused = 0;
  carved = 0;

  constructor(p: SegregatedParams) {
    this.classes = classTable(p);
    this.lists = this.classes.map(() => []);
    this.arena = new ArenaModel(this.space, p.segmentReserveBytes, p.commitStepBytes);
  }

  private need(size: number, alignLog2: number): number { return blockBytes(size, alignLog2); }

  private classFor(need: number): number {
    const i = this.classes.findIndex((c) => c >= need);
    return i < 0 ? this.classes.length : i;
  }

  private allocBlock(size: number, alignLog2: number): Block | undefined {
    const need = this.need(size, alignLog2);
    const cls = this.classFor(need);
    const a = alignLog2 > 4 ? alignLog2 : 0;
    if (cls === this.classes.length) {
      const bytes = alignUp(need, PAGE);
      const addr = this.space.reserve(bytes);
      if (!addr) return undefined;
      this.largeBytes += bytes;
      this.largeBlocks++;
      return { addr, size: bytes, cls, alignLog2: a, large: true };
    }
    let b = this.lists[cls]!.pop();
    if (b) {
      b.alignLog2 = a;
      this.reused++;
    } else {
      const addr = this.arena.carve(this.classes[cls]!);
      if (!addr) return undefined;
      b = { addr, size: this.classes[cls]!, cls, alignLog2: a, large: false };
      this.carved++;
    }
    this.busyBytes += b.size;
    return b;
  }

  private release(b: Block): void {
    if (b.large) {
      this.space.release(b.addr);
      this.largeBytes -= b.size;
      this.largeBlocks--;
      return;
    }
    this.busyBytes -= b.size;
    this.lists[b.cls]!.push(b);
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
    const need = this.need(size, b.alignLog2);
    const cls = this.classFor(need);
    if (b.large ? cls === this.classes.length && alignUp(need, PAGE) === b.size : cls === b.cls) return true;
    const m = this.allocBlock(size, b.alignLog2);
    if (!m) return false;
    this.release(b);
    this.ids.set(id, m);
    return true;
  }

  trim(pad: number): void { this.arena.trim(pad); }

  address(id: number): number { const b = this.ids.get(id)!; return userAddress(b.addr, b.alignLog2); }

  view(): Record<string, number> {
    const a = this.arena.view();
    const listBytes = this.lists.reduce((t, l) => t + l.reduce((u, b) => u + b.size, 0), 0);
    const listBlocks = this.lists.reduce((t, l) => t + l.length, 0);
    let largestList = 0;
    this.lists.forEach((l, c) => { if (l.length) largestList = this.classes[c]!; });
    return {
      busyBytes: this.busyBytes + this.largeBytes, freeBytes: listBytes + a.topBytes, freeBlocks: listBlocks + a.topBlocks,
      largestFreeBytes: Math.max(largestList, a.largestTop), segments: this.arena.segs.length,
      committedBytes: a.committed + this.largeBytes, reservedBytes: a.reserved + this.largeBytes,
      uncommittedRanges: a.uncommitted, virtualBlocks: this.largeBlocks, virtualBytes: this.largeBytes,
      'c.classes': this.classes.length, 'c.listFreeBytes': listBytes, 'c.listFreeBlocks': listBlocks,
      'c.topCommittedBytes': a.topBytes, 'c.carvedBytes': this.arena.segs.reduce((t, s) => t + s.top - s.base, 0),
      'c.reusedBlocks': this.reused, 'c.carvedBlocks': this.carved, 'c.trimmedBytes': this.arena.trimmedBytes,
      'c.abandonedTopBytes': a.abandoned, 'c.largestClassBytes': this.classes[this.classes.length - 1]!,
    };
  }
}
