// Pointer → dense block id, for formats that name blocks by address (or by their own ids).
//
// Keys are positive integers below 2^53 (x86-64 user addresses fit; 0 is NULL and never stored).
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

  constructor(private readonly ledger: Ledger) {}

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

  /** malloc (and valloc, operator new…) returning `key`; key 0 means the call failed. */
  alloc(key: number, sizeBytes: number, caller = NO_CALLER): void {
    if (key === 0) return this.ledger.skip(SKIP_FAILED_ALLOC);
    this.ledger.alloc(this.newId(key), sizeBytes, caller);
  }

  calloc(key: number, sizeBytes: number, caller = NO_CALLER): void {
    if (key === 0) return this.ledger.skip(SKIP_FAILED_ALLOC);
    this.ledger.calloc(this.newId(key), sizeBytes, caller);
  }

  alignedAlloc(key: number, sizeBytes: number, alignBytes: number, caller = NO_CALLER): void {
    if (key === 0) return this.ledger.skip(SKIP_FAILED_ALLOC);
    this.ledger.alignedAlloc(this.newId(key), sizeBytes, alignBytes, caller);
  }

  free(key: number): void {
    if (key === 0) return this.ledger.skip(SKIP_FREE_NULL);
    const id = this.table.get(key);
    if (id === undefined) return this.ledger.skip(SKIP_UNMATCHED_FREE);
    if (id === FREED) return this.ledger.skip(SKIP_DOUBLE_FREE);
    this.ledger.free(id);
    this.table.set(key, FREED);
    this.releaseId(id);
  }

  /**
   * realloc(oldKey, sizeBytes) returning newKey, with C semantics: oldKey 0 is malloc; a NULL
   * result with sizeBytes 0 is a free (glibc); a NULL result otherwise is a failure that keeps
   * the old block.
   */
  realloc(oldKey: number, newKey: number, sizeBytes: number, caller = NO_CALLER): void {
    if (oldKey === 0) return this.alloc(newKey, sizeBytes, caller);
    if (sizeBytes === 0) return this.free(oldKey);
    const id = this.table.get(oldKey);
    if (id === FREED) return this.ledger.skip(SKIP_DOUBLE_FREE);
    if (newKey === 0) return this.ledger.skip(id === undefined ? SKIP_UNMATCHED_REALLOC : SKIP_FAILED_ALLOC);
    // A pointer the trace never saw (it began after the allocation): the program got a block of
    // the new size at newKey; the old block was never in the simulated heap.
    if (id === undefined) return this.ledger.untracedRealloc(this.newId(newKey), sizeBytes, caller);
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
