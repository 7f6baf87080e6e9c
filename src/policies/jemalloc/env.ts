// MALLOC_CONF as jemalloc 5.3.0 reads it (src/jemalloc.c malloc_conf_next, malloc_conf_init_helper;
// src/malloc_io.c malloc_strtoumax), turned into the jemalloc policy's parameters.
//   - The string is `key:value` pairs separated by commas; a key is letters, digits and `_`. A
//     malformed string stops the reading there (jemalloc prints "Malformed conf string").
//   - Numbers: optional blanks and sign, then decimal, 0x hex or 0-prefixed octal; the whole value
//     must be the number. Booleans are exactly `true` or `false`. A value jemalloc refuses
//     ("Invalid conf value", "Out-of-range conf value") is ignored with a note, as jemalloc ignores
//     it; a later pair with the same key wins.
//   - Settings the one-thread model reads: narenas (only the statistics tables depend on it),
//     tcache, dirty_decay_ms, muzzy_decay_ms, retain, oversize_threshold, lg_extent_max_active_fit,
//     background_thread (false only: with true jemalloc purges on a timer from its own thread; the
//     model keeps purging inside allocator calls and says so). Any other key is refused.
import { UsageError } from '../../errors.js';

export interface JemallocEnvResult {
  /** Policy parameters (names as in the policy spec). */
  params: Record<string, number>;
  /** What jemalloc would ignore or the model does not apply, one line each. */
  notes: string[];
}

const LARGE_MAXCLASS = 0x7000000000000000n;      // sc.h: SC_LARGE_MAXCLASS
const DECAY_MS_MAX = 18446744073709n;            // nstime.h: NSTIME_SEC_MAX × 1000 (decay_ms_valid)
const SIZE_MAX = (1n << 64n) - 1n;

/**
 * malloc_strtoumax with base 0: the number, how many characters it used, and whether jemalloc
 * would call the value invalid (nothing converted, or an overflow: errno set).
 */
export function jemallocStrtoumax(text: string): { value: bigint; used: number; failed: boolean } {
  let i = 0;
  while (i < text.length && ' \t\n\v\f\r'.includes(text[i]!)) i++;
  let neg = false;
  if (text[i] === '-') { neg = true; i++; } else if (text[i] === '+') i++;
  const ns = i;
  let base = 10n;
  if (text[i] === '0') {
    const c = text[i + 1] ?? '';
    if (c >= '0' && c <= '7') { base = 8n; i++; }
    else if ((c === 'x' || c === 'X') && /[0-9a-fA-F]/.test(text[i + 2] ?? '')) { base = 16n; i += 2; }
    else return { value: 0n, used: i + 1, failed: false };
  }
  let v = 0n;
  for (; i < text.length; i++) {
    const ch = text[i]!.toLowerCase();
    const code = ch.charCodeAt(0);
    const d = ch >= '0' && ch <= '9' ? BigInt(code - 48) : ch >= 'a' && ch <= 'z' ? BigInt(code - 87) : 99n;
    if (d >= base) break;
    v = v * base + d;
    if (v > SIZE_MAX) return { value: SIZE_MAX, used: i + 1, failed: true };
  }
  if (i === ns) return { value: SIZE_MAX, used: 0, failed: true };
  if (neg) v = (-v) & SIZE_MAX;
  return { value: v, used: i, failed: false };
}

/** Reads one MALLOC_CONF string. Throws UsageError for settings the model refuses. */
export function parseMallocConf(conf: string): JemallocEnvResult {
  const params: Record<string, number> = {};
  const notes: string[] = [];
  let rest = conf;
  while (rest.length) {
    const m = /^([A-Za-z0-9_]*)(:?)/.exec(rest)!;
    if (!m[2]) {
      notes.push(rest === m[1] ? `MALLOC_CONF ends with key '${rest}': jemalloc stops reading there`
        : `MALLOC_CONF is malformed at '${rest}': jemalloc stops reading there`);
      break;
    }
    const key = m[1]!;
    rest = rest.slice(m[0].length);
    const comma = rest.indexOf(',');
    const value = comma < 0 ? rest : rest.slice(0, comma);
    rest = comma < 0 ? '' : rest.slice(comma + 1);
    if (comma >= 0 && rest === '') notes.push('MALLOC_CONF ends with a comma (jemalloc says so and goes on)');
    applySetting(key, value, params, notes);
  }
  return { params, notes };
}

