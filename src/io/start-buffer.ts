// One buffer passed from hand to hand through a `heapsim run`'s start (issue 16, point 3). Each
// file a run reads whole or in chunks had a buffer of its own: the bundle and its code cache (read
// by the launcher, src/cli/code-cache.cts), the engine's .wasm (engine/load.ts), the trace's
// 1 MiB chunk buffer (trace/read.ts). Each was fresh memory, and on the build machine (a virtual
// machine) the first touch of a fresh 4 KiB page costs ~17 us of CPU (docs/performance.md): some
// 600 pages. Each is done with its bytes before the next needs a buffer (V8 copies a script's
// source and consumes its code cache inside `new vm.Script`, and copies a module's bytes inside
// `WebAssembly.compile`), so one buffer, touched once, serves them in turn.
//
// The buffer has one owner at a time: whoever takes it (takeStartBuffer) owns it until it gives it
// back (giveStartBuffer), and may keep it for good (the trace reader does). Nothing here is needed:
// without a buffer given (the library, a browser, a worker thread) every reader allocates its own.
// No import, so browser bundles may include it.

/**
 * Where the buffer waits between owners: a global, because the launcher that gives it first is a
 * CommonJS file of its own, not part of the bundle that takes it (src/cli/code-cache.cts
 * START_BUFFER_KEY names the same key).
 */
export const START_BUFFER_KEY = 'heapsim.startBuffer';
/** The buffer's size: the trace reader's chunk (trace/read.ts CHUNK_BYTES), its last owner. */
export const START_BUFFER_BYTES = 1 << 20;

type Slot = Record<symbol, Uint8Array | undefined>;

/** The buffer, if it is waiting and holds at least `bytes`; the caller owns it from now on. */
export function takeStartBuffer(bytes: number): Uint8Array | undefined {
  const slot = globalThis as unknown as Slot;
  const key = Symbol.for(START_BUFFER_KEY);
  const b = slot[key];
  if (!(b instanceof Uint8Array) || b.length < bytes) return undefined;
  slot[key] = undefined;
  return b;
}

/** Hands the buffer on (its owner is done with every byte of it). */
export function giveStartBuffer(b: Uint8Array): void {
  (globalThis as unknown as Slot)[Symbol.for(START_BUFFER_KEY)] = b;
}
