// === mimalloc's clock (_mi_clock_now), simulated ===
//
// The library's delays run on a monotonic millisecond clock. Here time is what the trace's
// timestamps say (TICK ops, nanoseconds) plus `eventNs` per event, so a trace without timestamps
// still moves the clock (set event_ns = 0 to follow timestamps alone). The origin is arbitrary in
// the library too; a non-zero base keeps 0 free as "no deadline".
//
// Temporary: reads the engine's counters until the policy kit's clock lands.
import { eventCount, tickNanos } from "../../engine";

const NS_PER_MS: u64 = 1000000;
const CLOCK_BASE_MS: i64 = 1000000; // ours: the clock reads 1000 s at the first event

export function clockNowMs(eventNs: u64): i64 {
  const ns = tickNanos() + eventCount() * eventNs;
  return CLOCK_BASE_MS + <i64>(ns / NS_PER_MS);
}
