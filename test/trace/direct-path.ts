// Shared by the direct-path equivalence tests (hst-direct, text-direct) and the text reader tests:
// a byte string cut into chunks as a trace stream, and one run document per replay path.
import { expect } from 'vitest';
import { runDocumentJson } from '../../src/report/json.js';
import { runWorkload, type RunOptions } from '../../src/run/run.js';
import type { FormatName } from '../../src/trace/events.js';
import type { TraceStream } from '../../src/trace/read.js';
import { traceWorkload } from '../../src/trace/workload.js';

export type Path = 'direct' | 'batches';

/** A text trace's bytes as a stream cut at `cuts` (any order), optionally with a content-size hint. */
export function textStream(bytes: Buffer, cuts: readonly number[], contentBytesHint?: number): TraceStream {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...[...cuts].sort((a, b) => a - b), bytes.length]) {
    if (cut > from) pieces.push(Buffer.from(bytes.subarray(from, cut)));
    from = Math.max(from, cut);
  }
  return {
    name: 't.mtrace', gzip: false, sourceBytes: bytes.length, bytesRead: () => 0,
    ...(contentBytesHint === undefined ? {} : { contentBytesHint }),
    chunks: (async function* () { yield* pieces; })(),
  };
}

/**
 * The run document (JSON) of one path, or its error (with its own properties when `errorProps`);
 * `used` = the path the run took.
 */
export async function runDoc(stream: TraceStream, format: FormatName, lenient: boolean, o: RunOptions, path: Path, errorProps = false): Promise<{ out: string; used: Path }> {
  let used: Path = 'batches';
  try {
    const w = await traceWorkload(stream, { lenient, format, direct: path === 'direct' });
    if (path === 'direct') {
      expect(w.direct).toBeDefined();
      const run = w.direct!.run.bind(w.direct);
      w.direct = { instance: w.direct!.instance, build: w.direct!.build, run: (hooks) => { used = 'direct'; return run(hooks); } };
    } else {
      expect(w.direct).toBeUndefined();
    }
    return { out: runDocumentJson(await runWorkload(w, o)), used };
  } catch (err) {
    return { out: `error: ${(err as Error).message}${errorProps ? ` ${JSON.stringify(err)}` : ''}`, used };
  }
}

/** Characters shown either side of the first difference of two documents. */
const DIFF_CONTEXT = 300;

/**
 * Expects two run documents (or errors) equal. Documents run to megabytes, so a failure shows
 * where they part, DIFF_CONTEXT characters either side: a full diff of two such strings would
 * take the reporter minutes and look like a hang.
 */
export function expectSameDocument(actual: string, expected: string): void {
  if (actual === expected) return;
  let at = 0;
  while (actual[at] === expected[at]) at++;
  const from = Math.max(0, at - DIFF_CONTEXT);
  expect(actual.slice(from, at + DIFF_CONTEXT), `documents part at character ${at}`).toBe(expected.slice(from, at + DIFF_CONTEXT));
}
