// Where in the program a quiet point is: the caller of the last allocator call at or before its
// event, for traces that record callers (heapsim record's .hst and text, logalloc). One pass over
// the trace with an event sink; events are counted as the engine counts them (every block call
// and every skipped call, not implicit frees, marks, ticks or thread switches).
import { openTrace } from '../trace/read.js';
import { NO_CALLER, type EventSink } from '../trace/events.js';
import type { FormatName } from '../trace/events.js';

/** For each event number asked, the caller of the last call with one at or before it (absent: none known). */
export async function callersAt(path: string, events: readonly number[], options: { format?: FormatName; lenient?: boolean } = {}): Promise<Map<number, string>> {
  const wanted = [...new Set(events)].sort((a, b) => a - b);
  const found = new Map<number, number>();
  let event = 0;
  let last = NO_CALLER;
  let next = 0;
  const passed = (): void => {
    while (next < wanted.length && wanted[next]! < event) {
      if (last !== NO_CALLER) found.set(wanted[next]!, last);
      next++;
    }
  };
  // Called before each event is counted: the targets it passes take the caller seen so far.
  const call = (caller: number): void => { event++; passed(); if (caller !== NO_CALLER) last = caller; };
  const sink: EventSink = {
    alloc: (_id, _s, caller) => call(caller),
    calloc: (_id, _s, caller) => call(caller),
    alignedAlloc: (_id, _s, _a, caller) => call(caller),
    realloc: (_id, _s, caller) => call(caller),
    untracedRealloc: (_id, _s, caller) => call(caller),
    free: () => call(NO_CALLER),
    implicitFree: () => undefined,
    skip: () => call(NO_CALLER),
    mark: () => undefined,
    tick: () => undefined,
    thread: () => undefined,
    threadEnd: () => undefined,
  };
  const input = await openTrace(path, sink, options);
  for await (const chunk of input.chunks) input.parser.push(chunk);
  input.parser.finish();
  event++;
  passed();
  const names = input.ledger.callers;
  return new Map([...found].map(([e, c]) => [e, names[c] ?? `caller ${c}`]));
}
