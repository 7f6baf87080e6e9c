// glibc malloc settings as people set them in production, turned into ptmalloc parameters:
// GLIBC_TUNABLES=glibc.malloc.<name>=<value>:… and the MALLOC_<NAME>_ variables, pasted as shell
// text (`export A=1 B=2`, one per line, quoted or not). The rules follow glibc 2.36
// (elf/dl-tunables.c, elf/dl-tunables.list, malloc/malloc.c do_set_*):
//   - numbers are read like glibc's loader reads them: leading blanks, an optional sign, then
//     decimal, 0x hex or 0-prefixed octal digits up to the first other character ("12k" is 12,
//     "abc" is 0, "-1" wraps around to 2^64 - 1);
//   - a value outside the tunable's range is ignored (mmap_max must fit 0..2^31-1; tcache_count
//     ≤ 65535, tcache_max ≤ 1032 and mxfast ≤ 160 are checked when glibc applies them);
//   - GLIBC_TUNABLES wins over a MALLOC_*_ variable for the same setting, whatever the order;
//   - arena_max and arena_test (MALLOC_ARENA_MAX, MALLOC_ARENA_TEST) have a minimum of 1: 0 is
//     ignored, as glibc ignores it;
//   - the variable names and tunables glibc has but the model does not use (check, perturb,
//     hugetlb, other namespaces) are reported, not applied.

/** ptmalloc parameter names (src/policies/ptmalloc/index.ts) with glibc's tunable name for each. */
const TUNABLES: Record<string, { param: string; kind: 'size' | 'int32'; max?: bigint; min?: bigint }> = {
  'glibc.malloc.tcache_count': { param: 'tcache_count', kind: 'size', max: 65535n },
  'glibc.malloc.tcache_max': { param: 'tcache_max', kind: 'size', max: 1032n },
  'glibc.malloc.tcache_unsorted_limit': { param: 'tcache_unsorted_limit', kind: 'size' },
  'glibc.malloc.mxfast': { param: 'mxfast', kind: 'size', max: 160n },
  'glibc.malloc.trim_threshold': { param: 'trim_threshold', kind: 'size' },
  'glibc.malloc.mmap_threshold': { param: 'mmap_threshold', kind: 'size' },
  'glibc.malloc.top_pad': { param: 'top_pad', kind: 'size' },
  'glibc.malloc.mmap_max': { param: 'mmap_max', kind: 'int32' },
  'glibc.malloc.arena_max': { param: 'arena_max', kind: 'size', min: 1n },
  'glibc.malloc.arena_test': { param: 'arena_test', kind: 'size', min: 1n },
};

/** glibc's environment aliases (dl-tunables.list env_alias). */
const ALIASES: Record<string, string> = {
  MALLOC_TOP_PAD_: 'glibc.malloc.top_pad',
  MALLOC_MMAP_THRESHOLD_: 'glibc.malloc.mmap_threshold',
  MALLOC_TRIM_THRESHOLD_: 'glibc.malloc.trim_threshold',
  MALLOC_MMAP_MAX_: 'glibc.malloc.mmap_max',
  MALLOC_ARENA_MAX: 'glibc.malloc.arena_max',
  MALLOC_ARENA_TEST: 'glibc.malloc.arena_test',
};

/** Settings glibc knows that the model does not use (named so the user sees them noticed). */
const NOT_MODELLED = new Set([
  'MALLOC_CHECK_', 'MALLOC_PERTURB_', 'glibc.malloc.check', 'glibc.malloc.perturb', 'glibc.malloc.hugetlb',
]);
const NOT_MODELLED_REASON = 'not modelled (debugging and huge-page settings)';

const UINT64_MASK = (1n << 64n) - 1n;
const INT32_MAX = 2147483647n;

/** elf/dl-misc.c _dl_strtoul, as an unsigned 64-bit value. */
export function glibcStrtoul(text: string): bigint {
  let i = 0;
  while (text[i] === ' ' || text[i] === '\t') i++;
  let negative = false;
  if (text[i] === '-') { negative = true; i++; } else if (text[i] === '+') i++;
  if (!(text[i]! >= '0' && text[i]! <= '9')) return 0n;
  let base = 10n;
  let maxDigit = 9;
  if (text[i] === '0') {
    if (text[i + 1] === 'x' || text[i + 1] === 'X') { base = 16n; i += 2; } else { base = 8n; maxDigit = 7; }
  }
  let result = 0n;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    let d: number;
    if (ch >= '0' && ch.charCodeAt(0) <= 48 + maxDigit) d = ch.charCodeAt(0) - 48;
    else if (base === 16n && ch >= 'a' && ch <= 'f') d = ch.charCodeAt(0) - 87;
    else if (base === 16n && ch >= 'A' && ch <= 'F') d = ch.charCodeAt(0) - 55;
    else break;
    if (result >= (UINT64_MASK - BigInt(d)) / base) return UINT64_MASK;
    result = result * base + BigInt(d);
  }
  return negative ? (-result) & UINT64_MASK : result;
}