function applySetting(key: string, value: string, params: Record<string, number>, notes: string[]): void {
  const invalid = (): void => { notes.push(`${key}:${value} ignored: jemalloc says "Invalid conf value"`); };
  const outOfRange = (): void => { notes.push(`${key}:${value} ignored: jemalloc says "Out-of-range conf value"`); };
  const bool = (param: string): void => {
    if (value === 'true') params[param] = 1;
    else if (value === 'false') params[param] = 0;
    else invalid();
  };
  const number = (): bigint | undefined => {
    const r = jemallocStrtoumax(value);
    if (r.failed || r.used !== value.length) {
      invalid();
      return undefined;
    }
    return r.value;
  };
  const signed = (v: bigint): bigint => (v >= 1n << 63n ? v - (1n << 64n) : v);
  switch (key) {
    case 'tcache': bool('tcache'); return;
    case 'retain': bool('retain'); return;
    case 'background_thread':
      if (value === 'true') {
        notes.push('background_thread:true not modelled: jemalloc would purge dirty pages from its own thread on a timer; ' +
          'heapsim purges inside allocator calls, as with background_thread:false');
      } else if (value !== 'false') invalid();
      return;
    case 'narenas': {
      if (value === 'default') { delete params.narenas; return; }
      const v = number();
      if (v === undefined) return;
      if (v < 1n) { outOfRange(); return; }
      params.narenas = Number(v & 0xffffffffn);
      return;
    }
    case 'dirty_decay_ms':
    case 'muzzy_decay_ms': {
      const v = number();
      if (v === undefined) return;
      const s = signed(v);
      if (s < -1n || s > DECAY_MS_MAX) { outOfRange(); return; }
      params[key] = Number(s);
      return;
    }
    case 'oversize_threshold': {
      const v = number();
      if (v === undefined) return;
      if (v > LARGE_MAXCLASS) { outOfRange(); return; }
      params.oversize_threshold = Number(v);
      return;
    }
    case 'lg_extent_max_active_fit': {
      const v = number();
      if (v === undefined) return;
      if (v > 64n) { outOfRange(); return; }
      params.lg_extent_max_active_fit = Number(v);
      return;
    }
    default:
      throw new UsageError(`MALLOC_CONF setting '${key}:${value}' is not supported by heapsim's jemalloc model ` +
        `(it reads narenas, tcache, dirty_decay_ms, muzzy_decay_ms, retain, oversize_threshold, ` +
        `lg_extent_max_active_fit, background_thread)`);
  }
}

/** Shell-style `NAME=value` words (quotes removed; `export` and `env` skipped). */
function assignments(text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const raw of text.match(/(?:[^\s"';]+|"[^"]*"|'[^']*')+/g) ?? []) {
    const word = raw.replace(/"([^"]*)"|'([^']*)'/g, (_m, a?: string, b?: string) => a ?? b ?? '');
    if (word === 'export' || word === 'env') continue;
    const eq = word.indexOf('=');
    if (eq > 0) out.push({ name: word.slice(0, eq), value: word.slice(eq + 1) });
  }
  return out;
}

/**
 * The production settings reader: pasted environment text (`MALLOC_CONF=narenas:1,tcache:false`,
 * one assignment per word or line). Only MALLOC_CONF is jemalloc's; other variables are refused.
 */
export function readJemallocEnv(text: string): JemallocEnvResult {
  let conf: string | undefined;
  for (const { name, value } of assignments(text)) {
    if (name !== 'MALLOC_CONF') {
      throw new UsageError(`environment variable '${name}' is not read by jemalloc 5.3 (it reads MALLOC_CONF)`);
    }
    conf = value; // a shell keeps the last assignment
  }
  return conf === undefined ? { params: {}, notes: [] } : parseMallocConf(conf);
}
