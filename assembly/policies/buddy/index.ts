// buddy: the binary buddy system, Knuth's Algorithms R and S (rules in buddy.ts). Registered by
// one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import { batchOf } from "../../engine";
import {
  buddyCreate, buddyAlloc, buddyFree, buddyRealloc, buddyTrim, buddyDestroy, buddyUserAddress, buddySample,
  buddyCheck, buddyEngineBytes, buddyRecordBytes,
  buddyAllocInline, buddyFreeInline,
} from "./buddy";

// The per-op calls of the engine's batch loop made for buddy (kit/policy.ts `batch`, heaps.ts Dispatch).
class BuddyOps {
  // @ts-ignore: decorator
  @inline alloc(h: i32, size: u64, alignLog2: u32): u32 { return buddyAllocInline(h, size, alignLog2); }
  // @ts-ignore: decorator
  @inline calloc(h: i32, size: u64): u32 { return buddyAllocInline(h, size, 0); }
  // @ts-ignore: decorator
  @inline free(h: i32, handle: u32): void { buddyFreeInline(h, handle); }
  // @ts-ignore: decorator
  @inline realloc(h: i32, handle: u32, size: u64): u32 { return buddyRealloc(h, handle, size); }
}

registerPolicy({
  name: "buddy",
  // slot order: BUDDY_MIN_BLOCK_BYTES, BUDDY_ARENA_BYTES
  params: "minBlockBytes,arenaBytes",
  // counter order: C_ARENAS .. C_FREE_BLOCK_BYTES
  counters: "arenas,arenaBytes,largestFreeOrder,splits,merges,releasedArenas,trimmedBytes,freeBlockBytes",
  stackable: false,
  recordBytes: buddyRecordBytes(),
  create: buddyCreate,
  alloc: buddyAlloc,
  free: buddyFree,
  realloc: buddyRealloc,
  trim: buddyTrim,
  destroy: buddyDestroy,
  userAddress: buddyUserAddress,
  sample: buddySample,
  check: buddyCheck,
  engineBytes: buddyEngineBytes,
  batch: (from: i32, count: i32): i32 => batchOf<BuddyOps>(from, count),
});
