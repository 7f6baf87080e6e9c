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
// Free blocks are kept in a treap ordered by address, each node with the largest block of its
// subtree, so "the first fit at or above the rover" is one guided descent.
// Invariants: textbook/fit.ts F1..F4.

import { Status } from "../../abi";
import {
  RULE_NEXT, fitCreate, fitAlloc, fitFree, fitRealloc, fitTrim, fitDestroy, fitSample, fitCheck, fitUserAddress,
} from "../textbook/fit";

export function nextFitCreate(heapIndex: i32, params: usize, count: i32): Status { return fitCreate(heapIndex, params, count, RULE_NEXT); }
export function nextFitAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 { return fitAlloc(heapIndex, size, alignLog2); }
export function nextFitFree(heapIndex: i32, handle: u32): void { fitFree(heapIndex, handle); }
export function nextFitRealloc(heapIndex: i32, handle: u32, size: u64): u32 { return fitRealloc(heapIndex, handle, size); }
export function nextFitTrim(heapIndex: i32, padBytes: u64): u64 { return fitTrim(heapIndex, padBytes); }
export function nextFitDestroy(heapIndex: i32): void { fitDestroy(heapIndex); }
export function nextFitUserAddress(heapIndex: i32, handle: u32): u64 { return fitUserAddress(heapIndex, handle); }
export function nextFitSample(heapIndex: i32, out: usize): void { fitSample(heapIndex, out); }
export function nextFitCheck(heapIndex: i32): i32 { return fitCheck(heapIndex); }
