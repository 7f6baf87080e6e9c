// === node-max: the largest entry of one node of a bucket index's maxima ===
//
// Shared by first-fit's indexes (free blocks and uncommitted ranges, first-fit.ts) and next-fit's
// (textbook/fit.ts, "next-fit's bucket index"): a node is NODE_ENTRIES u32 maxima, one 64-byte cache
// line, and a raise or a lowering recomputes a node's largest entry.

export const NODE_ENTRIES: u32 = 16;

// @ts-ignore: decorator
@inline export function max2(a: u32, b: u32): u32 { return a > b ? a : b; }

// The largest of the NODE_ENTRIES u32 entries from p.
export function nodeMax(p: usize): u32 {
  if (NODE_ENTRIES != 16) ERROR("nodeMax is unrolled for NODE_ENTRIES = 16");
  const a = max2(max2(load<u32>(p, 0), load<u32>(p, 4)), max2(load<u32>(p, 8), load<u32>(p, 12)));
  const b = max2(max2(load<u32>(p, 16), load<u32>(p, 20)), max2(load<u32>(p, 24), load<u32>(p, 28)));
  const c = max2(max2(load<u32>(p, 32), load<u32>(p, 36)), max2(load<u32>(p, 40), load<u32>(p, 44)));
  const d = max2(max2(load<u32>(p, 48), load<u32>(p, 52)), max2(load<u32>(p, 56), load<u32>(p, 60)));
  return max2(max2(a, b), max2(c, d));
}
