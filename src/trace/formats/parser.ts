// What every format reader implements, and what it is given.
import type { Ledger } from '../ledger.js';
import type { TextWasm } from './text-wasm.js';

/** Consumes a trace's bytes chunk by chunk, sending events to the ledger as it goes. */
export interface TraceParser {
  push(chunk: Buffer): void;
  /** End of input: handles a final partial line or record, checks nothing was left open. */
  finish(): void;
}

export interface ParserContext {
  /** File name for messages. */
  file: string;
  /** Count malformed lines instead of failing on the first. */
  lenient: boolean;
  ledger: Ledger;
  /** The WASM fast path for text lines (mtrace), made for this ledger; absent: the JavaScript reader alone. */
  text?: TextWasm;
}
