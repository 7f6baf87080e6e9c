// Per-class detail of a `pool` heap, read from the engine (assembly/policies/pool/pool.ts poolClassStats).
import type { EngineHandle } from '../kit/spec.js';

/** One size class of a `pool` heap. */
export interface PoolClassInfo {
  objectBytes: number;
  chunks: number;
  busyObjects: number;
  /** Freed objects kept on the class's LIFO list (retained by the pool). */
  freeObjects: number;
  /** Objects never handed out yet in the class's current chunk. */
  uncarvedObjects: number;
}

/** The pool queries of the WASM module (assembly/policies/pool/index.ts). */
interface PoolExports {
  memory: WebAssembly.Memory;
  poolClassStats(h: number, out: number): number;
  POOL_CLASS_FIELDS: WebAssembly.Global;
}

/** Per-class detail of a `pool` heap, smallest class first ([] for other policies). */
export function poolClasses(engine: EngineHandle, h: number): PoolClassInfo[] {
  if (engine.heapPolicy(h) !== 'pool') return [];
  const x = engine.raw as PoolExports;
  const count = x.poolClassStats(h, 0);
  const fields = Number(x.POOL_CLASS_FIELDS.value);
  const ptr = engine.scratch(count * fields * 8);
  x.poolClassStats(h, ptr);
  const f = new Float64Array(x.memory.buffer, ptr, count * fields);
  const out: PoolClassInfo[] = [];
  for (let c = 0; c < count; c++) {
    const o = c * fields;
    out.push({
      objectBytes: f[o]!, chunks: f[o + 1]!, busyObjects: f[o + 2]!, freeObjects: f[o + 3]!, uncarvedObjects: f[o + 4]!,
    });
  }
  return out;
}
