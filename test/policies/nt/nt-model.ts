// A reference model of the `nt` policy, written from docs/nt-heap.md independently of the engine
// code and kept deliberately naive: plain arrays, linear scans, no trees. The property tests run
// the same op sequence on both and compare every record of the heap and every counter.
//
// It includes its own copy of the VM's placement rule (lowest 64 KiB aligned gap of a bare address
// space), so addresses can be compared, and the LFH at the level of chunk counts (which chunk
// inside a user block is picked does not change the back end).

export interface ModelParams {
  arch: 'x86' | 'x64';
  segmentReserveBytes: number;
  segmentCommitBytes: number;
  segmentGrowthFactor: number;
  segmentReserveMaxBytes: number;
  decommitFreeBlockThreshold: number;
  decommitTotalFreeThreshold: number;
  virtualMemoryThreshold: number;
  lfh: number;
  noSerialize: number;
  virtCorrection: number;
  virtLargeUcrBytes: number;
}

export function defaultModelParams(arch: 'x86' | 'x64'): ModelParams {
  return {
    arch,
    segmentReserveBytes: 1 << 20,
    segmentCommitBytes: 8192,
    segmentGrowthFactor: 2,
    segmentReserveMaxBytes: 0,
    decommitFreeBlockThreshold: arch === 'x86' ? 4096 : 16384,
    decommitTotalFreeThreshold: 65536,
    virtualMemoryThreshold: arch === 'x86' ? 0x7f000 : 0xff000,
    lfh: 1,
    noSerialize: 0,
    virtCorrection: 1,
    virtLargeUcrBytes: 1 << 20,
  };
}

type Kind = 'header' | 'busy' | 'free' | 'ucr' | 'userBlock';
interface Block { addr: number; size: number; kind: Kind; sub?: Sub }
interface Segment { base: number; size: number; blocks: Block[] }
interface Sub { bucket: number; chunk: number; count: number; free: number; block: Block; state: 'active' | 'partial' | 'full' }
interface Bucket { on: boolean; active: Sub | null; partial: Sub[]; held: number }
type Live =
  | { kind: 'busy'; block: Block; align: number }
  | { kind: 'large'; addr: number; size: number; align: number }
  | { kind: 'chunk'; sub: Sub; align: number };

const PAGE = 4096;
const GRAN64K = 65536;
const up = (x: number, a: number): number => Math.ceil(x / a) * a;
const down = (x: number, a: number): number => Math.floor(x / a) * a;

export function bucketOf(n: number): number {
  if (n <= 256) return Math.floor((n + 7) / 8) - 1;
  if (n <= 512) return 32 + Math.floor((n - 257) / 16);
  if (n <= 1024) return 48 + Math.floor((n - 513) / 32);
  if (n <= 2048) return 64 + Math.floor((n - 1025) / 64);
  if (n <= 4096) return 80 + Math.floor((n - 2049) / 128);
  if (n <= 8192) return 96 + Math.floor((n - 4097) / 256);
  return 112 + Math.floor((n - 8193) / 512);
}

export function bucketBytes(b: number): number {
  const steps: [number, number, number][] = [[0, 0, 8], [32, 256, 16], [48, 512, 32], [64, 1024, 64], [80, 2048, 128], [96, 4096, 256], [112, 8192, 512]];
  let r = 0;
  for (const [first, base, step] of steps) if (b >= first) r = base + (b - first + 1) * step;
  return r;
}

export class NtModel {
  readonly G: number;
  readonly maxB: number;
  readonly hdr0: number;
  readonly hdrSeg: number;
  readonly vh: number;
  readonly ubHdr: number;
  readonly p: ModelParams;
  segs: Segment[] = [];
  nextReserve: number;
  vm: { base: number; size: number }[] = [];
  large: { addr: number; size: number }[] = [];
  live = new Map<number, Live>();
  lfhOn: boolean;
  lfhCreated = false;
  usage = new Map<number, number>();
  buckets: Bucket[] = Array.from({ length: 128 }, () => ({ on: false, active: null, partial: [], held: 0 }));
  decommittedBytes = 0;
  readonly userHigh: number;

