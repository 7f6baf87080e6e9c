// === next-fit: first fit from a roving pointer ===
//
// Knuth's variant of first fit (TAOCP 2.5, exercise 6): the search for a free block starts where
// the previous one ended instead of at the lowest address. Here the rover is an address: the end
// of the last block handed out from a free block; the chosen block is the lowest-addressed free
// block at or above the rover that holds the request, else, wrapping round, the lowest-addressed
// one that holds it. A request no free block holds is carved from the top of the heap and leaves
// the rover where it was. Wilson et al. (1995) report that next fit spreads allocations over the
// heap and fragments more than address-ordered first fit. Everything else is the shared
// boundary-tag heap of textbook/fit.ts (its header states the rules).
//
// Free blocks are kept in a bucket index by address (fit.ts, "next-fit's bucket index": a list per
// 4 KiB bucket, a tree of exact maxima over the buckets), so "the first fit at or above the rover"
// is the rover's bucket, then a climb and a descent of the maxima. The free block starting at the
// rover (the rover block, fit.ts H.roverBlk) is kept out of the index and tried first: the rover
// carves one block again and again, and those cuts then change no maxima.
// Invariants: textbook/fit.ts F1..F4.

import { Status } from "../../abi";
import { RULE_NEXT, fitCreate } from "../textbook/fit";

export function nextFitCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  return fitCreate(heapIndex, params, count, RULE_NEXT);
}
