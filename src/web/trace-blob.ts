// A trace in a Blob (a File the user dropped on the page) as a TraceStream: read through
// Blob.stream() in the browser's own chunks, never as a whole, and gunzipped with
// DecompressionStream when it starts with gzip's magic bytes.
import { InputError } from '../errors.js';
import type { TraceStream } from '../trace/read.js';

const GZIP_MAGIC = [0x1f, 0x8b];

export async function blobTraceStream(blob: Blob, name: string): Promise<TraceStream> {
  const magic = new Uint8Array(await blob.slice(0, GZIP_MAGIC.length).arrayBuffer());
  const gzip = magic.length === GZIP_MAGIC.length && magic.every((b, i) => b === GZIP_MAGIC[i]);
  let consumed = 0;
  const counted = blob.stream().pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      consumed += chunk.byteLength;
      controller.enqueue(chunk);
    },
  }));
  const content = gzip ? counted.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>) : counted;
  const reader = content.getReader();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          throw gzip ? new InputError(`corrupt or truncated gzip data (${(err as Error).message})`, name) : err;
        }
        if (r.done) return;
        yield r.value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  return {
    name,
    gzip,
    sourceBytes: blob.size,
    bytesRead: () => consumed,
    chunks: chunks(),
    cancel: () => { void reader.cancel().catch(() => undefined); },
  };
}
