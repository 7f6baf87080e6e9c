// Shared by the readers of call-style logs (ltrace, logalloc): which C functions are allocator
// calls, how to read their arguments, and how to send one call to the AddressMapper.
import type { AddressMapper } from '../address-map.js';
import { NO_CALLER, SKIP_UNKNOWN_RESULT, powerOfTwoAlignment } from '../events.js';
import { NOT_A_NUMBER, asCount, decimalText, hexText, isBadNumber, type TraceInt } from '../numbers.js';

/** valloc/pvalloc align to the page size; 4 KiB on the systems these traces come from. */
const VALLOC_ALIGN_BYTES = 4096;

const HEX_PREFIX = /^0x/i;
const NULL_SPELLINGS = new Set(['(nil)', 'nil', 'NULL', '0x0', '0']);

/**
 * A pointer or size argument as printed by a tracer, exact (numbers.ts): NOT_A_NUMBER when it is
 * not a number, ABOVE_U64 when it does not fit 64 bits.
 */
export function parseValue(text: string | undefined): TraceInt {
  if (text === undefined) return NOT_A_NUMBER;
  const t = text.trim();
  if (NULL_SPELLINGS.has(t)) return 0;
  if (HEX_PREFIX.test(t)) return hexText(t.slice(2));
  return decimalText(t);
}

/** count × size as a byte count: exact below 2^53, Infinity above (no architecture serves it). */
function product(count: TraceInt, size: TraceInt): number {
  const p = asCount(count) * asCount(size);
  return p <= Number.MAX_SAFE_INTEGER ? p : Infinity;
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

/** `result` of a call whose result the trace does not show. */
export const UNKNOWN_RESULT = -1;

/**
 * Sends one allocator call to the mapper. `result` is the returned pointer, or UNKNOWN_RESULT when
 * the trace does not show it. Returns false when an argument is not a number (a malformed line).
 */
export function applyCall(mapper: AddressMapper, shape: CallShape, args: readonly string[], result: TraceInt): boolean {
  const arg = (i: number): TraceInt => parseValue(args[i]);
  switch (shape.kind) {
    case 'free': {
      const ptr = arg(shape.ptr);
      if (isBadNumber(ptr)) return false;
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
  let ptr: TraceInt = 0;
  let bad = false;
  switch (shape.kind) {
    case 'malloc':
    case 'valloc': {
      const size = arg(shape.size);
      bad = isBadNumber(size);
      sizeBytes = asCount(size);
      alignBytes = shape.kind === 'valloc' ? VALLOC_ALIGN_BYTES : 0;
      break;
    }
    case 'calloc': {
      const count = arg(shape.count);
      const size = arg(shape.size);
      bad = isBadNumber(count) || isBadNumber(size);
      sizeBytes = product(count, size);
      break;
    }
    case 'aligned': {
      const align = arg(shape.align);
      const size = arg(shape.size);
      bad = isBadNumber(align) || isBadNumber(size);
      alignBytes = asCount(align);
      sizeBytes = asCount(size);
      break;
    }
    case 'realloc': {
      ptr = arg(shape.ptr);
      const size = arg(shape.size);
      bad = isBadNumber(ptr) || isBadNumber(size);
      sizeBytes = asCount(size);
      break;
    }
    case 'reallocarray': {
      ptr = arg(shape.ptr);
      const count = arg(shape.count);
      const size = arg(shape.size);
      bad = isBadNumber(ptr) || isBadNumber(count) || isBadNumber(size);
      sizeBytes = product(count, size);
      break;
    }
  }
  if (bad) return false;
  if (result === UNKNOWN_RESULT) {
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
