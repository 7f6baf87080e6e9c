// === kit: the clock ===
//
// One clock for the engine and every policy: the event number (each alloc-like op and each free
// is one event; SKIP adds the events a trace dropped), the simulated time in nanoseconds (TICK
// ops carry nanoseconds) and the thread the current op runs on: a dense slot 0, 1, 2, … that the
// engine's thread table (assembly/threads.ts) gives each trace thread id; a slot freed by a thread's
// exit (THREAD_END, after the policies' threadEnd hooks) serves a later thread. Policies that need
// time or threads read them here; none keeps its own. Only the engine's batch interpreter moves it.

let events: u64 = 0;
let nowNs: u64 = 0;
let thread: u32 = 0;

// @ts-ignore: decorator
@inline export function clockEvents(): u64 { return events; }
// @ts-ignore: decorator
@inline export function clockNs(): u64 { return nowNs; }
// @ts-ignore: decorator
@inline export function clockThread(): u32 { return thread; }

// The engine's side.
// @ts-ignore: decorator
@inline export function clockAddEvents(n: u64): void { events += n; }
// One event more; its number (the count kept in a local: V8 loads a global again after a store to it).
// @ts-ignore: decorator
@inline export function clockNextEvent(): u64 { const ev = events + 1; events = ev; return ev; }
// @ts-ignore: decorator
@inline export function clockAddNs(ns: u64): void { nowNs += ns; }
// @ts-ignore: decorator
@inline export function clockSetThread(t: u32): void { thread = t; }
