// === jemalloc model: the decay curve (decay.c) ===
//
// A decay object paces the purging of one extent cache (dirty or muzzy). Its time (dirty_decay_ms,
// muzzy_decay_ms) is cut into 200 epochs. At each epoch boundary the pages that became unused
// during the epoch are appended to a 200-entry backlog; the cache may then keep
//   limit = Σ backlog[i] × h[i]   (h: the smoother step 6x^5 − 15x^4 + 10x^3 at x = (i+1)/200,
//                                  24-bit fixed point; the newest entry weighs 1, the oldest ~0)
// pages and the rest are purged, least recently used extents first. Pages freed during the current
// epoch are never purged before the next boundary. Each epoch's deadline gets a random jitter of
// up to one epoch. Time −1: never purge; 0: purge everything at once (no epochs at all).
// Time is the simulated clock: the real library reads the wall clock, so its decay depends on how
// fast the program runs, which a trace does not record (docs/jemalloc.md).

import { SMOOTHSTEP_NSTEPS, SMOOTHSTEP_BFP, hStep, prngRange } from "./sizes";
import { D_TIME_MS, D_INTERVAL, D_EPOCH, D_DEADLINE, D_JITTER, D_NPAGES_LIMIT, D_NUNPURGED, D_PURGING, D_BACKLOG, D_BYTES } from "./state";

const NS_PER_MS: u64 = 1000000;

// @ts-ignore: decorator
@inline export function decayMs(d: usize): i64 { return load<i64>(d + D_TIME_MS); }
// @ts-ignore: decorator
@inline function backlog(d: usize, i: u32): u64 { return load<u64>(d + D_BACKLOG + (<usize>i << 3)); }

// decay_deadline_init: the next deadline, one epoch on plus the jitter.
function deadlineInit(d: usize): void {
  let deadline = load<u64>(d + D_EPOCH) + load<u64>(d + D_INTERVAL);
  if (decayMs(d) > 0) deadline += prngRange(d + D_JITTER, load<u64>(d + D_INTERVAL));
  store<u64>(d + D_DEADLINE, deadline);
}

// decay_reinit: a fresh curve starting now. `seed` stands for the decay object's address, which
// seeds jemalloc's jitter.
export function decayReinit(d: usize, nowNs: u64, ms: i64, seed: u64): void {
  const purging = load<u32>(d + D_PURGING);
  memory.fill(d, 0, D_BYTES);
  store<u32>(d + D_PURGING, purging);
  store<i64>(d + D_TIME_MS, ms);
  if (ms > 0) store<u64>(d + D_INTERVAL, (<u64>ms * NS_PER_MS) / <u64>SMOOTHSTEP_NSTEPS);
  store<u64>(d + D_EPOCH, nowNs);
  store<u64>(d + D_JITTER, seed);
  deadlineInit(d);
}

// decay_backlog_npages_limit
export function backlogLimit(d: usize): u64 {
  let sum: u64 = 0;
  for (let i: u32 = 0; i < SMOOTHSTEP_NSTEPS; i++) sum += backlog(d, i) * hStep(i);
  return sum >> SMOOTHSTEP_BFP;
}

// decay_maybe_advance_epoch: true when the deadline has passed (the backlog moved on).
export function maybeAdvanceEpoch(d: usize, nowNs: u64, npagesCurrent: u64): bool {
  if (load<u64>(d + D_DEADLINE) > nowNs) return false;
  const interval = load<u64>(d + D_INTERVAL);
  const epoch = load<u64>(d + D_EPOCH);
  const nadvance = (nowNs - epoch) / interval;
  store<u64>(d + D_EPOCH, epoch + interval * nadvance);
  deadlineInit(d);
  // decay_backlog_update: shift out `nadvance` epochs, record the new pages as the newest entry
  const n = <u64>SMOOTHSTEP_NSTEPS;
  const b = d + D_BACKLOG;
  if (nadvance >= n) {
    memory.fill(b, 0, <usize>(n - 1) * 8);
  } else {
    memory.copy(b, b + <usize>nadvance * 8, <usize>(n - nadvance) * 8);
    if (nadvance > 1) memory.fill(b + <usize>(n - nadvance) * 8, 0, <usize>(nadvance - 1) * 8);
  }
  const nunpurged = load<u64>(d + D_NUNPURGED);
  store<u64>(b + <usize>(n - 1) * 8, npagesCurrent > nunpurged ? npagesCurrent - nunpurged : 0);
  const limit = backlogLimit(d);
  store<u64>(d + D_NPAGES_LIMIT, limit);
  store<u64>(d + D_NUNPURGED, limit > npagesCurrent ? limit : npagesCurrent);
  return true;
}

// @ts-ignore: decorator
@inline export function npagesLimit(d: usize): u64 { return load<u64>(d + D_NPAGES_LIMIT); }
// @ts-ignore: decorator
@inline export function isPurging(d: usize): bool { return load<u32>(d + D_PURGING) != 0; }
// @ts-ignore: decorator
@inline export function setPurging(d: usize, on: bool): void { store<u32>(d + D_PURGING, on ? 1 : 0); }
export function decayDeadline(d: usize): u64 { return load<u64>(d + D_DEADLINE); }
export function decayEpoch(d: usize): u64 { return load<u64>(d + D_EPOCH); }
