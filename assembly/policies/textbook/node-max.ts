// === node-max: the largest entry of one node of a bucket index's maxima ===
//
// Shared by first-fit's indexes (free blocks and uncommitted ranges, first-fit.ts) and next-fit's
// (textbook/fit.ts, "next-fit's bucket index"): a node is NODE_ENTRIES u32 maxima, one 64-byte cache
// line, and a raise or a lowering recomputes a node's largest entry.

export const NODE_ENTRIES: u32 = 16;

// @ts-ignore: decorator
@inline export function max2(a: u32, b: u32): u32 { return a > b ? a : b; }

// The largest of the NODE_ENTRIES u32 entries from p: four lanes at a time, then across the lanes.
export function nodeMax(p: usize): u32 {
  if (NODE_ENTRIES != 16) ERROR("nodeMax reads NODE_ENTRIES = 16 entries as four v128");
  const m = i32x4.max_u(i32x4.max_u(v128.load(p), v128.load(p, 16)), i32x4.max_u(v128.load(p, 32), v128.load(p, 48)));
  const m2 = i32x4.max_u(m, v128.shuffle<u32>(m, m, 2, 3, 0, 1));
  const m3 = i32x4.max_u(m2, v128.shuffle<u32>(m2, m2, 1, 0, 3, 2));
  return <u32>i32x4.extract_lane(m3, 0);
}
