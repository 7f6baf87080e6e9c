// Input lines as the WinDbg readers see them. Copy/paste from web pages, mail and terminals
// damages debugger output in predictable ways; this module undoes what can be undone without
// guessing: Unicode spaces, tabs, zero-width characters, HTML entities and markup tags, Markdown
// quote markers, and debugger prompts. Every function here is linear in the line's length.
import { InputError } from '../errors.js';
import { MAX_LINE_CHARS, MAX_ROW_CHARS } from './limits.js';

export interface SourceLine {
  /** 1-based line number in the file. */
  no: number;
  /** Normalized text: single spaces inside, no prompt, no line terminator, trimmed. */
  text: string;
  /** The command after a debugger prompt (`!heap -s` for `0:000> !heap -s`), if the line had one. */
  command?: string;
  /** True when the line is longer than MAX_ROW_CHARS: prose (its text is left empty). */
  long?: boolean;
}

/** A pull source of lines with one line of lookahead. */
export interface LineSource {
  peek(): SourceLine | undefined;
  next(): SourceLine | undefined;
}

// U+00A0 no-break space (the seed's tables are full of them), U+2000–U+200A, U+202F, U+205F,
// U+3000, the BOM, and the tab all become one ordinary space.
const ODD_SPACES = /[\t\v\f\u00a0\u2000-\u200a\u202f\u205f\u3000\ufeff]/g;
// Zero-width characters that web pages leave behind (also as `&#8203;`).
const ZERO_WIDTH = /[\u200b-\u200d\u2060]/g;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ENTITY = /&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi;
const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['gt', '>'], ['lt', '<'], ['amp', '&'], ['nbsp', ' '], ['quot', '"'], ['apos', "'"], ['ensp', ' '], ['emsp', ' '], ['thinsp', ' '],
]);
// Markup tags of pages (never `<unknown>` or `<free>`, which WinDbg prints itself).
const TAG = /<\/?(?:p|pre|span|div|br|code|td|tr|th|table|tbody|thead|b|i|em|strong|font|a|li|ul|ol|tt|kbd|samp|blockquote|details|summary|h[1-6])\b[^<>]{0,500}>/gi;
// Debugger prompts: user mode `0:000>`, `0:027:x86>`, kernel `kd>` / `lkd>`, `1: kd>`.
const PROMPT = /^(?:\d+:\d+(?::[A-Za-z0-9]+)?|\d+:\s?kd|l?kd)>\s?/;

function decodeEntity(match: string, body: string): string {
  if (body[0] === '#') {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
  }
  return NAMED_ENTITIES.get(body.toLowerCase()) ?? match;
}

/** Normalizes one raw line (without its terminator). */
export function normalizeLine(raw: string, no: number): SourceLine {
  // Too long to be output of the debugger: prose, kept out of every table and title test.
  if (raw.length > MAX_ROW_CHARS) return { no, text: '', long: true };
  let t = raw;
  if (t.includes('&')) t = t.replace(ENTITY, decodeEntity);
  if (t.includes('<')) t = t.replace(TAG, ' ');
  // Printable ASCII has no odd or zero-width spaces: skip both scans for it (most lines).
  t = (PRINTABLE_ASCII.test(t) ? t : t.replace(ZERO_WIDTH, '').replace(ODD_SPACES, ' ')).trim();
  // Markdown quotes (`> text`, `>> text`), but not a `>` that is the whole line.
  if (t.startsWith('>')) t = t.replace(/^(?:>\s?)+/, '').trim();
  if (t.includes('  ')) t = t.replace(/ {2,}/g, ' ');
  const line: SourceLine = { no, text: t };
  const m = PROMPT.exec(t);
  if (m) {
    line.text = t.slice(m[0].length).trim();
    line.command = line.text;
  }
  return line;
}

/** `[...]`, `[…]`, `…`, `... [omitted]` or `… [omitted]`: rows left out of a paste. */
export function isEllipsis(text: string): boolean {
  return /^\[?\s*(?:\.{3,}|\u2026)\s*\]?(?:\s*\[omitted\])?$/i.test(text) || /^\[omitted\]$/i.test(text);
}

/** Words of a normalized line. */
export function words(text: string): string[] {
  return text.length === 0 ? [] : text.split(' ');
}

/** A line source over a string (lines split lazily, so the string is the only copy). */
export function stringLines(text: string, file = ''): LineSource {
  let pos = 0;
  let no = 0;
  const raw = (): string | undefined => {
    if (pos >= text.length) return undefined; // also: no empty line after a final terminator
    let end = pos;
    while (end < text.length && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
    if (end - pos > MAX_LINE_CHARS) {
      throw new InputError(`line is longer than ${MAX_LINE_CHARS} characters, the longest analyze reads (WinDbg prints a few hundred)`, file, no + 1);
    }
    const line = text.slice(pos, end);
    if (text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10) end++;
    pos = end + 1;
    return line;
  };
  return lineSource(raw, () => ++no);
}

/** A LineSource over a function that returns raw lines (undefined at the end). */
export function lineSource(raw: () => string | undefined, nextNo: () => number): LineSource {
  let ahead: SourceLine | undefined;
  let done = false;
  const fill = (): void => {
    if (ahead !== undefined || done) return;
    const r = raw();
    if (r === undefined) { done = true; return; }
    ahead = normalizeLine(r, nextNo());
  };
  return {
    peek() { fill(); return ahead; },
    next() { fill(); const l = ahead; ahead = undefined; return l; },
  };
}
