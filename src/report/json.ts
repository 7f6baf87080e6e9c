// The JSON text of a run: the document with its verdict (runWorkload puts it in `diagnosis`), as
// `heapsim run --json` prints it and the playground downloads it.
import type { RunDocument } from './types.js';

export function runDocumentJson(doc: RunDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
