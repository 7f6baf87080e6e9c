// Pointer → dense block id, for formats that name blocks by address (or by their own ids).
//
// Keys are pointers: exact integers below 2^64. Those below 2^53 (every x86-64 user address) are
// stored as they are; larger ones (tagged pointers, other architectures) arrive as bigints and get
// a negative stand-in key of their own, so no two pointers ever share an entry. 0 is NULL and never
// stored.
// The table is open addressing with linear probing over a Float64Array of keys and an Int32Array
// of values. Entries are never removed: a freed address keeps the value FREED, so a second free of
// it is recognised as a double free rather than an unmatched one. The table therefore holds one
// entry per distinct address the program ever used, which is bounded by its heap's footprint, not
// by the trace's length. Ids come from a free-id stack, so an id is reused only after its block is
// freed and the largest id stays close to the peak live block count.
import {
  NO_CALLER, SKIP_DOUBLE_FREE, SKIP_FAILED_ALLOC, SKIP_FREE_NULL, SKIP_UNMATCHED_FREE,
  SKIP_UNMATCHED_REALLOC,
} from './events.js';
import type { Ledger } from './ledger.js';
import type { TraceInt } from './numbers.js';

const EMPTY_KEY = 0;
const FREED = -1;
const INITIAL_SLOTS = 1 << 12;
/** Grow when more than half the slots are used (keeps probe chains short). */
const MAX_LOAD_NUMERATOR = 1;
const MAX_LOAD_DENOMINATOR = 2;
const TWO_POW_32 = 4294967296;
const HASH_MULTIPLIER = 0x9e3779b1; // golden-ratio constant for multiplicative hashing

class AddressTable {
  private keys = new Float64Array(INITIAL_SLOTS);
  private values = new Int32Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  size = 0;

  private slot(key: number): number {
    const lo = key >>> 0;
    const hi = (key / TWO_POW_32) | 0;
    // Addresses are 8- or 16-byte aligned: drop the always-zero low bits before mixing.
    const h = Math.imul((lo >>> 4) ^ (lo << 28) ^ hi, HASH_MULTIPLIER);
    return (h ^ (h >>> 15)) & this.mask;
  }

  /** The value stored for `key`, or undefined when the key was never stored. */
  get(key: number): number | undefined {
    const keys = this.keys;
    let i = this.slot(key);
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.values[i];
      if (k === EMPTY_KEY) return undefined;
      i = (i + 1) & this.mask;
    }
  }

  set(key: number, value: number): void {
    const keys = this.keys;
    let i = this.slot(key);
    for (;;) {
      const k = keys[i]!;
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === EMPTY_KEY) break;
      i = (i + 1) & this.mask;
    }
    keys[i] = key;
    this.values[i] = value;
    this.size++;
    if (this.size * MAX_LOAD_DENOMINATOR > keys.length * MAX_LOAD_NUMERATOR) this.rehash();
  }

  private rehash(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const n = oldKeys.length * 2;
    this.keys = new Float64Array(n);
    this.values = new Int32Array(n);
    this.mask = n - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const key = oldKeys[j]!;
      if (key === EMPTY_KEY) continue;
      let i = this.slot(key);
      while (this.keys[i] !== EMPTY_KEY) i = (i + 1) & this.mask;
      this.keys[i] = key;
      this.values[i] = oldValues[j]!;
    }
  }
}

/** Turns address-keyed allocator calls into id events on a Ledger, classifying bad frees. */
export class AddressMapper {
  private readonly table = new AddressTable();
  private freeIds = new Int32Array(INITIAL_SLOTS);
  private freeCount = 0;
  private nextId = 0;
  /** Stand-in keys (-1, -2, …) of pointers of 2^53 and above. */
  private readonly bigKeys = new Map<bigint, number>();

  constructor(private readonly ledger: Ledger) {}

  /** The table key of a pointer value. */
  private key(pointer: TraceInt): number {
    if (typeof pointer === 'number') return pointer;
    let k = this.bigKeys.get(pointer);
    if (k === undefined) {
      k = -(this.bigKeys.size + 1);
      this.bigKeys.set(pointer, k);
    }
    return k;
  }

  /** Distinct addresses remembered (live or freed). */
  get addressesSeen(): number {
    return this.table.size;
  }

