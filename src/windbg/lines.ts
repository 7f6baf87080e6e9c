// Input lines as the WinDbg parsers see them. Copy/paste from web pages, mail and terminals
// damages debugger output in predictable ways; this module undoes what can be undone without
// guessing: line endings, non-breaking and other Unicode spaces, tabs, and debugger prompts.

export interface SourceLine {
  /** 1-based line number in the file. */
  no: number;
  /** Normalized text: spaces only, no prompt, no line terminator, trimmed. */
  text: string;
  /** The command after a debugger prompt (`!heap -s` for `0:000> !heap -s`), if the line had one. */
  command?: string;
}

// U+00A0 no-break space (the seed's tables are full of them), U+2000–U+200A, U+202F, U+205F,
// U+3000, and the tab, all become one ordinary space.
const ODD_SPACES = /[\t\u00a0\u2000-\u200a\u202f\u205f\u3000\ufeff]/g;
// Zero-width characters that web pages leave behind.
const ZERO_WIDTH = /[\u200b-\u200d\u2060]/g;
// Debugger prompts: user mode `0:000>`, `0:027:x86>`, kernel `kd>` / `lkd>`, `1: kd>`.
const PROMPT = /^(?:\d+:\d+(?::[A-Za-z0-9]+)?|\d+:\s*kd|l?kd)>\s?/;

/** Splits text into normalized lines (CRLF, CR or LF endings). */
export function splitLines(text: string): SourceLine[] {
  const raw = text.split(/\r\n|\r|\n/);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((line, i) => {
    let t = line.replace(ZERO_WIDTH, '').replace(ODD_SPACES, ' ').trim();
    let command: string | undefined;
    const m = PROMPT.exec(t);
    if (m) {
      t = t.slice(m[0].length).trim();
      command = t;
    }
    return command === undefined ? { no: i + 1, text: t } : { no: i + 1, text: t, command };
  });
}

/** `[...]` or `[…]` (or a bare ellipsis) that stands for heaps left out of a pasted table. */
export function isEllipsis(text: string): boolean {
  return /^\[?\s*(?:\.{3,}|…)\s*\]?$/.test(text);
}

/** Words of a normalized line (runs of spaces collapse, so damaged spacing does not matter). */
export function words(text: string): string[] {
  return text.length === 0 ? [] : text.split(/ +/);
}
