// Integers in trace text, read exactly or refused. Sizes, counts, ids and pointers are C's 64-bit
// unsigned values; a JavaScript number holds integers exactly only below 2^53. So a reader gets:
//   - a number, when the value is below 2^53 (exact);
//   - a bigint, when it is in [2^53, 2^64) (exact; the caller decides what it means: no size that
//     large can be served, a pointer that large is a key like any other);
//   - NOT_A_NUMBER when the text is not digits of the expected base;
//   - ABOVE_U64 when it is digits but the value does not fit 64 bits (a malformed line).
// Leading zeros are allowed and cost nothing; the work is linear in the text's length.

export type TraceInt = number | bigint;

export const NOT_A_NUMBER = -1;
export const ABOVE_U64 = -2;

/** 2^64: the first value no 64-bit field holds. */
const U64_LIMIT = 1n << 64n;
/** Decimal digits that always fit below 2^53 (10^15 < 2^53). */
const SAFE_DECIMAL_DIGITS = 15;
/** Hex digits that always fit below 2^53 (16^13 = 2^52). */
const SAFE_HEX_DIGITS = 13;
/** More significant digits than this are always at least 2^64 (2^64 has 20 decimal, 17 hex digits). */
const MAX_DECIMAL_DIGITS = 20;
const MAX_HEX_DIGITS = 16;
const DECIMAL_RADIX = 10;
const HEX_RADIX = 16;

/** Value of each byte as a digit of base 16 (and 10 for '0'-'9'); -1 for bytes that are not one. */
const DIGIT_VALUE = new Int8Array(256).fill(-1);
for (let d = 0; d < HEX_RADIX; d++) {
  const text = d.toString(HEX_RADIX);
  DIGIT_VALUE[text.charCodeAt(0)] = d;
  DIGIT_VALUE[text.toUpperCase().charCodeAt(0)] = d;
}

/** The value of significant digits that did not fit the fast path: exact, or ABOVE_U64. */
function bigValue(digits: string, radix: number): TraceInt {
  const big = BigInt(radix === HEX_RADIX ? `0x${digits}` : digits);
  if (big >= U64_LIMIT) return ABOVE_U64;
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function digitsOfBytes(buf: Uint8Array, start: number, end: number, radix: number, safeDigits: number, maxDigits: number): TraceInt {
  if (start >= end) return NOT_A_NUMBER;
  let first = -1; // first significant (non-zero) digit
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = DIGIT_VALUE[buf[i]!]!;
    if (d < 0 || d >= radix) return NOT_A_NUMBER;
    if (first < 0 && d !== 0) first = i;
    v = v * radix + d;
  }
  if (first < 0) return 0;
  const significant = end - first;
  if (significant <= safeDigits) return v;
  if (significant > maxDigits) return ABOVE_U64;
  return bigValue(Buffer.from(buf.buffer, buf.byteOffset + first, end - first).toString('latin1'), radix);
}

function digitsOfText(s: string, radix: number, safeDigits: number, maxDigits: number): TraceInt {
  const end = s.length;
  if (end === 0) return NOT_A_NUMBER;
  let first = -1;
  let v = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const d = c < DIGIT_VALUE.length ? DIGIT_VALUE[c]! : -1;
    if (d < 0 || d >= radix) return NOT_A_NUMBER;
    if (first < 0 && d !== 0) first = i;
    v = v * radix + d;
  }
  if (first < 0) return 0;
  const significant = end - first;
  if (significant <= safeDigits) return v;
  if (significant > maxDigits) return ABOVE_U64;
  return bigValue(s.slice(first), radix);
}

/** Decimal digits in buf[start, end). */
export function decimalBytes(buf: Uint8Array, start: number, end: number): TraceInt {
  return digitsOfBytes(buf, start, end, DECIMAL_RADIX, SAFE_DECIMAL_DIGITS, MAX_DECIMAL_DIGITS);
}

/** Hex digits (no 0x prefix) in buf[start, end). */
export function hexBytes(buf: Uint8Array, start: number, end: number): TraceInt {
  return digitsOfBytes(buf, start, end, HEX_RADIX, SAFE_HEX_DIGITS, MAX_HEX_DIGITS);
}

/** Decimal digits only (no sign, no spaces). */
export function decimalText(s: string): TraceInt {
  return digitsOfText(s, DECIMAL_RADIX, SAFE_DECIMAL_DIGITS, MAX_DECIMAL_DIGITS);
}

/** Hex digits only (no prefix). */
export function hexText(s: string): TraceInt {
  return digitsOfText(s, HEX_RADIX, SAFE_HEX_DIGITS, MAX_HEX_DIGITS);
}

/** True for the two failure values. */
export function isBadNumber(v: TraceInt): boolean {
  return v === NOT_A_NUMBER || v === ABOVE_U64;
}

/**
 * A well-formed value as a byte count or id: exact below 2^53; a bigint (2^53 or more) becomes
 * Infinity, which every limit check refuses (no architecture serves such a request, no id is that
 * large). Only call it on values that passed isBadNumber.
 */
export function asCount(v: TraceInt): number {
  return typeof v === 'bigint' ? Infinity : v;
}

/** Decimal text as a number below 2^53 (pids, thread ids, seconds), or -1: not digits, or too large to be exact. */
export function safeDecimal(s: string): number {
  const v = decimalText(s);
  return typeof v === 'number' && v >= 0 ? v : -1;
}

/** Why a number did not parse, for a malformed-line message. */
export function numberProblem(v: TraceInt, what: string): string {
  return v === ABOVE_U64 ? `${what} does not fit 64 bits` : typeof v === 'bigint' ? `${what} is 2^53 or more` : `${what} is not a number`;
}
