// mimalloc settings as people set them in production (MIMALLOC_<OPTION>=value), read the way
// mimalloc 2.0.9 reads them (src/options.c, mi_option_init and mi_getenv on Linux):
//   - the variable name is compared without regard to case ("mimalloc_decommit_delay" counts);
//     when a name appears twice the first one wins, as in a scan of the environment;
//   - the value, upper-cased and cut to 64 characters, means 1 when it is empty or a substring of
//     "1;TRUE;YES;ON", 0 when a substring of "0;FALSE;NO;OFF", else a decimal number (strtol:
//     leading blanks and a sign allowed) that must fill the whole value; anything else is
//     refused by the library with a warning and the default stays;
//   - MIMALLOC_RESET_DELAY is the old name of MIMALLOC_DECOMMIT_DELAY (used when the new one is
//     absent).
// Settings the model applies become policy parameters (a switch is on for any value but 0);
// settings that change nothing for one thread or only print are reported; settings the model does
// not cover (large OS pages, arenas, negative delays), unknown names and other variables are
// refused.
import { UsageError } from '../../errors.js';
import { ownEntry } from '../../names.js';

/** Options the policy models: mimalloc option name → policy parameter. */
const MODELLED: Record<string, string> = {
  decommit_delay: 'decommit_delay',
  segment_decommit_delay: 'segment_decommit_delay',
  decommit_extend_delay: 'decommit_extend_delay',
  allow_decommit: 'allow_decommit',
  eager_commit: 'eager_commit',
  page_reset: 'page_reset',
};

/** The modelled options that are switches. */
const FLAGS = new Set(['allow_decommit', 'eager_commit', 'page_reset']);

/** Options of 2.0.9 that leave the model's numbers unchanged, with why. */
const NO_EFFECT: Record<string, string> = {
  show_errors: 'only prints',
  show_stats: 'only prints',
  verbose: 'only prints',
  max_errors: 'only limits messages',
  max_warnings: 'only limits messages',
  eager_commit_delay: 'applies to threads after the first (the model has one)',
  max_segment_reclaim: 'concerns segments abandoned by ended threads (none with one thread)',
  abandoned_page_decommit: 'concerns pages abandoned by ended threads (none with one thread)',
  use_numa_nodes: 'one NUMA node is modelled; the choice of node changes no count',
  os_tag: 'macOS only',
  destroy_on_exit: 'acts at process exit only',
  deprecated_eager_region_commit: 'deprecated: mimalloc 2.0.9 ignores it',
  deprecated_reset_decommits: 'deprecated: mimalloc 2.0.9 ignores it',
  deprecated_segment_cache: 'deprecated: mimalloc 2.0.9 ignores it',
  deprecated_segment_reset: 'deprecated: mimalloc 2.0.9 ignores it',
};

/** Options of 2.0.9 the model does not cover. */
const NOT_MODELLED: Record<string, string> = {
  large_os_pages: 'large (2 MiB) OS pages are not modelled',
  reserve_huge_os_pages: 'huge (1 GiB) OS pages and their arena are not modelled',
  reserve_huge_os_pages_at: 'huge (1 GiB) OS pages and their arena are not modelled',
  reserve_os_memory: 'reserved arenas are not modelled',
  limit_os_alloc: 'allocation limited to reserved arenas is not modelled',
};

const LEGACY: Record<string, string> = { reset_delay: 'decommit_delay', abandoned_page_reset: 'abandoned_page_decommit' };

const VALUE_MAX_CHARS = 64;                 // options.c: char s[64+1]
const TRUE_WORDS = '1;TRUE;YES;ON';         // options.c: mi_option_init
const FALSE_WORDS = '0;FALSE;NO;OFF';       // options.c: mi_option_init
const LONG_MAX = 9223372036854775807n;      // strtol saturates at LONG_MAX / LONG_MIN (64-bit long)

export interface MimallocEnvResult {
  /** Policy parameter → value, for `createHeap('mimalloc', { params })`. */
  params: Record<string, number>;
  /** Settings that had no effect, with mimalloc's reason or ours. */
  ignored: { setting: string; reason: string }[];
}

