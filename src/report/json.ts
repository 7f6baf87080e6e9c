// The JSON text of a run document: what `heapsim run --json` prints and the playground downloads.
import type { RunDocument } from './types.js';

export function runDocumentJson(doc: RunDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