  constructor(p: ModelParams, vmTaken: { base: number; size: number }[] = []) {
    this.p = p;
    const x64 = p.arch === 'x64';
    this.G = x64 ? 16 : 8;
    this.maxB = x64 ? 0xff00 * 16 : 0xfe00 * 8;
    this.hdr0 = x64 ? 0xa80 : 0x640;
    this.hdrSeg = x64 ? 0x70 : 0x40;
    this.vh = x64 ? 0x40 : 0x20;
    this.ubHdr = x64 ? 0x30 : 0x18;
    this.userHigh = x64 ? 0x7fff_ffff_0000 : 0x7fff_0000;
    this.vm = vmTaken.map((r) => ({ ...r }));
    this.nextReserve = up(p.segmentReserveBytes, GRAN64K);
    this.lfhOn = p.lfh === 1 && p.noSerialize === 0;
    if (!this.addSegment(0)) throw new Error('model: no room for the first segment');
  }

  // ---------------------------------------------------------------- VM (lowest 64 KiB aligned fit)

  private vmReserve(size: number): number {
    this.vm.sort((a, b) => a.base - b.base);
    let prevEnd = 0x10000;
    for (let i = 0; i <= this.vm.length; i++) {
      const nextBase = i < this.vm.length ? this.vm[i]!.base : this.userHigh;
      const at = up(prevEnd, GRAN64K);
      if (at + size <= nextBase) {
        this.vm.push({ base: at, size });
        return at;
      }
      if (i < this.vm.length) prevEnd = this.vm[i]!.base + this.vm[i]!.size;
    }
    return 0;
  }

  private vmRelease(base: number): void {
    this.vm = this.vm.filter((r) => r.base !== base);
  }

  // ---------------------------------------------------------------- helpers

  private allFree(): { seg: Segment; i: number; b: Block }[] {
    const out: { seg: Segment; i: number; b: Block }[] = [];
    for (const seg of this.segs) seg.blocks.forEach((b, i) => { if (b.kind === 'free') out.push({ seg, i, b }); });
    return out;
  }

  freeBytes(): number { return this.allFree().reduce((s, f) => s + f.b.size, 0); }

  private locate(b: Block): { seg: Segment; i: number } {
    for (const seg of this.segs) {
      const i = seg.blocks.indexOf(b);
      if (i >= 0) return { seg, i };
    }
    throw new Error('model: block not found');
  }

  /** Merges the free block at index i with free neighbours (as asked, within the size cap). Returns the new index. */
  private coalesce(seg: Segment, i: number, withPrev: boolean, withNext: boolean): number {
    const bl = seg.blocks;
    if (withPrev && i > 0 && bl[i - 1]!.kind === 'free' && bl[i - 1]!.size + bl[i]!.size <= this.maxB) {
      bl[i - 1]!.size += bl[i]!.size;
      bl.splice(i, 1);
      i--;
    }
    if (withNext && i + 1 < bl.length && bl[i + 1]!.kind === 'free' && bl[i]!.size + bl[i + 1]!.size <= this.maxB) {
      bl[i]!.size += bl[i + 1]!.size;
      bl.splice(i + 1, 1);
    }
    return i;
  }

  /** Inserts free pieces (each <= the cap, no sliver below 2 granules) for [addr, addr+bytes) at index i. */
  private addFreeRun(seg: Segment, i: number, addr: number, bytes: number): void {
    const pieces: Block[] = [];
    let off = 0;
    while (off < bytes) {
      let piece = bytes - off;
      if (piece > this.maxB) {
        piece = this.maxB;
        if (bytes - off - piece < 2 * this.G) piece -= 2 * this.G;
      }
      pieces.push({ addr: addr + off, size: piece, kind: 'free' });
      off += piece;
    }
    seg.blocks.splice(i, 0, ...pieces);
    const last = i + pieces.length - 1;
    if (pieces.length === 1) {
      this.coalesce(seg, i, true, true);
    } else {
      const j = this.coalesce(seg, last, false, true);
      void j;
      this.coalesce(seg, i, true, false);
    }
  }

  private addSegment(need: number): boolean {
    const first = this.segs.length === 0;
    const hdr = first ? this.hdr0 : this.hdrSeg;
    const minRes = up(need + PAGE, GRAN64K);
    let reserve = Math.max(this.nextReserve, minRes);
    let base = this.vmReserve(reserve);
    while (!base && reserve > minRes) {
      reserve = Math.max(minRes, up(Math.floor(reserve / 2), GRAN64K));
      base = this.vmReserve(reserve);
    }
    if (!base) return false;
    const commit = Math.min(reserve, up(Math.max(need + PAGE, this.p.segmentCommitBytes), PAGE));
    const seg: Segment = { base, size: reserve, blocks: [{ addr: base, size: hdr, kind: 'header' }] };
    if (commit < reserve) seg.blocks.push({ addr: base + commit, size: reserve - commit, kind: 'ucr' });
    this.segs.push(seg);
    this.addFreeRun(seg, 1, base + hdr, commit - hdr);
    let next = this.nextReserve + (this.p.segmentGrowthFactor - 1) * reserve;
    if (this.p.segmentReserveMaxBytes && next > this.p.segmentReserveMaxBytes) next = this.p.segmentReserveMaxBytes;
    this.nextReserve = up(next, GRAN64K);
    return true;
  }

