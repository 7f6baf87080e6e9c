// Engine memories reused across runs in one process (a sweep, a bench, a browser page: many runs).
// The engine module imports its linear memory (asconfig.json "importMemory"), so each engine is a
// new instance of the compiled module (every module global and the AssemblyScript runtime's heap
// at their start state by construction) on a memory that is either new or one a finished engine
// released. A released memory keeps its grown size and its resident pages: the next run skips the
// page faults and kernel zeroing of fresh pages.
//
// What is zeroed: the module's initial pages, which hold its static data (the instance writes its
// data segments again; zero-initialised statics have no segment). Nothing above them: the code never
// relies on memory it takes from the runtime's allocator being zero (freed blocks are reused within
// one instance, so every table is cleared by its owner: memory.fill or field stores), and zeroing a
// kept memory whole would first-touch every page of it that no run used (nt's 214 MiB memory had
// ~20 MiB resident: the fill took 577 ms and 50,000 faults). test/unit/engine/memory-pool.test.ts
// runs every policy on a kept memory filled with garbage above the static part and compares each
// document with a run on a new memory.

/** The WebAssembly page size in bytes. */
export const WASM_PAGE_BYTES = 65536;
/** Initial size of an engine memory in 64 KiB pages: asconfig.json options.initialMemory. */
export const ENGINE_INITIAL_PAGES = 4;
/** Maximum size of an engine memory in 64 KiB pages: asconfig.json options.maximumMemory. */
export const ENGINE_MAXIMUM_PAGES = 65536;
/** Released memories kept at most (a run's main engine and its side engine for trims). */
export const POOLED_MEMORIES_MAX = 2;

const released: WebAssembly.Memory[] = [];

/** Bytes of a kept memory zeroed before reuse: the initial pages, where the static data lives. */
export const STATIC_PART_BYTES = ENGINE_INITIAL_PAGES * WASM_PAGE_BYTES;

/** A memory for a new engine instance: a released one (its static part zeroed) or a new one. */
export function takeEngineMemory(): WebAssembly.Memory {
  const kept = released.pop();
  if (!kept) return new WebAssembly.Memory({ initial: ENGINE_INITIAL_PAGES, maximum: ENGINE_MAXIMUM_PAGES });
  new Uint8Array(kept.buffer, 0, STATIC_PART_BYTES).fill(0);
  return kept;
}

/**
 * Gives the memory of an engine instance that will never be called again back for the next engine.
 * Only for an instance that finished cleanly (a trapped one is dropped). Beyond the pool's room the
 * memory is left to the garbage collector.
 */
export function releaseEngineMemory(memory: WebAssembly.Memory): void {
  if (released.length < POOLED_MEMORIES_MAX && !released.includes(memory)) released.push(memory);
}

/** Memories waiting to be reused (tests). */
export function pooledEngineMemories(): number { return released.length; }

/** Drops every kept memory (tests; a host that wants the memory back). */
export function dropPooledEngineMemories(): void { released.length = 0; }
