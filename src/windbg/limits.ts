// Limits of the WinDbg reader (docs/windbg.md, "Limits"). They bound the work and the memory one
// input can cost: reading is streamed line by line, every line is looked at a bounded number of
// times, and what is kept grows with the tables found, not with the size of the file.

/** Longest line read. WinDbg prints lines of a few hundred characters; a longer line is refused. */
export const MAX_LINE_CHARS = 65_536;
/** Largest input file. A full `!address` listing of a large process is a few megabytes. */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;
/** Longest token that can be a number or a name in a table row; a longer one makes the row damaged. */
export const MAX_TOKEN_CHARS = 64;
/** Longest line that can be a table row or a section title; longer lines are prose. */
export const MAX_ROW_CHARS = 16_384;
/** Characters of input quoted in a message (the rest is replaced by an ellipsis). */
export const MAX_QUOTE_CHARS = 48;
/** Warnings kept per file (the rest are counted). */
export const MAX_KEPT_WARNINGS = 200;
/** Snapshots per file. */
export const MAX_SNAPSHOTS = 1_000;
/** Heaps in one `!heap -s` table, rows of one `!heap -stat` table, distinct names in one listing. */
export const MAX_TABLE_ROWS = 10_000;
/** Bytes read from the file at a time. */
export const READ_CHUNK_BYTES = 64 * 1024;

/** Input quoted for a message: at most MAX_QUOTE_CHARS characters, control characters shown as `?`. */
export function quote(text: string): string {
  const clipped = text.length > MAX_QUOTE_CHARS ? `${text.slice(0, MAX_QUOTE_CHARS - 1)}…` : text;
  return `'${clipped.replace(/[\u0000-\u001f\u007f]/g, '?')}'`;
}
