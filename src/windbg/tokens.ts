// Numbers as the debugger prints them, read from one token. Every test is anchored and bounded by
// MAX_TOKEN_CHARS, so reading a token costs at most a constant.
import { KB, parseDebuggerHex } from '../report/windbg-numbers.js';
import { MAX_TOKEN_CHARS } from './limits.js';

const PLAIN_HEX = /^[0-9a-f]+$/i;

/** Hex as printed (`734d000`, `7ffe\`d06bb000`, `0x1f64`), or undefined. */
export function hexOf(token: string | undefined): number | undefined {
  if (token === undefined || token.length === 0 || token.length > MAX_TOKEN_CHARS) return undefined;
  // Most tokens are plain hex of at most 13 digits (below 2^52, exact as a number): no BigInt.
  if (token.length <= 13 && PLAIN_HEX.test(token)) return parseInt(token, 16);
  return parseDebuggerHex(token);
}

/** A decimal count (`45362`), or undefined. */
export function decOf(token: string | undefined): number | undefined {
  if (token === undefined || !/^\d{1,15}$/.test(token)) return undefined;
  return Number(token);
}

/** Largest K value (of `!heap -s` columns) whose byte count is exact in a JavaScript number (< 2^53 bytes, 8 PiB). */
export const MAX_EXACT_KB = Math.floor(Number.MAX_SAFE_INTEGER / KB);

/** A percentage token `05.63%` or `05.63` as hundredths and text, or undefined. */
export function pctOf(token: string | undefined): { h: number; text: string } | undefined {
  if (token === undefined) return undefined;
  const m = /^(\d{1,3})\.(\d{2})%?$/.exec(token);
  if (!m) return undefined;
  return { h: Number(m[1]) * 100 + Number(m[2]), text: `${m[1]}.${m[2]}` };
}

/** Does the token look like an address or size column (hex, at most 16 digits, optional backtick)? */
export function isHexToken(token: string | undefined, minDigits = 1, maxDigits = 16): boolean {
  if (token === undefined || token.length > 17 + 2) return false;
  const t = token.replace(/^0x/i, '');
  const digits = t.replace('`', '').length;
  return digits >= minDigits && digits <= maxDigits && /^[0-9a-f]+(?:`[0-9a-f]+)?$/i.test(t);
}

/** A name column (letters, digits, `_`, `<>`, `|`, `.`): at most MAX_TOKEN_CHARS characters. */
export function isNameToken(token: string | undefined): boolean {
  return token !== undefined && token.length > 0 && token.length <= MAX_TOKEN_CHARS && /^[<A-Za-z_][\w<>|.\-]*$/.test(token);
}
