// Converting a trace to .hst (or to heapsim text) in one streaming pass. The output is written to
// a temporary file beside the target and renamed at the end (src/io/safe-output.ts), so a failed
// or interrupted conversion leaves no half-written trace behind and the target as it was.
import type { FormatName } from './events.js';
import { HST_EVENT_COUNT_OFFSET, HstParser, HstWriter, hstFinalHeaderBytes } from './formats/hst.js';
import { TextWriter } from './formats/text.js';
import { openTrace, type OpenOptions } from './read.js';
import { replayStatsOf, type ReplayStats } from './replay.js';
import { SafeOutput, checkOutputTarget } from '../io/safe-output.js';

export type OutputFormat = 'hst' | 'text';

export interface ConvertOptions extends OpenOptions {
  /** Output format; default from the output name (`.txt`/`.txt.gz` → text, anything else → hst). */
  to?: OutputFormat;
  onProgress?: (events: number, bytesRead: number, fileBytes: number) => void;
}

export interface ConvertResult {
  to: OutputFormat;
  gzip: boolean;
  stats: ReplayStats;
}

export function outputFormatFor(outPath: string): OutputFormat {
  return /\.txt(\.gz)?$/i.test(outPath) ? 'text' : 'hst';
}

export async function convertTrace(inPath: string, outPath: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const to = options.to ?? outputFormatFor(outPath);
  const gzip = /\.gz$/i.test(outPath);
  await checkOutputTarget(outPath); // before reading anything: a refused target costs nothing
  const input = await openTrace(inPath, null, options);
  const ledger = input.ledger;
  // .hst inputs keep the format they were converted from; others name themselves.
  const sourceOf = (): FormatName | 'unknown' => input.parser instanceof HstParser ? input.parser.sourceFormat : input.format;
  const out = await SafeOutput.open(outPath, { gzip });
  try {
    const writer = to === 'hst' ? new HstWriter(ledger, sourceOf) : new TextWriter(ledger, sourceOf);
    ledger.out = writer;
    const flush = async (): Promise<void> => {
      if (writer instanceof HstWriter) for (const b of writer.take()) await out.write(b);
      else await out.write(writer.take());
    };
    for await (const chunk of input.chunks) {
      input.parser.push(chunk);
      await flush();
      options.onProgress?.(ledger.events, input.bytesRead(), input.fileBytes);
    }
    input.parser.finish();
    if (writer instanceof HstWriter) writer.end();
    await flush();
    if (writer instanceof HstWriter) await out.patch(HST_EVENT_COUNT_OFFSET, hstFinalHeaderBytes(writer));
    await out.commit();
  } finally {
    await out.abort();
  }
  return { to, gzip, stats: replayStatsOf(input, ledger, true) };
}
