// Shared option handling for subcommands: node:util parseArgs (strict) with one-line errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { nameMap, quoted } from '../names.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(command: string, args: string[], options: OptionSpec, allowPositionals = true): Parsed {
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new UsageError(`${shortened(msg.replace(/\. To specify a positional argument.*$/, ''))} (see heapsim ${command} --help)`);
  }
}

export function intOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--${name} wants a non-negative integer, got ${quoted(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${quoted(value)}`);
  return n;
}

/** `key=value` pairs from repeated --set options. */
export function keyValues(values: string[] | undefined): Record<string, string> {
  const out = nameMap<string>(); // `--set __proto__=1` is a key like any other (and then an unknown parameter)
  for (const kv of values ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--set wants key=value, got ${quoted(kv)}`);
    out[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
  }
  return out;
}

export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${quoted(value)}`);
  return value as T;
}

/** node:util's message quotes the offending argument in full; keep the line short. */
function shortened(message: string): string {
  return message.replace(/'([^']{200})[^']+'/g, "'$1…'");
}
