// How heapsim values cross a thread boundary through comlink. Imported (for its side effect) by
// every module that talks to a worker, on both sides of the channel:
//
// - An OpBuffer travels as { words, length, capacity } with `words.buffer` in the transfer list, so
//   its memory moves to the receiver (the sender's buffer is detached: length 0 afterwards).
// - Errors keep their class: InputError / UsageError (one-line user errors, exit code 2) and
//   EngineTrapError arrive as the same classes with the same fields, so the CLI treats an error
//   thrown in a worker exactly like one thrown in its own thread.
import { transferHandlers, type TransferHandler } from 'comlink';
import { OpBuffer } from '../engine/ops.js';
import { EngineStatusError, EngineTrapError, InputError, UsageError } from '../errors.js';

interface WireOpBuffer {
  words: Uint32Array;
  length: number;
  capacity: number;
}

const opBufferHandler: TransferHandler<OpBuffer, WireOpBuffer> = {
  canHandle: (value: unknown): value is OpBuffer => value instanceof OpBuffer,
  serialize: (ops) => [{ words: ops.words, length: ops.length, capacity: ops.capacity }, [ops.words.buffer]],
  deserialize: (wire) => {
    const ops = new OpBuffer(wire.capacity, wire.words);
    ops.length = wire.length;
    return ops;
  },
};

interface WireError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  line?: number;
  batch?: number;
  op?: number;
  status?: number;
  statusName?: string;
}

/** What comlink hands the 'throw' handler: the thrown value inside a marked wrapper. */
interface ThrownValue { value: unknown }

// comlink's stock 'throw' handler recognises its marked wrapper (the marker symbol is private to
// comlink); ours reuses that test and replaces only how the error is written and revived.
const stock = transferHandlers.get('throw');
if (!stock) throw new Error('comlink has no \'throw\' transfer handler (comlink version changed?)');

const throwHandler: TransferHandler<ThrownValue, { isError: boolean; value: unknown }> = {
  canHandle: (value: unknown): value is ThrownValue => stock.canHandle(value),
  serialize: ({ value }) => {
    if (!(value instanceof Error)) return [{ isError: false, value }, []];
    const wire: WireError = { name: value.name, message: value.message, stack: value.stack };
    if (value instanceof InputError) { wire.file = value.file; wire.line = value.line; }
    if (value instanceof EngineTrapError) { wire.batch = value.batch; wire.op = value.op; }
    if (value instanceof EngineStatusError) { wire.status = value.status; wire.statusName = value.statusName; }
    return [{ isError: true, value: wire }, []];
  },
  deserialize: (wire) => {
    if (!wire.isError) throw wire.value;
    throw reviveError(wire.value as WireError);
  },
};

/** Rebuilds an error sent by throwHandler with its original class where it is one of ours. */
export function reviveError(w: WireError): Error {
  let err: Error;
  switch (w.name) {
    case 'UsageError': err = new UsageError(w.message); break;
    case 'InputError': err = new InputError(w.message, w.file, w.line); break;
    case 'EngineTrapError': {
      // The constructor prefixes "engine trap in batch …"; keep the message exactly as it was.
      err = new EngineTrapError('', w.batch ?? 0, w.op ?? 0);
      err.message = w.message;
      break;
    }
    case 'EngineStatusError': {
      err = new EngineStatusError('', w.status ?? 0, w.statusName ?? '');
      err.message = w.message;
      break;
    }
    default: err = new Error(w.message); err.name = w.name;
  }
  if (w.stack) err.stack = w.stack;
  return err;
}

transferHandlers.set('opbuffer', opBufferHandler as TransferHandler<unknown, unknown>);
transferHandlers.set('throw', throwHandler as TransferHandler<unknown, unknown>);
