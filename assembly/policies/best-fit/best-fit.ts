// === best-fit: address-ordered best fit with immediate coalescing ===
//
// The free block chosen for a request is the smallest one that holds it, the lowest-addressed
// among blocks of that size (Knuth TAOCP 2.5; Wilson et al. 1995 found best fit and address-
// ordered first fit among the least fragmenting policies on real traces). Everything else is the
// shared boundary-tag heap of textbook/fit.ts (its header states the rules: 16-byte header and
// granule, front split when 32 bytes or more remain, immediate coalescing with both neighbours,
// the top of the heap used last and given back by trim only).
//
// Free blocks are kept in a kit tree ordered by (size, address), so the choice is one descent.
// Invariants: textbook/fit.ts F1..F4.

import { Status } from "../../abi";
import { RULE_BEST, fitCreate } from "../textbook/fit";

export function bestFitCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  return fitCreate(heapIndex, params, count, RULE_BEST);
}