export interface GlibcEnvResult {
  /** ptmalloc parameter → value, ready for `createHeap('ptmalloc', { params })`. */
  params: Record<string, number>;
  /** Settings that had no effect, with glibc's reason or ours. */
  ignored: { setting: string; reason: string }[];
}

/** Splits pasted shell text into NAME=VALUE words (quotes removed, `export` dropped). */
function assignments(text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const words = text.match(/(?:[^\s"';]+|"[^"]*"|'[^']*')+/g) ?? [];
  for (const raw of words) {
    const word = raw.replace(/"([^"]*)"|'([^']*)'/g, (_m, a?: string, b?: string) => a ?? b ?? '');
    if (word === 'export' || word === 'env') continue;
    const eq = word.indexOf('=');
    if (eq <= 0) continue;
    out.push({ name: word.slice(0, eq), value: word.slice(eq + 1) });
  }
  return out;
}

/** Validates one tunable value the way glibc does; undefined (with a reason) when glibc ignores it. */
function tunableValue(tunable: string, value: string): { value?: number; reason?: string } {
  const spec = TUNABLES[tunable]!;
  let v = glibcStrtoul(value);
  if (spec.kind === 'int32') {
    // INT_32 tunables compare as signed 64-bit numbers against 0..INT32_MAX.
    const signed = v >= 1n << 63n ? v - (1n << 64n) : v;
    if (signed < 0n || signed > INT32_MAX) return { reason: `${value} is outside 0..${INT32_MAX}` };
    v = signed;
  }
  if (spec.max !== undefined && v > spec.max) return { reason: `${value} is above glibc's limit ${spec.max}` };
  if (spec.min !== undefined && v < spec.min) return { reason: `${value} is below glibc's minimum ${spec.min}` };
  // Beyond 2^53 every threshold behaves as "never": keep the number exact enough for the engine.
  const n = v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  return { value: n };
}

/** The ptmalloc parameters set by pasted GLIBC_TUNABLES / MALLOC_*_ text, with what was ignored. */
export function parseGlibcEnvDetailed(text: string): GlibcEnvResult {
  const fromTunables = new Map<string, number>();
  const fromAliases = new Map<string, number>();
  const ignored: GlibcEnvResult['ignored'] = [];
  // A shell keeps the last assignment of a variable.
  const vars = new Map<string, string>();
  for (const { name, value } of assignments(text)) {
    vars.delete(name);
    vars.set(name, value);
  }
  for (const [name, value] of vars) {
    if (name === 'GLIBC_TUNABLES') {
      for (const item of value.split(':')) {
        if (!item) continue;
        const eq = item.indexOf('=');
        if (eq < 0) { ignored.push({ setting: item, reason: 'no value' }); continue; }
        const tunable = item.slice(0, eq);
        const v = item.slice(eq + 1);
        if (Object.hasOwn(TUNABLES, tunable)) { // own keys only: `constructor` is not a tunable
          const r = tunableValue(tunable, v);
          if (r.value === undefined) ignored.push({ setting: item, reason: r.reason! });
          else fromTunables.set(TUNABLES[tunable]!.param, r.value);
        } else {
          ignored.push({ setting: item, reason: NOT_MODELLED.has(tunable) ? NOT_MODELLED_REASON : 'not a malloc tunable the model knows' });
        }
      }
    } else if (Object.hasOwn(ALIASES, name)) {
      const tunable = ALIASES[name]!;
      const r = tunableValue(tunable, value);
      if (r.value === undefined) ignored.push({ setting: `${name}=${value}`, reason: r.reason! });
      else fromAliases.set(TUNABLES[tunable]!.param, r.value);
    } else if (NOT_MODELLED.has(name)) {
      ignored.push({ setting: `${name}=${value}`, reason: NOT_MODELLED_REASON });
    } else {
      ignored.push({ setting: `${name}=${value}`, reason: 'not a glibc malloc setting' });
    }
  }
  const params: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [k, v] of fromAliases) params[k] = v;
  for (const [k, v] of fromTunables) {
    if (fromAliases.has(k)) ignored.push({ setting: `${k} from MALLOC_*_`, reason: 'GLIBC_TUNABLES sets it too and wins' });
    params[k] = v;
  }
  return { params, ignored };
}

/** The ptmalloc parameters set by pasted GLIBC_TUNABLES / MALLOC_*_ text (`--env`). */
export function parseGlibcEnv(text: string): Record<string, number> {
  return parseGlibcEnvDetailed(text).params;
}