/** Splits pasted shell text into NAME=VALUE words (quotes removed, `export`/`env` dropped). */
function assignments(text: string): { name: string; value: string; word: string }[] {
  const out: { name: string; value: string; word: string }[] = [];
  const words = text.match(/(?:[^\s"';]+|"[^"]*"|'[^']*')+/g) ?? [];
  for (const raw of words) {
    const word = raw.replace(/"([^"]*)"|'([^']*)'/g, (_m, a?: string, b?: string) => a ?? b ?? '');
    if (word === 'export' || word === 'env') continue;
    const eq = word.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env: '${raw}' is not NAME=VALUE`);
    out.push({ name: word.slice(0, eq), value: word.slice(eq + 1), word });
  }
  return out;
}

/** mi_option_init's reading of a value: a number, or undefined when mimalloc refuses it. */
export function mimallocOptionValue(text: string): number | undefined {
  const v = text.slice(0, VALUE_MAX_CHARS).toUpperCase();
  if (v === '' || TRUE_WORDS.includes(v)) return 1;
  if (FALSE_WORDS.includes(v)) return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(v);
  if (!m) return undefined;
  let n = BigInt(m[2]!);
  if (m[1] === '-') n = -n;
  if (n > LONG_MAX) n = LONG_MAX;
  if (n < -LONG_MAX - 1n) n = -LONG_MAX - 1n;
  return Number(n);
}

/** The policy parameters set by pasted MIMALLOC_* text, with what was ignored and why. */
export function parseMimallocEnv(text: string): MimallocEnvResult {
  const params: Record<string, number> = {};
  const ignored: { setting: string; reason: string }[] = [];
  const seen = new Set<string>();
  const legacy: { option: string; value: string; word: string }[] = [];
  for (const { name, value, word } of assignments(text)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('mimalloc_')) {
      throw new UsageError(`--env ${name}: not a mimalloc setting (mimalloc reads MIMALLOC_<OPTION> variables)`);
    }
    const option = lower.slice('mimalloc_'.length);
    // Own entries only: MIMALLOC___PROTO__ or MIMALLOC_CONSTRUCTOR is an unknown option, not a prototype's.
    const legacyOf = ownEntry(LEGACY, option), notModelled = ownEntry(NOT_MODELLED, option);
    if (legacyOf !== undefined) { legacy.push({ option: legacyOf, value, word }); continue; }
    if (notModelled !== undefined) throw new UsageError(`--env ${name}: ${notModelled} by the mimalloc policy`);
    if (ownEntry(MODELLED, option) === undefined && ownEntry(NO_EFFECT, option) === undefined) {
      throw new UsageError(`--env ${name}: mimalloc 2.0.9 has no option '${option}' (modelled: ${Object.keys(MODELLED).map((o) => `MIMALLOC_${o.toUpperCase()}`).join(', ')})`);
    }
    if (seen.has(option)) { ignored.push({ setting: word, reason: 'set earlier: mimalloc takes the first one in the environment' }); continue; }
    seen.add(option);
    apply(option, value, word, params, ignored);
  }
  for (const l of legacy) {
    if (seen.has(l.option)) { ignored.push({ setting: l.word, reason: `old name, MIMALLOC_${l.option.toUpperCase()} is set` }); continue; }
    seen.add(l.option);
    ignored.push({ setting: l.word, reason: `old name of MIMALLOC_${l.option.toUpperCase()} (mimalloc warns that it is deprecated, and applies it)` });
    apply(l.option, l.value, l.word, params, ignored);
  }
  return { params, ignored };
}

function apply(option: string, value: string, word: string, params: Record<string, number>, ignored: { setting: string; reason: string }[]): void {
  if (NO_EFFECT[option]) { ignored.push({ setting: word, reason: NO_EFFECT[option]! }); return; }
  const n = mimallocOptionValue(value);
  if (n === undefined) {
    ignored.push({ setting: word, reason: 'mimalloc refuses the value ("has an invalid value") and keeps its default' });
    return;
  }
  if (FLAGS.has(option)) {
    params[MODELLED[option]!] = n !== 0 ? 1 : 0; // mi_option_is_enabled: any value but 0
    return;
  }
  if (n < 0) {
    // mimalloc takes it (a deadline already past: decommit at the next chance rather than at once).
    throw new UsageError(`--env ${word}: negative delays are not modelled by the mimalloc policy`);
  }
  params[MODELLED[option]!] = n;
}
