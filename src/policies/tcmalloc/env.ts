// tcmalloc settings as people set them in production (the process environment), read the way
// gperftools 2.10 reads them, turned into the tcmalloc policy's parameters.
//   TCMALLOC_RELEASE_RATE                  strtod (page_heap.cc EnvToDouble), default 1.0
//   TCMALLOC_AGGRESSIVE_DECOMMIT           first character t, T, y, Y, 1 or an empty value = on
//                                          (commandlineflags.h StringToBool), default off
//   TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES  strtoll, then kept within 512 KiB .. 1 GiB
//                                          (thread_cache.cc set_overall_thread_cache_size)
//   TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD  only prints reports to stderr: ignored, with a note
// Any other name is refused: heapsim would silently model something else than what the user ran.
import { UsageError } from '../../errors.js';
import type { EnvReading } from '../kit/spec.js';

const KiB = 1024;
const MIN_THREAD_CACHE_BYTES = 512 * KiB;   // common.h: kMinThreadCacheSize
const MAX_OVERALL_CACHE_BYTES = 1 << 30;    // thread_cache.cc: "Limit to 1GB"

export const TCMALLOC_ENV_NAMES = [
  'TCMALLOC_RELEASE_RATE', 'TCMALLOC_AGGRESSIVE_DECOMMIT', 'TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES',
  'TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD',
] as const;


/** The longest prefix strtod(3) reads as a decimal number or infinity; undefined when none. */
function strtodPrefix(text: string): { value: number; used: string } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/i.exec(text);
  if (!m) return undefined;
  const body = m[2]!.toLowerCase();
  const sign = m[1] === '-' ? -1 : 1;
  const value = body.startsWith('inf') ? sign * Infinity : body === 'nan' ? NaN : sign * Number(body);
  return { value, used: m[0] };
}

/** The prefix strtoll(3, base 10) reads, saturating like it; undefined when there is no digit. */
function strtollPrefix(text: string): { value: number; used: string } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(text);
  if (!m) return undefined;
  const v = BigInt(m[1] === '-' ? `-${m[2]}` : m[2]!);
  const max = (1n << 63n) - 1n;
  const clamped = v > max ? max : v < -max - 1n ? -max - 1n : v;
  return { value: Number(clamped), used: m[0] };
}

/**
 * Reads `NAME=value` lines (or several `--env` texts joined by newlines): the tcmalloc parameters,
 * and what of the text had no effect (trailing characters no number reader takes, values the
 * library clamps, settings that change nothing heapsim models), each with the reason. `where`
 * names the source in messages (e.g. `--env`).
 */
export function parseTcmallocEnv(text: string, where = '--env'): EnvReading {
  const params: Record<string, number> = {};
  const ignored: EnvReading['ignored'] = [];
  const note = (setting: string, reason: string): void => { ignored.push({ setting, reason }); };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const at = `${where} line ${i + 1}`;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UsageError(`${at}: expected NAME=value, got '${line}'`);
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1);
    switch (name) {
      case 'TCMALLOC_RELEASE_RATE': {
        const r = strtodPrefix(value);
        if (r && Number.isNaN(r.value)) throw new UsageError(`${at}: TCMALLOC_RELEASE_RATE=${value} is not a number heapsim can model`);
        let rate = r ? r.value : 0;
        if (!r) note(`${name}=${value}`, 'no number at the start: tcmalloc reads 0, release disabled');
        else if (r.used.length < value.length) note(`${name}=${value}`, `the characters after '${r.used.trim()}': tcmalloc reads the number at the start, ${rate}`);
        if (rate < 0) {
          note(`${name}=${value}`, 'a rate of 1e-6 or less disables release: read as 0');
          rate = 0;
        }
        params.release_rate = rate;
        break;
      }
      case 'TCMALLOC_AGGRESSIVE_DECOMMIT': {
        const on = value.length === 0 || 'tTyY1'.includes(value[0]!);
        params.aggressive_decommit = on ? 1 : 0;
        if (value.length > 1) note(`${name}=${value}`, `all but the first character: tcmalloc reads '${value[0]}' as ${on ? 'on' : 'off'} (t, T, y, Y, 1 or an empty value is on)`);
        break;
      }
      case 'TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES': {
        const r = strtollPrefix(value);
        let bytes = r ? r.value : 0;
        if (bytes < 0) bytes = MAX_OVERALL_CACHE_BYTES; // a negative long long becomes a huge size_t
        const kept = Math.min(Math.max(bytes, MIN_THREAD_CACHE_BYTES), MAX_OVERALL_CACHE_BYTES);
        if (!r) note(`${name}=${value}`, `no number at the start: tcmalloc reads 0 and keeps the ${MIN_THREAD_CACHE_BYTES}-byte minimum`);
        else if (r.used.length < value.length) note(`${name}=${value}`, `the characters after '${r.used.trim()}': tcmalloc reads the number at the start`);
        if (r && kept !== r.value) note(`${name}=${value}`, `tcmalloc keeps the budget within ${MIN_THREAD_CACHE_BYTES} .. ${MAX_OVERALL_CACHE_BYTES} bytes: ${kept}`);
        params.max_total_thread_cache_bytes = kept;
        break;
      }
      case 'TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD':
        note(`${name}=${value}`, 'it only makes tcmalloc print large allocations to stderr; it changes no placement');
        break;
      default:
        throw new UsageError(`${at}: '${name}' is not a tcmalloc setting heapsim models (known: ${TCMALLOC_ENV_NAMES.join(', ')})`);
    }
  });
  return { params, ignored };
}
