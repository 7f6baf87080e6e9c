// Reference model of the tlsf policy: the rules of docs/textbook-policies.md ("tlsf"), written for
// reading, not speed. Blocks are objects in a physical list; each free list is an array whose
// last element is its head (LIFO). Offsets count from mem, the start of the memory given to
// tlsf_create_with_pool.

export const CONTROL_BYTES = 6536;   // sizeof(control_t), 64-bit
const OVERHEAD = 8;                  // the size word
const HEADER = 32;                   // sizeof(block_header_t)
const SIZE_MIN = 24;
const SIZE_MAX = 2 ** 32;
const SL_LOG2 = 5;
const FL_COUNT = 25;
const PAGE = 4096;

export interface ModelBlock {
  /** Offset of the size word from mem. */
  at: number;
  size: number;
  free: boolean;
  prev?: ModelBlock;
  next?: ModelBlock;
}

const fls = (x: number): number => Math.floor(Math.log2(x));
const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

function listOf(size: number): number {
  if (size < 256) return size / 8;
  const f = fls(size);
  return (f - 7) * 32 + (Math.floor(size / 2 ** (f - SL_LOG2)) - 32);
}

export class TlsfModel {
  readonly memBytes: number;
  readonly poolBytes: number;
  readonly lists = new Map<number, ModelBlock[]>();
  first: ModelBlock;
  usedBytes = 0;
  highWater = 0;
  /** Pages [0, frontier) and [tailPage, memBytes) are committed. */
  frontier: number;
  readonly tailPage: number;

  constructor(memBytes: number) {
    this.memBytes = memBytes;
    this.poolBytes = Math.floor((memBytes - CONTROL_BYTES - 2 * OVERHEAD) / 8) * 8;
    const sentinel: ModelBlock = { at: CONTROL_BYTES + OVERHEAD + this.poolBytes, size: 0, free: false };
    this.first = { at: CONTROL_BYTES, size: this.poolBytes, free: true, next: sentinel };
    sentinel.prev = this.first;
    this.tailPage = Math.floor((sentinel.at - OVERHEAD) / PAGE) * PAGE;
    this.frontier = Math.min(alignUp(CONTROL_BYTES + OVERHEAD, PAGE), this.tailPage);
    this.insert(this.first);
  }

  private insert(b: ModelBlock): void {
    const k = listOf(b.size);
    const l = this.lists.get(k) ?? [];
    l.push(b);
    this.lists.set(k, l);
  }

  private remove(b: ModelBlock): void {
    const l = this.lists.get(listOf(b.size))!;
    l.splice(l.indexOf(b), 1);
  }

  /** The first non-empty list at or above the request rounded up to its list boundary. */
  private search(size: number): ModelBlock | undefined {
    if (size >= 256) size += 2 ** (fls(size) - SL_LOG2) - 1;
    if (size >= SIZE_MAX) return undefined;
    const from = listOf(size);
    let best = Infinity;
    for (const [k, l] of this.lists) if (k >= from && l.length && k < best) best = k;
    if (best === Infinity || best >= FL_COUNT * 32) return undefined;
    const l = this.lists.get(best)!;
    return l.pop();
  }

  private adjust(size: number, align = 8): number {
    if (!size) return 0;
    const a = alignUp(size, align);
    return a >= SIZE_MAX ? 0 : Math.max(a, SIZE_MIN);
  }

  /** Cuts b to `size`; the rest becomes a free block behind it (not yet on a list). */
  private split(b: ModelBlock, size: number): ModelBlock {
    const r: ModelBlock = { at: b.at + OVERHEAD + size, size: b.size - size - OVERHEAD, free: true, prev: b, next: b.next };
    b.next!.prev = r;
    b.next = r;
    b.size = size;
    this.write8(r.at);
    return r;
  }

  private absorb(a: ModelBlock, b: ModelBlock): void {
    a.size += b.size + OVERHEAD;
    a.next = b.next;
    b.next!.prev = a;
  }

  /** Commits the pages below `end` (the pool's last page is committed from the start). */
  private reach(end: number): void {
    this.frontier = Math.max(this.frontier, Math.min(alignUp(end, PAGE), this.tailPage));
  }

  /** TLSF writes the 8 bytes at `at` (a size word or a back link). */
  private write8(at: number): void {
    if (at < this.tailPage) this.reach(at + OVERHEAD);
  }

  private use(b: ModelBlock | undefined, size: number): ModelBlock | undefined {
    if (!b) return undefined;
    if (b.size >= HEADER + size) this.insert(this.split(b, size));
    b.free = false;
    this.usedBytes += b.size;
    this.handedOut(b);
    return b;
  }

  private handedOut(b: ModelBlock): void {
    const end = b.at + OVERHEAD + b.size;
    this.reach(end);
    this.write8(end);   // the next block's size word is written too
    this.highWater = Math.max(this.highWater, end);
  }

  malloc(size: number): ModelBlock | undefined {
    const adj = this.adjust(size);
    return adj ? this.use(this.search(adj), adj) : undefined;
  }

  memalign(align: number, size: number): ModelBlock | undefined {
    const adj = this.adjust(size);
    if (!adj) return undefined;
    const want = align > 8 ? this.adjust(adj + align + HEADER, align) : adj;
    if (!want) return undefined;
    let b = this.search(want);
    if (b) {
      const ptr = b.at + OVERHEAD;
      let aligned = alignUp(ptr, align);
      let gap = aligned - ptr;
      if (gap && gap < HEADER) {
        aligned = alignUp(aligned + Math.max(HEADER - gap, align), align);
        gap = aligned - ptr;
      }
      if (gap && b.size >= HEADER + gap) {
        const r = this.split(b, gap - OVERHEAD);
        this.insert(b);
        b = r;
      }
    }
    return this.use(b, adj);
  }

  free(b: ModelBlock): void {
    this.usedBytes -= b.size;
    b.free = true;
    if (b.prev?.free) {
      const p = b.prev;
      this.remove(p);
      this.absorb(p, b);
      b = p;
    }
    if (b.next!.free) {
      this.remove(b.next!);
      this.absorb(b, b.next!);
    }
    this.insert(b);
  }

  /** The (possibly new) block, or undefined with b kept. Size 0 keeps a smallest block. */
  realloc(b: ModelBlock, size: number): ModelBlock | undefined {
    if (size >= SIZE_MAX) return undefined;
    const adj = size ? this.adjust(size) : SIZE_MIN;
    const next = b.next!;
    if (adj > b.size && (!next.free || adj > b.size + next.size + OVERHEAD)) {
      const m = this.malloc(size || 1);
      if (m) this.free(b);
      return m;
    }
    this.usedBytes -= b.size;
    if (adj > b.size) {
      this.remove(next);
      this.absorb(b, next);
    }
    if (b.size >= HEADER + adj) {
      let r = this.split(b, adj);
      if (r.next!.free) {
        this.remove(r.next!);
        this.absorb(r, r.next!);
      }
      this.insert(r);
    }
    this.usedBytes += b.size;
    this.handedOut(b);
    return b;
  }

  /** Every free block, in address order. */
  freeBlocks(): ModelBlock[] {
    const out: ModelBlock[] = [];
    for (let b: ModelBlock | undefined = this.first; b && b.size; b = b.next) if (b.free) out.push(b);
    return out;
  }

  committedBytes(): number {
    return Math.min(this.frontier, this.tailPage) + (this.memBytes - this.tailPage);
  }
}
