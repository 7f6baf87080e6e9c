// Converting a trace to .hst (or to heapsim text) in one streaming pass. The output is written to
// a temporary file beside the target and renamed at the end, so a failed conversion leaves no
// half-written trace behind.
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import type { FormatName } from './events.js';
import { HstWriter } from './formats/hst.js';
import { TextWriter } from './formats/text.js';
import { HstParser } from './formats/hst.js';
import { openTrace, type OpenOptions } from './read.js';
import { replayStatsOf, type ReplayStats } from './replay.js';

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

async function write(stream: Writable, data: Buffer | string): Promise<void> {
  if (data.length > 0 && !stream.write(data)) await once(stream, 'drain');
}

export async function convertTrace(inPath: string, outPath: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const to = options.to ?? outputFormatFor(outPath);
  const gzip = /\.gz$/i.test(outPath);
  const tmp = `${outPath}.tmp-${process.pid}`;
  const input = await openTrace(inPath, null, options);
  const ledger = input.ledger;
  // .hst inputs keep the format they were converted from; others name themselves.
  const sourceOf = (): FormatName | 'unknown' => input.parser instanceof HstParser ? input.parser.sourceFormat : input.format;
  const file = createWriteStream(tmp);
  let sink: Writable = file;
  if (gzip) {
    sink = createGzip();
    sink.pipe(file);
  }
  let ok = false;
  try {
    const writer = to === 'hst' ? new HstWriter(ledger, sourceOf) : new TextWriter(ledger, sourceOf);
    ledger.out = writer;
    const flush = async (): Promise<void> => {
      if (writer instanceof HstWriter) for (const b of writer.take()) await write(sink, b);
      else await write(sink, writer.take());
    };
    for await (const chunk of input.chunks) {
      input.parser.push(chunk);
      await flush();
      options.onProgress?.(ledger.events, input.bytesRead(), input.fileBytes);
    }
    input.parser.finish();
    if (writer instanceof HstWriter) writer.end();
    await flush();
    sink.end();
    await once(file, 'close');
    await rename(tmp, outPath);
    ok = true;
  } finally {
    if (!ok) {
      // Let the stream finish opening/closing first, or the file could appear after the unlink.
      if (!file.closed) {
        const closed = once(file, 'close');
        file.destroy();
        await closed;
      }
      await unlink(tmp).catch(() => undefined);
    }
  }
  return { to, gzip, stats: replayStatsOf(input, ledger, true) };
}
