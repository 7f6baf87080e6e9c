// === kit: variable-length sample extras ===
//
// A heap's sample has fixed slots; some figures come in a number only the policy knows (glibc's
// per-arena system and in-use bytes: one pair per arena). While the engine takes a sample it lets
// the heap's policy append f64 values here (sampleExtra), then records where the heap's values
// start and how many there are in the heap's common slots K_EXTRAS_AT / K_EXTRAS_COUNT. The host
// reads them with the sample (HeapSample.extras) and the policy's spec gives them names. Extras
// start afresh with every batch, like the samples.

import { resize } from "../mem";

let buf: usize = 0;
let cap: u32 = 0;   // f64 slots
let used: u32 = 0;

/** Appends one value to the extras of the heap being sampled (call from a policy's sample()). */
export function sampleExtra(v: f64): void {
  if (used == cap) {
    cap = cap ? cap << 1 : 256;
    buf = resize(buf, <usize>cap << 3);
  }
  store<f64>(buf + (<usize>used << 3), v);
  used++;
}

// The engine's side.
export function extrasUsed(): u32 { return used; }
export function extrasReset(): void { used = 0; }
export function extrasPtr(): usize { return buf; }
