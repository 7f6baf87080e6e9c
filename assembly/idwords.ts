// === Id -> u64 side table ===
//
// For the rare per-id values that do not fit a fixed field of a per-id record: requested sizes of
// 2^32 - 1 bytes and more (ids.ts), birth events from 2^32 - 1 on (trace/ledger.ts). The record
// holds a marker and the exact value lives here, keyed by id. Open addressing with linear probing;
// slot: u32 key (id + 1; 0 = empty), u32 pad, u64 value. Deletion shifts later entries back, so
// there are no tombstones and probes stay short. A module keeps its table in static memory:
// `changetype<IdWords>(memory.data(offsetof<IdWords>()))` (zeroed: empty, no memory until the first value).

const SLOT_BYTES: usize = 16;
const INITIAL_SLOTS: u32 = 64;

@unmanaged
export class IdWords {
  table: usize;
  cap: u32;     // slots, a power of two (0: none yet)
  count: u32;

  /** The value of `id`, 0 when it has none. */
  get(id: u32): u64 {
    const i = this.find(id);
    return i < 0 ? 0 : load<u64>(this.slot(<u32>i), 8);
  }

  /** Sets the value of `id`. */
  set(id: u32, value: u64): void {
    const found = this.find(id);
    if (found >= 0) { store<u64>(this.slot(<u32>found), value, 8); return; }
    if ((this.count + 1) * 2 > this.cap) this.grow();
    let i = this.home(id);
    while (load<u32>(this.slot(i))) i = (i + 1) & (this.cap - 1);
    store<u32>(this.slot(i), id + 1);
    store<u64>(this.slot(i), value, 8);
    this.count++;
  }

  /** Forgets the value of `id` (if any). */
  delete(id: u32): void {
    const found = this.find(id);
    if (found < 0) return;
    const mask = this.cap - 1;
    let hole = <u32>found;
    let i = (hole + 1) & mask;
    // Backward-shift deletion: move later entries of the probe run into the hole when their home
    // is not between the hole and their slot.
    for (;;) {
      const k = load<u32>(this.slot(i));
      if (!k) break;
      const home = this.home(k - 1);
      const between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!between) {
        store<u32>(this.slot(hole), k);
        store<u64>(this.slot(hole), load<u64>(this.slot(i), 8), 8);
        hole = i;
      }
      i = (i + 1) & mask;
    }
    store<u32>(this.slot(hole), 0);
    store<u64>(this.slot(hole), 0, 8);
    this.count--;
  }

  /** Forgets every value and gives the table's memory back. */
  clear(): void {
    if (this.table) heap.free(this.table);
    this.table = 0;
    this.cap = 0;
    this.count = 0;
  }

  /** Bytes of the table. */
  bytes(): usize { return <usize>this.cap * SLOT_BYTES; }

  // @ts-ignore: decorator
  @inline private home(id: u32): u32 { return (id * 0x9E3779B1) & (this.cap - 1); }
  // @ts-ignore: decorator
  @inline private slot(i: u32): usize { return this.table + <usize>i * SLOT_BYTES; }

  private find(id: u32): i64 {
    if (!this.cap) return -1;
    let i = this.home(id);
    let k = load<u32>(this.slot(i));
    while (k != 0 && k != id + 1) {
      i = (i + 1) & (this.cap - 1);
      k = load<u32>(this.slot(i));
    }
    return k == 0 ? -1 : <i64>i;
  }

  private grow(): void {
    const oldTable = this.table;
    const oldCap = this.cap;
    this.cap = oldCap ? oldCap << 1 : INITIAL_SLOTS;
    this.table = heap.alloc(<usize>this.cap * SLOT_BYTES);
    memory.fill(this.table, 0, <usize>this.cap * SLOT_BYTES);
    for (let j: u32 = 0; j < oldCap; j++) {
      const s = oldTable + <usize>j * SLOT_BYTES;
      const k = load<u32>(s);
      if (!k) continue;
      let i = this.home(k - 1);
      while (load<u32>(this.slot(i))) i = (i + 1) & (this.cap - 1);
      store<u32>(this.slot(i), k);
      store<u64>(this.slot(i), load<u64>(s, 8), 8);
    }
    if (oldTable) heap.free(oldTable);
  }
}
