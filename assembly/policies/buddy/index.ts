// buddy: the binary buddy system, Knuth's Algorithms R and S (rules in buddy.ts). Registered by
// one line in assembly/policies/registry.ts.
import { registerPolicy } from "../../kit/policy";
import {
  buddyCreate, buddyAlloc, buddyFree, buddyRealloc, buddyTrim, buddyDestroy, buddyUserAddress, buddySample,
  buddyCheck, buddyEngineBytes, buddyRecordBytes,
} from "./buddy";

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
});