  private extend(need: number): boolean {
    const want = up(need, PAGE);
    for (const seg of this.segs) {
      const i = seg.blocks.findIndex((b) => b.kind === 'ucr' && b.size >= want);
      if (i < 0) continue;
      const u = seg.blocks[i]!;
      const c = Math.min(want, u.size);
      const at = u.addr;
      if (c === u.size) seg.blocks.splice(i, 1);
      else { u.addr += c; u.size -= c; }
      this.addFreeRun(seg, i, at, c);
      return true;
    }
    return this.addSegment(need);
  }

  private bestFit(need: number): { seg: Segment; i: number; b: Block } | undefined {
    let best: { seg: Segment; i: number; b: Block } | undefined;
    for (const f of this.allFree()) {
      if (f.b.size < need) continue;
      if (!best || f.b.size < best.b.size || (f.b.size === best.b.size && f.b.addr < best.b.addr)) best = f;
    }
    return best;
  }

  private backAlloc(need: number, kind: Kind): Block | null {
    let f = this.bestFit(need);
    if (!f) {
      if (!this.extend(need)) return null;
      f = this.bestFit(need);
      if (!f) return null;
    }
    const { seg, i, b } = f;
    if (b.size - need >= 2 * this.G) {
      seg.blocks.splice(i + 1, 0, { addr: b.addr + need, size: b.size - need, kind: 'free' });
      b.size = need;
      this.coalesce(seg, i + 1, false, true);
    }
    b.kind = kind;
    return b;
  }

  /** The decommit of the free block at index i (whole pages, 1-granule rule, UCR merge). Returns [bytes, resume index]. */
  private decommit(seg: Segment, i: number): [number, number] {
    const b = seg.blocks[i]!;
    const a = b.addr, e = b.addr + b.size;
    let ps = up(a, PAGE), pe = down(e, PAGE);
    if (ps - a === this.G) ps += PAGE;
    if (pe > ps && e - pe === this.G) pe -= PAGE;
    if (pe <= ps) return [0, i + 1];
    const pieces: Block[] = [];
    if (ps > a) pieces.push({ addr: a, size: ps - a, kind: 'free' });
    pieces.push({ addr: ps, size: pe - ps, kind: 'ucr' });
    if (pe < e) pieces.push({ addr: pe, size: e - pe, kind: 'free' });
    seg.blocks.splice(i, 1, ...pieces);
    let u = i + (ps > a ? 1 : 0);
    // merge the UCR with UCR neighbours
    if (u > 0 && seg.blocks[u - 1]!.kind === 'ucr') {
      seg.blocks[u - 1]!.size += seg.blocks[u]!.size;
      seg.blocks.splice(u, 1);
      u--;
    }
    if (u + 1 < seg.blocks.length && seg.blocks[u + 1]!.kind === 'ucr') {
      seg.blocks[u]!.size += seg.blocks[u + 1]!.size;
      seg.blocks.splice(u + 1, 1);
    }
    if (ps > a) {
      const merged = this.coalesce(seg, u - 1, true, false);
      u -= (u - 1) - merged;
    }
    let resume = u + 1;
    if (pe < e) resume = this.coalesce(seg, u + 1, false, true);
    this.decommittedBytes += pe - ps;
    return [pe - ps, resume];
  }

  private backFree(b: Block): void {
    const { seg, i } = this.locate(b);
    b.kind = 'free';
    const n = this.coalesce(seg, i, true, true);
    const s = seg.blocks[n]!.size;
    const others = this.freeBytes() - s;
    if (s >= this.p.decommitFreeBlockThreshold && others + s >= this.p.decommitTotalFreeThreshold) this.decommit(seg, n);
  }

  // ---------------------------------------------------------------- LFH (chunk counts)

  private usageLen(): number { return 16384 / this.G + 3; }

