// A plain TypeScript reference model of the `pool` policy (assembly/policies/pool.ts), written from
// its rules, not its code: power-of-two classes, lazy carving from the newest chunk, LIFO lists,
// pass-through above maxObjectBytes or for alignment above 8, what-if release of empty chunks.
// The property tests compare the engine's counters with the model's after every batch.

export const PAGE_BYTES = 4096;
const GRANULARITY_BYTES = 65536;
const POOL_ALIGN_LOG2 = 3;

export interface PoolConfig {
  minObjectBytes: number;
  maxObjectBytes: number;
  chunkBytes: number;
  releaseEmptyChunks: boolean;
  /** true when the pool takes its chunks from a parent heap instead of the VM. */
  stacked: boolean;
}

export const DEFAULT_POOL: PoolConfig = {
  minObjectBytes: 16, maxObjectBytes: 4096, chunkBytes: 65536, releaseEmptyChunks: false, stacked: false,
};

export interface MChunk { seq: number; cls: number; slots: number; carved: number; live: number }
interface FreeEntry { chunk: MChunk; slot: number }
export interface MObject { kind: 'object'; chunk: MChunk; slot: number; cls: number; size: number }
export interface MPass { kind: 'pass'; size: number; held: number; reserved: number; alignLog2: number }
export type MBlock = MObject | MPass;

interface MClass { free: FreeEntry[]; current: MChunk | null; chunks: number; busy: number }

const pageUp = (n: number): number => Math.ceil(Math.max(n, 1) / PAGE_BYTES) * PAGE_BYTES;

export class PoolModel {
  readonly classes: MClass[];
  readonly chunks = new Set<MChunk>();
  readonly live = new Map<number, MBlock>();
  private seq = 0;
  peakChunks = 0;
  released = 0;
  reused = 0;
  carvedTotal = 0;
  trims = 0;
  requested = 0;
  peakRequested = 0;
  allocs = 0;
  frees = 0;

  constructor(readonly cfg: PoolConfig) {
    const n = Math.log2(cfg.maxObjectBytes) - Math.log2(cfg.minObjectBytes) + 1;
    this.classes = Array.from({ length: n }, () => ({ free: [], current: null, chunks: 0, busy: 0 }));
  }

  classBytes(c: number): number { return this.cfg.minObjectBytes * 2 ** c; }

  classFor(size: number, alignLog2: number): number {
    if (alignLog2 > POOL_ALIGN_LOG2 || size > this.cfg.maxObjectBytes) return -1;
    let bytes = this.cfg.minObjectBytes, c = 0;
    while (bytes < size) { bytes *= 2; c++; }
    return c;
  }

  private newBlock(size: number, alignLog2: number): MBlock {
    const c = this.classFor(size, alignLog2);
    if (c < 0) {
      if (this.cfg.stacked) return { kind: 'pass', size, held: size, reserved: size, alignLog2 };
      const held = pageUp(size);
      const slack = alignLog2 > 16 ? 2 ** alignLog2 - GRANULARITY_BYTES : 0;
      return { kind: 'pass', size, held, reserved: held + slack, alignLog2 };
    }
    const k = this.classes[c]!;
    const top = k.free.pop();
    if (top) {
      this.reused++;
      top.chunk.live++;
      k.busy++;
      return { kind: 'object', chunk: top.chunk, slot: top.slot, cls: c, size };
    }
    const slots = this.cfg.chunkBytes / this.classBytes(c);
    if (!k.current || k.current.carved === slots) {
      k.current = { seq: ++this.seq, cls: c, slots, carved: 0, live: 0 };
      this.chunks.add(k.current);
      k.chunks++;
      this.peakChunks = Math.max(this.peakChunks, this.chunks.size);
    }
    const chunk = k.current;
    const slot = chunk.carved++;
    this.carvedTotal++;
    chunk.live++;
    k.busy++;
    return { kind: 'object', chunk, slot, cls: c, size };
  }

  private dropBlock(b: MBlock): void {
    if (b.kind === 'pass') return;
    const k = this.classes[b.cls]!;
    k.free.push({ chunk: b.chunk, slot: b.slot });
    k.busy--;
    b.chunk.live--;
    if (this.cfg.releaseEmptyChunks && b.chunk.live === 0) {
      const gone = b.chunk;
      k.free = k.free.filter((e) => e.chunk !== gone);
      if (k.current === gone) k.current = null;
      this.chunks.delete(gone);
      k.chunks--;
      this.released++;
    }
  }

  private notePeak(): void { this.peakRequested = Math.max(this.peakRequested, this.requested); }

  alloc(id: number, size: number, alignLog2 = 0): void {
    this.live.set(id, this.newBlock(size, alignLog2));
    this.requested += size;
    this.allocs++;
    this.notePeak();
  }

  free(id: number): void {
    const b = this.live.get(id)!;
    this.live.delete(id);
    this.dropBlock(b);
    this.requested -= b.size;
    this.frees++;
  }

  realloc(id: number, size: number): void {
    const b = this.live.get(id)!;
    this.requested += size - b.size;
    this.allocs++;
    const alignLog2 = b.kind === 'pass' ? b.alignLog2 : 0;
    const c = this.classFor(size, alignLog2);
    if (b.kind === 'object' && c === b.cls) {
      b.size = size;
    } else if (b.kind === 'pass' && c < 0 && (this.cfg.stacked || pageUp(size) <= b.held)) {
      // Stays a pass-through block: the parent's realloc, or a shrink in place on the VM.
      b.size = size;
      b.held = this.cfg.stacked ? size : pageUp(size);
      if (this.cfg.stacked) b.reserved = size;
    } else {
      const nb = this.newBlock(size, alignLog2); // the new block first, then the old one goes
      this.dropBlock(b);
      this.live.set(id, nb);
    }
    this.notePeak();
  }

  // ---- expected counters

  get passBlocks(): number { return [...this.live.values()].filter((b) => b.kind === 'pass').length; }
  get passBytes(): number {
    let t = 0;
    for (const b of this.live.values()) if (b.kind === 'pass') t += b.held;
    return t;
  }
  get passReserved(): number {
    let t = 0;
    for (const b of this.live.values()) if (b.kind === 'pass') t += b.reserved;
    return t;
  }
  get busyObjects(): number { return this.classes.reduce((t, k) => t + k.busy, 0); }
  get objectBusyBytes(): number { return this.classes.reduce((t, k, c) => t + k.busy * this.classBytes(c), 0); }
  get freeObjects(): number { return this.classes.reduce((t, k) => t + k.free.length, 0); }
  get freeObjectBytes(): number { return this.classes.reduce((t, k, c) => t + k.free.length * this.classBytes(c), 0); }
  get uncarvedBytes(): number {
    return this.classes.reduce((t, k, c) => t + (k.current ? (k.current.slots - k.current.carved) * this.classBytes(c) : 0), 0);
  }
  get tails(): number { return this.classes.filter((k) => k.current && k.current.carved < k.current.slots).length; }
  get chunkBytes(): number { return this.chunks.size * this.cfg.chunkBytes; }
  /** Bytes held from the layer below (committed). */
  get heldBytes(): number { return this.chunkBytes + this.passBytes; }
}
