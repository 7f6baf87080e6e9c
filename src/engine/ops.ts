// OpBuffer: a batch of fixed-size op records (layout in assembly/abi.ts), built on the host and
// copied into the engine in one call. Independent of any engine, so it can be built in one thread
// and transferred to a worker (`buffer.words.buffer` is transferable).
import { FREE_IMPLICIT, Op, OP_WORDS } from './abi.js';

const SIZE_SPLIT = 0x1_0000_0000;
export const DEFAULT_BATCH_OPS = 4096;

/** An integer power of two (1, 2, 4, ...), exactly: Math.log2 rounds, so an integer log2 alone would
 * take 2^53 - 1 and 2^52 + 1 for powers of two. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && 2 ** Math.round(Math.log2(n)) === n;
}

export class OpBuffer {
  readonly words: Uint32Array;
  readonly capacity: number;
  length = 0;

  constructor(capacityOps: number = DEFAULT_BATCH_OPS, words?: Uint32Array) {
    this.capacity = capacityOps;
    this.words = words ?? new Uint32Array(capacityOps * OP_WORDS);
    if (this.words.length < capacityOps * OP_WORDS) throw new RangeError('OpBuffer: words too short');
  }

  get full(): boolean { return this.length >= this.capacity; }

  clear(): void { this.length = 0; }

  /** Appends one raw record. Sizes are integer bytes below 2^53. */
  push(opcode: number, heap: number, arg: number, id: number, size: number): void {
    if (this.length >= this.capacity) throw new RangeError('OpBuffer is full');
    const w = this.words;
    const i = this.length * OP_WORDS;
    w[i] = (opcode & 0xff) | ((heap & 0xff) << 8) | ((arg & 0xffff) << 16);
    w[i + 1] = id >>> 0;
    w[i + 2] = size % SIZE_SPLIT;
    w[i + 3] = Math.floor(size / SIZE_SPLIT);
    this.length++;
  }

  alloc(heap: number, id: number, sizeBytes: number): void { this.push(Op.ALLOC, heap, 0, id, sizeBytes); }
  calloc(heap: number, id: number, sizeBytes: number): void { this.push(Op.CALLOC, heap, 0, id, sizeBytes); }
  alignedAlloc(heap: number, id: number, sizeBytes: number, alignBytes: number): void {
    if (!isPowerOfTwo(alignBytes)) throw new RangeError(`alignment ${alignBytes} is not a power of two`);
    this.push(Op.ALIGNED_ALLOC, heap, Math.log2(alignBytes), id, sizeBytes);
  }
  realloc(heap: number, id: number, sizeBytes: number): void { this.push(Op.REALLOC, heap, 0, id, sizeBytes); }
  free(heap: number, id: number): void { this.push(Op.FREE, heap, 0, id, 0); }
  /** A free that is not an event: a trace's allocator handed the block's address out again. */
  implicitFree(heap: number, id: number): void { this.push(Op.FREE, heap, FREE_IMPLICIT, id, 0); }
  mark(labelIndex: number): void { this.push(Op.MARK, 0, labelIndex, 0, 0); }
  tick(delta: number): void { this.push(Op.TICK, 0, 0, 0, delta); }
  trim(heap: number, padBytes = 0): void { this.push(Op.TRIM, heap, 0, 0, padBytes); }
  skip(events: number): void { this.push(Op.SKIP, 0, 0, 0, events); }
  touch(heap: number, id: number, sizeBytes: number): void { this.push(Op.TOUCH, heap, 0, id, sizeBytes); }
  /** The following ops run on thread `threadId` (any id below 2^53; the engine maps ids to slots). */
  thread(threadId: number): void { this.push(Op.THREAD, 0, 0, 0, threadId); }
  /** Thread `threadId` has exited: the heaps let go of what they kept for it (thread caches, arenas). */
  threadEnd(threadId: number): void { this.push(Op.THREAD_END, 0, 0, 0, threadId); }
  heapCreate(heap: number, policyId: number, parent: number, firstParam: number, paramCount: number): void {
    this.push(Op.HEAP_CREATE, heap, policyId, parent + 1, firstParam + paramCount * SIZE_SPLIT);
  }
  heapDestroy(heap: number): void { this.push(Op.HEAP_DESTROY, heap, 0, 0, 0); }
}