  private noteAlloc(units: number, b: number): void {
    if (units >= this.usageLen()) return;
    const c = Math.min(0xffff, (this.usage.get(units) ?? 0) + 0x21);
    this.usage.set(units, c);
    if ((c & 0x1f) > 0x10 || c > 0xff00) {
      if (!this.lfhCreated) this.lfhCreated = true;
      else this.buckets[b]!.on = true;
    }
  }

  private noteFree(units: number): void {
    if (units >= this.usageLen()) return;
    const c = this.usage.get(units) ?? 0;
    if (c & 0x1f) this.usage.set(units, c - 1);
  }

  private lfhAlloc(b: number): Sub | null {
    const bk = this.buckets[b]!;
    let s = bk.active;
    if (!s || s.free === 0) {
      if (s) s.state = 'full';
      if (bk.partial.length) {
        s = bk.partial.shift()!;
      } else {
        const chunk = up(bucketBytes(b) + this.G, this.G);
        let bytes = 1024;
        while (bytes < this.ubHdr + chunk * 8) bytes *= 2;
        for (let i = 0; i < bk.held && bytes < 0x78000; i++) bytes *= 2;
        bytes = Math.min(bytes, 0x78000);
        const block = this.backAlloc(bytes, 'userBlock');
        if (!block) { bk.active = null; return null; }
        const count = Math.floor((bytes - this.ubHdr) / chunk);
        s = { bucket: b, chunk, count, free: count, block, state: 'active' };
        block.sub = s;
        bk.held++;
      }
      bk.active = s;
      s.state = 'active';
    }
    s.free--;
    return s;
  }

  private lfhFree(s: Sub): void {
    const bk = this.buckets[s.bucket]!;
    s.free++;
    if (s.free === s.count) {
      if (s.state === 'active') bk.active = null;
      else if (s.state === 'partial') bk.partial.splice(bk.partial.indexOf(s), 1);
      bk.held--;
      this.backFree(s.block);
    } else if (s.state === 'full') {
      s.state = 'partial';
      bk.partial.unshift(s);
    }
  }

  // ---------------------------------------------------------------- the policy surface

  private request(size: number, alignLog2: number): number {
    let req = Math.max(size, 1);
    if (alignLog2 > Math.log2(this.G)) req += 2 ** alignLog2 - this.G;
    return req;
  }

  private allocHandle(size: number, alignLog2: number): Live | null {
    const align = alignLog2 > Math.log2(this.G) ? alignLog2 : 0;
    const req = this.request(size, alignLog2);
    const units = Math.floor((req + 2 * this.G - 1) / this.G);
    const need = units * this.G;
    if (need > this.p.virtualMemoryThreshold) {
      const bytes = up(req + this.vh, PAGE);
      const addr = this.vmReserve(bytes);
      if (!addr) return null;
      this.large.push({ addr, size: bytes });
      return { kind: 'large', addr, size: bytes, align };
    }
    let bucket = -1;
    if (this.lfhOn && req <= 16384) {
      const b = bucketOf(req);
      if (this.buckets[b]!.on) {
        const s = this.lfhAlloc(b);
        return s ? { kind: 'chunk', sub: s, align } : null;
      }
      bucket = b;
    }
    const block = this.backAlloc(need, 'busy');
    if (!block) return null;
    if (bucket >= 0) this.noteAlloc(units, bucket);
    return { kind: 'busy', block, align };
  }

  private freeHandle(h: Live): void {
    if (h.kind === 'chunk') { this.lfhFree(h.sub); return; }
    if (h.kind === 'large') {
      this.vmRelease(h.addr);
      this.large = this.large.filter((l) => l.addr !== h.addr);
      return;
    }
    if (this.lfhOn) this.noteFree(h.block.size / this.G);
    this.backFree(h.block);
  }

  alloc(id: number, size: number, alignLog2 = 0): boolean {
    if (this.live.has(id)) return false;
    const h = this.allocHandle(size, alignLog2);
    if (!h) return false;
    this.live.set(id, h);
    return true;
  }

  free(id: number): boolean {
    const h = this.live.get(id);
    if (!h) return false;
    this.freeHandle(h);
    this.live.delete(id);
    return true;
  }

