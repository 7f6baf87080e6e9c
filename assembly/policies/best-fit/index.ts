// === best-fit: address-ordered best fit with immediate coalescing ===
//
// The free block chosen for a request is the smallest one that holds it, the lowest-addressed
// among blocks of that size (Knuth TAOCP 2.5; Wilson et al. 1995 found best fit and address-
// ordered first fit among the least fragmenting policies on real traces). Everything else is the
// shared boundary-tag heap of textbook/fit.ts (its header states the rules: 16-byte header and
// granule, front split when 32 bytes or more remain, immediate coalescing with both neighbours,
// the top of the heap used last and given back by trim only).
//
// Free blocks are kept in a treap ordered by (size, address), so the choice is one descent.
// Invariants: textbook/fit.ts F1..F4.

import { Status } from "../../abi";
import {
  RULE_BEST, fitCreate, fitAlloc, fitFree, fitRealloc, fitTrim, fitDestroy, fitSample, fitCheck, fitUserAddress,
} from "../textbook/fit";

export function bestFitCreate(heapIndex: i32, params: usize, count: i32): Status { return fitCreate(heapIndex, params, count, RULE_BEST); }
export function bestFitAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 { return fitAlloc(heapIndex, size, alignLog2); }
export function bestFitFree(heapIndex: i32, handle: u32): void { fitFree(heapIndex, handle); }
export function bestFitRealloc(heapIndex: i32, handle: u32, size: u64): u32 { return fitRealloc(heapIndex, handle, size); }
export function bestFitTrim(heapIndex: i32, padBytes: u64): u64 { return fitTrim(heapIndex, padBytes); }
export function bestFitDestroy(heapIndex: i32): void { fitDestroy(heapIndex); }
export function bestFitUserAddress(heapIndex: i32, handle: u32): u64 { return fitUserAddress(heapIndex, handle); }
export function bestFitSample(heapIndex: i32, out: usize): void { fitSample(heapIndex, out); }
export function bestFitCheck(heapIndex: i32): i32 { return fitCheck(heapIndex); }
