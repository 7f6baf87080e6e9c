// === kit: the per-heap counter block ===
//
// POLICY_COUNTERS u64 counters per heap that belong to the heap's policy: counter i is named by
// the i-th name of PolicyDef.counters and lands in sample slot K_POLICY_BASE + i. heaps.ts clears
// a heap's block at create and copies it into every sample before the policy's sample() runs, so a
// policy bumps its event counters where they happen (counterAdd) and writes only the counters it
// computes at sample time (with putSlot, over the copied value).

import { MAX_HEAPS, K_POLICY_BASE, HEAP_SLOTS } from "../abi";

export const POLICY_COUNTERS: i32 = HEAP_SLOTS - K_POLICY_BASE;
if (POLICY_COUNTERS < 32) ERROR("every heap needs room for 32 policy counters");

const block = memory.data(MAX_HEAPS * POLICY_COUNTERS * 8);

// @ts-ignore: decorator
@inline function at(h: i32, i: i32): usize { return block + ((<usize>h * <usize>POLICY_COUNTERS + <usize>i) << 3); }

// @ts-ignore: decorator
@inline export function counterGet(h: i32, i: i32): u64 { return load<u64>(at(h, i)); }
// @ts-ignore: decorator
@inline export function counterSet(h: i32, i: i32, v: u64): void { store<u64>(at(h, i), v); }
// @ts-ignore: decorator
@inline export function counterAdd(h: i32, i: i32, d: i64): void { const p = at(h, i); store<i64>(p, load<i64>(p) + d); }
// Keeps the largest value seen (peaks).
// @ts-ignore: decorator
@inline export function counterMax(h: i32, i: i32, v: u64): void { const p = at(h, i); if (v > load<u64>(p)) store<u64>(p, v); }

export function countersClear(h: i32): void { memory.fill(at(h, 0), 0, <usize>POLICY_COUNTERS * 8); }

// Copies heap h's block into a heap sample block (`out` = the heap's slot 0).
export function countersSample(h: i32, out: usize): void {
  const o = out + (<usize>K_POLICY_BASE << 3);
  for (let i = 0; i < POLICY_COUNTERS; i++) store<f64>(o + (<usize>i << 3), <f64>load<u64>(at(h, i)));
}

// Writes one slot of a heap sample block (a common K_* slot or K_POLICY_BASE + counter).
// @ts-ignore: decorator
@inline export function putSlot(out: usize, slot: i32, v: u64): void { store<f64>(out + (<usize>slot << 3), <f64>v); }
