// Name lookups in the registries (commands, workloads, profiles, architectures): only a record's
// own entries count, so a user's `constructor`, `__proto__` or `toString` is an unknown name like
// any other, never an inherited property of Object.prototype.

/** record[key] when `key` is one of the record's own entries, else undefined. */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** An empty object with no prototype, for maps keyed by user-given names. */
export function nameMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Longest user-given value quoted in an error message. */
const MAX_QUOTED_CHARS = 200;

/**
 * A user-given name or value for an error message: in single quotes, control characters escaped,
 * at most MAX_QUOTED_CHARS characters (then …), so a message stays one short line.
 */
export function quoted(value: string): string {
  const cut = value.length > MAX_QUOTED_CHARS;
  // eslint-disable-next-line no-control-regex
  const text = value.slice(0, MAX_QUOTED_CHARS).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `'${text}${cut ? '…' : ''}'`;
}

/**
 * A file path for an error message: as given, unless it is empty or begins or ends with white
 * space; then quoted, so the message shows where the path starts and ends.
 */
export function shownPath(path: string): string {
  return path === '' || /^\s|\s$/.test(path) ? quoted(path) : path;
}

/** A message as one line: line breaks and other control characters in names or paths it quotes are escaped. */
export function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
