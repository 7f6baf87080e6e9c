// The JSON text of a run: the document with its diagnosis, as `heapsim run --json` prints it and
// the playground downloads it.
import type { RunDocument } from './types.js';
import { diagnoseRun } from '../run/diagnose-run.js';

export function runDocumentJson(doc: RunDocument): string {
  return JSON.stringify({ ...doc, diagnosis: diagnoseRun(doc) }, null, 2) + '\n';
}