  realloc(id: number, size: number): boolean {
    const h = this.live.get(id);
    if (!h) return false;
    const req = this.request(size, h.align);
    const need = Math.floor((req + 2 * this.G - 1) / this.G) * this.G;
    if (h.kind === 'chunk') {
      if (this.lfhOn && req <= 16384 && bucketOf(req) === h.sub.bucket) return true;
    } else if (h.kind === 'large') {
      if (need > this.p.virtualMemoryThreshold && up(req + this.vh, PAGE) === h.size) return true;
    } else if (need <= this.p.virtualMemoryThreshold) {
      const b = h.block;
      const have = b.size;
      if (need <= have) {
        if (have - need >= 2 * this.G) {
          const { seg, i } = this.locate(b);
          const tail: Block = { addr: b.addr + need, size: have - need, kind: 'busy' };
          seg.blocks.splice(i + 1, 0, tail);
          b.size = need;
          this.backFree(tail);
        }
        return true;
      }
      const { seg, i } = this.locate(b);
      const q = seg.blocks[i + 1];
      if (q && q.kind === 'free' && have + q.size >= need) {
        const extra = need - have;
        if (q.size - extra >= 2 * this.G) {
          q.addr += extra;
          q.size -= extra;
          b.size = need;
          this.coalesce(seg, i + 1, false, true);
        } else {
          b.size += q.size;
          seg.blocks.splice(i + 1, 1);
        }
        return true;
      }
    }
    const moved = this.allocHandle(size, h.align);
    if (!moved) return false;
    this.freeHandle(h);
    this.live.set(id, moved);
    return true;
  }

  trim(pad: number): number {
    let total = 0;
    for (const seg of this.segs) {
      let i = 0;
      while (i < seg.blocks.length) {
        const b = seg.blocks[i]!;
        if (b.kind === 'free' && b.size > pad) {
          const [d, resume] = this.decommit(seg, i);
          total += d;
          i = d ? resume : i + 1;
        } else {
          i++;
        }
      }
    }
    return total;
  }

  // ---------------------------------------------------------------- views

  records(): { address: number; bytes: number; kind: string }[] {
    const out: { address: number; bytes: number; kind: string }[] = [];
    for (const seg of this.segs) for (const b of seg.blocks) out.push({ address: b.addr, bytes: b.size, kind: b.kind });
    return out;
  }

  largeBlocks(): { address: number; bytes: number }[] {
    return this.large.map((l) => ({ address: l.addr, bytes: l.size })).sort((a, b) => a.address - b.address);
  }

  counters(): Record<string, number> {
    let reserved = 0, ucrBytes = 0, ucrs = 0, busy = 0, free = 0, freeBlocks = 0, whole = 0, largestUcrs = 0, largeUcr = 0;
    let userBlocks = 0, userBlockBytes = 0, freeChunkBytes = 0, liveChunkBytes = 0;
    for (const seg of this.segs) {
      reserved += seg.size;
      let segLargest = 0;
      for (const b of seg.blocks) {
        if (b.kind === 'ucr') {
          ucrs++; ucrBytes += b.size; segLargest = Math.max(segLargest, b.size);
          if (b.size >= this.p.virtLargeUcrBytes) largeUcr += b.size;
        } else if (b.kind === 'free') {
          free += b.size; freeBlocks++;
          const ps = up(b.addr, PAGE), pe = down(b.addr + b.size, PAGE);
          whole += Math.max(0, pe - ps);
        } else {
          busy += b.size;
          if (b.kind === 'userBlock') {
            userBlocks++; userBlockBytes += b.size;
            freeChunkBytes += b.sub!.free * b.sub!.chunk;
            liveChunkBytes += (b.sub!.count - b.sub!.free) * b.sub!.chunk;
          }
        }
      }
      largestUcrs += segLargest;
    }
    const largeBytes = this.large.reduce((s, l) => s + l.size, 0);
    const virt = this.p.virtCorrection === 0 ? reserved : this.p.virtCorrection === 1 ? reserved - largestUcrs : reserved - largeUcr;
    return {
      segmentReservedBytes: reserved,
      segmentCommittedBytes: reserved - ucrBytes,
      virtBytes: virt,
      uncommittedRanges: ucrs,
      busyBytes: busy - userBlockBytes + liveChunkBytes + largeBytes,
      freeBytes: free,
      freeBlocks,
      freeWholePageBytes: whole,
      segments: this.segs.length,
      virtualBlocks: this.large.length,
      virtualBytes: largeBytes,
      lfhUserBlocks: userBlocks,
      lfhUserBlockBytes: userBlockBytes,
      lfhFreeChunkBytes: freeChunkBytes,
      lfhLiveChunkBytes: liveChunkBytes,
      decommittedBytes: this.decommittedBytes,
      frontEndHeapType: this.lfhCreated ? 2 : 0,
      liveBlocks: this.live.size,
    };
  }
}
