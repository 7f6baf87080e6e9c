// Shared by the readers of call-style logs (ltrace, logalloc): which C functions are allocator
// calls, how to read their arguments, and how to send one call to the AddressMapper.
import type { AddressMapper } from '../address-map.js';
import { NO_CALLER, SKIP_UNKNOWN_RESULT, powerOfTwoAlignment } from '../events.js';

/** valloc/pvalloc align to the page size; 4 KiB on the systems these traces come from. */
const VALLOC_ALIGN_BYTES = 4096;

const HEX = /^0x[0-9a-f]+$/i;
const DECIMAL = /^[0-9]+$/;
const NULL_SPELLINGS = new Set(['(nil)', 'nil', 'NULL', '0x0', '0']);

/** A pointer or size argument as printed by a tracer; -1 when it is not a number. */
export function parseValue(text: string | undefined): number {
  if (text === undefined) return -1;
  const t = text.trim();
  if (NULL_SPELLINGS.has(t)) return 0;
  if (HEX.test(t)) return parseInt(t.slice(2), 16);
  if (DECIMAL.test(t)) return Number(t);
  return -1;
}

/** How a function's arguments map onto an allocator call. `free`-like calls have no result. */
type CallShape =
  | { kind: 'malloc'; size: number }
  | { kind: 'calloc'; count: number; size: number }
  | { kind: 'aligned'; align: number; size: number }
  | { kind: 'valloc'; size: number }
  | { kind: 'realloc'; ptr: number; size: number }
  | { kind: 'reallocarray'; ptr: number; count: number; size: number }
  | { kind: 'free'; ptr: number }
  | { kind: 'no-result' };

/** Argument positions per function name. Names not listed are not allocator calls. */
export const ALLOCATOR_CALLS: ReadonlyMap<string, CallShape> = new Map<string, CallShape>([
  ['malloc', { kind: 'malloc', size: 0 }],
  ['_Znwm', { kind: 'malloc', size: 0 }],   // operator new(size_t)
  ['_Znam', { kind: 'malloc', size: 0 }],   // operator new[](size_t)
  ['calloc', { kind: 'calloc', count: 0, size: 1 }],
  ['memalign', { kind: 'aligned', align: 0, size: 1 }],
  ['aligned_alloc', { kind: 'aligned', align: 0, size: 1 }],
  ['valloc', { kind: 'valloc', size: 0 }],
  ['pvalloc', { kind: 'valloc', size: 0 }],
  ['realloc', { kind: 'realloc', ptr: 0, size: 1 }],
  ['reallocarray', { kind: 'reallocarray', ptr: 0, count: 1, size: 2 }],
  ['free', { kind: 'free', ptr: 0 }],
  ['cfree', { kind: 'free', ptr: 0 }],
  ['_ZdlPv', { kind: 'free', ptr: 0 }],     // operator delete(void*)
  ['_ZdaPv', { kind: 'free', ptr: 0 }],     // operator delete[](void*)
  ['_ZdlPvm', { kind: 'free', ptr: 0 }],    // sized operator delete
  ['_ZdaPvm', { kind: 'free', ptr: 0 }],
]);

/** True when the call's effect is known at call time (a free), so it needs no result. */
export function isFreeLike(name: string): boolean {
  return ALLOCATOR_CALLS.get(name)?.kind === 'free';
}

/**
 * Sends one allocator call to the mapper. `result` is the returned pointer, or -1 when the trace
 * does not show it. Returns false when an argument is not a number (a malformed line).
 */
export function applyCall(mapper: AddressMapper, shape: CallShape, args: readonly string[], result: number): boolean {
  const arg = (i: number): number => parseValue(args[i]);
  switch (shape.kind) {
    case 'free': {
      const ptr = arg(shape.ptr);
      if (ptr < 0) return false;
      mapper.free(ptr);
      return true;
    }
    case 'no-result':
      mapper.skip(SKIP_UNKNOWN_RESULT);
      return true;
    default:
      break;
  }
  let sizeBytes: number;
  let alignBytes = 0;
  let ptr = 0;
  switch (shape.kind) {
    case 'malloc':
    case 'valloc':
      sizeBytes = arg(shape.size);
      alignBytes = shape.kind === 'valloc' ? VALLOC_ALIGN_BYTES : 0;
      break;
    case 'calloc': {
      const count = arg(shape.count);
      const size = arg(shape.size);
      sizeBytes = count < 0 || size < 0 ? -1 : count * size;
      break;
    }
    case 'aligned':
      alignBytes = arg(shape.align);
      sizeBytes = arg(shape.size);
      if (alignBytes < 0) return false;
      break;
    case 'realloc':
      ptr = arg(shape.ptr);
      sizeBytes = arg(shape.size);
      break;
    case 'reallocarray': {
      ptr = arg(shape.ptr);
      const count = arg(shape.count);
      const size = arg(shape.size);
      sizeBytes = count < 0 || size < 0 ? -1 : count * size;
      break;
    }
  }
  if (sizeBytes < 0 || ptr < 0) return false;
  if (result < 0) {
    mapper.skip(SKIP_UNKNOWN_RESULT);
    return true;
  }
  switch (shape.kind) {
    case 'malloc':
      mapper.alloc(result, sizeBytes, NO_CALLER);
      break;
    case 'calloc':
      mapper.calloc(result, sizeBytes, NO_CALLER);
      break;
    case 'aligned':
    case 'valloc':
      mapper.alignedAlloc(result, sizeBytes, powerOfTwoAlignment(alignBytes), NO_CALLER);
      break;
    default: // realloc, reallocarray
      mapper.realloc(ptr, result, sizeBytes, NO_CALLER);
  }
  return true;
}

export type { CallShape };