  private newId(key: number): number {
    const old = this.table.get(key);
    // An address handed out while the trace still has it live: the free is missing from the trace.
    // The same id is used again, so the Ledger frees the older block first (an implicit free).
    if (old !== undefined && old !== FREED) return old;
    const id = this.freeCount > 0 ? this.freeIds[--this.freeCount]! : this.nextId++;
    this.table.set(key, id);
    return id;
  }

  private releaseId(id: number): void {
    if (this.freeCount === this.freeIds.length) {
      const bigger = new Int32Array(this.freeIds.length * 2);
      bigger.set(this.freeIds);
      this.freeIds = bigger;
    }
    this.freeIds[this.freeCount++] = id;
  }

  /**
   * malloc (and valloc, operator new…) returning `pointer`; 0 means the call failed. A size no
   * simulated architecture could serve is a failed allocation too (Ledger.fits).
   */
  alloc(pointer: TraceInt, sizeBytes: number, caller = NO_CALLER): void {
    if (pointer === 0) return this.ledger.skip(SKIP_FAILED_ALLOC);
    if (!this.ledger.fits(sizeBytes)) return this.ledger.refuse();
    this.ledger.alloc(this.newId(this.key(pointer)), sizeBytes, caller);
  }

  calloc(pointer: TraceInt, sizeBytes: number, caller = NO_CALLER): void {
    if (pointer === 0) return this.ledger.skip(SKIP_FAILED_ALLOC);
    if (!this.ledger.fits(sizeBytes)) return this.ledger.refuse();
    this.ledger.calloc(this.newId(this.key(pointer)), sizeBytes, caller);
  }

  alignedAlloc(pointer: TraceInt, sizeBytes: number, alignBytes: number, caller = NO_CALLER): void {
    if (pointer === 0) return this.ledger.skip(SKIP_FAILED_ALLOC);
    if (!this.ledger.fits(sizeBytes, alignBytes)) return this.ledger.refuse();
    this.ledger.alignedAlloc(this.newId(this.key(pointer)), sizeBytes, alignBytes, caller);
  }

  free(pointer: TraceInt): void {
    if (pointer === 0) return this.ledger.skip(SKIP_FREE_NULL);
    const key = this.key(pointer);
    const id = this.table.get(key);
    if (id === undefined) return this.ledger.skip(SKIP_UNMATCHED_FREE);
    if (id === FREED) return this.ledger.skip(SKIP_DOUBLE_FREE);
    this.ledger.free(id);
    this.table.set(key, FREED);
    this.releaseId(id);
  }

  /**
   * realloc(oldPointer, sizeBytes) returning newPointer, with C semantics: oldPointer 0 is malloc;
   * sizeBytes 0 is a free (glibc); a NULL result otherwise is a failure that keeps the old block.
   */
  realloc(oldPointer: TraceInt, newPointer: TraceInt, sizeBytes: number, caller = NO_CALLER): void {
    if (oldPointer === 0) return this.alloc(newPointer, sizeBytes, caller);
    if (sizeBytes === 0) return this.free(oldPointer);
    const oldKey = this.key(oldPointer);
    const id = this.table.get(oldKey);
    if (id === FREED) return this.ledger.skip(SKIP_DOUBLE_FREE);
    if (newPointer === 0) return this.ledger.skip(id === undefined ? SKIP_UNMATCHED_REALLOC : SKIP_FAILED_ALLOC);
    if (id === undefined) {
      // A pointer the trace never saw (it began after the allocation): the program got a block of
      // the new size at newPointer; the old block was never in the simulated heap.
      if (!this.ledger.fits(sizeBytes)) return this.ledger.refuse();
      return this.ledger.untracedRealloc(this.newId(this.key(newPointer)), sizeBytes, caller);
    }
    if (!this.ledger.fitsResize(id, sizeBytes)) return this.ledger.refuse();
    const newKey = this.key(newPointer);
    if (newKey !== oldKey) {
      const other = this.table.get(newKey);
      // newKey still live as another block: a free the trace did not show; free it first.
      if (other !== undefined && other !== FREED) {
        this.ledger.implicitFree(other);
        this.releaseId(other);
      }
      this.table.set(oldKey, FREED);
      this.table.set(newKey, id);
      // The old address is free now: its id moves to newKey and stays the block's name.
    }
    this.ledger.realloc(id, sizeBytes, caller);
  }

  /** An allocator call that happened but whose outcome the trace does not show. */
  skip(reason: number): void {
    this.ledger.skip(reason);
  }
}
