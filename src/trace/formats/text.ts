// heapsim's line-oriented text form, for humans and tests. One event per line, ids explicit:
//
//   #heapsim-trace 1                first line (how the format is recognised)
//   # anything                      comment
//   a ID SIZE [@CALLER]             malloc
//   c ID SIZE [@CALLER]             calloc (SIZE = count × element size)
//   m ID SIZE ALIGN [@CALLER]       aligned allocation
//   r ID SIZE [@CALLER]             realloc of a live block; SIZE 0 frees it (glibc semantics); an id
//                                   never seen before is an untraced realloc (as `u`)
//   u ID SIZE [@CALLER]             untraced realloc: a realloc of a block the trace never allocated;
//                                   ID becomes a block of SIZE (one event)
//   f ID                            free
//   i ID                            implicit free: the block's address was handed out again (not an event)
//   x REASON                        an allocator call that produced no operation (unmatched-free, …)
//   mark LABEL                      labelled checkpoint (LABEL is the rest of the line)
//   tick N                          simulated time passes
//   thread N                        following events come from thread N
//   thread-end N                    thread N has exited (its allocator caches are given back)
//
// An allocation into an id that is still live frees the older block first (an implicit free).
// Tokens are separated by spaces or tabs. Writing this form from any trace and reading it back
// gives the same events; `convert` turns it into .hst and back without loss.
import {
  NO_CALLER, SKIP_DOUBLE_FREE, SKIP_REASON_NAMES, SKIP_UNMATCHED_FREE,
  powerOfTwoAlignment, type EventSink,
} from '../events.js';
import { MAX_BLOCK_ID, type Ledger } from '../ledger.js';
import { LineSplitter, MalformedPolicy, type LineHandler } from '../lines.js';
import { ABOVE_U64, asCount, decimalText, isBadNumber } from '../numbers.js';
import type { ParserContext, TraceParser } from './parser.js';

export const TEXT_MAGIC = '#heapsim-trace';
const TEXT_VERSION = 1;
const CALLER_SIGIL = '@';
const WHITESPACE = /[ \t]+/;
/** Ticks and thread ids must be exact JavaScript numbers. */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

export class TextParser implements TraceParser, LineHandler {
  private readonly splitter: LineSplitter;
  private readonly ledger: Ledger;
  /** Why the last line failed, for the error message. */
  why = '';
  /** Set by unsigned() when a token is digits too large for 64 bits. */
  private overflow = false;

  constructor(ctx: ParserContext) {
    this.ledger = ctx.ledger;
    this.splitter = new LineSplitter(this, new MalformedPolicy(ctx.file, 'heapsim text', ctx.lenient, ctx.ledger.input));
  }

  /**
   * A decimal token as an exact count: -1 when absent or not digits (or above 2^64-1, which also
   * sets `overflow`); Infinity for values of 2^53 and above (no size or id is that large).
   */
  private unsigned(token: string | undefined): number {
    if (token === undefined) return -1;
    const v = decimalText(token);
    if (v === ABOVE_U64) this.overflow = true;
    return isBadNumber(v) ? -1 : asCount(v);
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }
  finish(): void {
    this.splitter.finish();
  }

  private no(why: string): boolean {
    this.why = this.overflow ? 'a number does not fit 64 bits' : why;
    return false;
  }

  line(buf: Buffer, start: number, end: number): boolean {
    this.why = '';
    this.overflow = false;
    let text = buf.toString('utf8', start, end);
    if (text.trim() === '' || text.trimStart().startsWith('#')) return true;
    let caller = NO_CALLER;
    const at = text.indexOf(' ' + CALLER_SIGIL);
    const kind = text.trimStart().slice(0, text.trimStart().search(WHITESPACE) >>> 0);
    if (kind === 'mark') {
      const label = text.trimStart().slice('mark'.length).replace(/^[ \t]/, '');
      this.ledger.mark(this.ledger.internLabel(label));
      return true;
    }
    if (at >= 0 && (kind === 'a' || kind === 'c' || kind === 'm' || kind === 'r' || kind === 'u')) {
      caller = this.ledger.internCaller(text.slice(at + 2));
      text = text.slice(0, at);
    }
    const t = text.trim().split(WHITESPACE);
    const ledger = this.ledger;
    const id = this.unsigned(t[1]);
    switch (t[0]) {
      case 'a':
      case 'c':
      case 'm': {
        const size = this.unsigned(t[2]);
        const align = t[0] === 'm' ? this.unsigned(t[3]) : 0;
        if (id < 0 || size < 0 || align < 0 || t.length !== (t[0] === 'm' ? 4 : 3)) return this.no('expected: a|c ID SIZE, m ID SIZE ALIGN');
        if (id > MAX_BLOCK_ID) return this.no(`block id larger than ${MAX_BLOCK_ID}`);
        if (t[0] === 'a') ledger.alloc(id, size, caller);
        else if (t[0] === 'c') ledger.calloc(id, size, caller);
        else ledger.alignedAlloc(id, size, powerOfTwoAlignment(align), caller);
        return true;
      }
      case 'r': {
        const size = this.unsigned(t[2]);
        if (id < 0 || size < 0 || t.length !== 3) return this.no('expected: r ID SIZE');
        if (id > MAX_BLOCK_ID) return this.no(`block id larger than ${MAX_BLOCK_ID}`);
        if (ledger.isLive(id)) {
          if (size === 0) ledger.free(id);
          else ledger.realloc(id, size, caller);
        } else if (ledger.wasFreed(id)) ledger.skip(SKIP_DOUBLE_FREE);
        else if (size === 0) ledger.skip(SKIP_UNMATCHED_FREE);
        else ledger.untracedRealloc(id, size, caller);
        return true;
      }
      case 'u': {
        const size = this.unsigned(t[2]);
        if (id < 0 || size <= 0 || t.length !== 3) return this.no('expected: u ID SIZE (SIZE > 0)');
        if (id > MAX_BLOCK_ID) return this.no(`block id larger than ${MAX_BLOCK_ID}`);
        if (ledger.isLive(id)) return this.no(`untraced realloc of block ${id}, which is live`);
        ledger.untracedRealloc(id, size, caller);
        return true;
      }
      case 'i':
        if (id < 0 || t.length !== 2) return this.no('expected: i ID');
        if (!ledger.isLive(id)) return this.no(`implicit free of block ${id}, which is not live`);
        ledger.implicitFree(id);
        return true;
      case 'f':
        if (id < 0 || t.length !== 2) return this.no('expected: f ID');
        if (ledger.isLive(id)) ledger.free(id);
        else ledger.skip(ledger.wasFreed(id) ? SKIP_DOUBLE_FREE : SKIP_UNMATCHED_FREE);
        return true;
      case 'x': {
        const reason = SKIP_REASON_NAMES.indexOf(t[1] ?? '');
        if (reason < 0 || t.length !== 2) return this.no(`expected: x ${SKIP_REASON_NAMES.join('|')}`);
        ledger.skip(reason);
        return true;
      }
      case 'tick':
        if (id < 0 || t.length !== 2) return this.no('expected: tick N');
        if (id > MAX_EXACT) return this.no(`tick above ${MAX_EXACT}`);
        ledger.tick(id);
        return true;
      case 'thread':
        if (id < 0 || t.length !== 2) return this.no('expected: thread N');
        if (id > MAX_EXACT) return this.no(`thread id above ${MAX_EXACT}`);
        ledger.thread(id);
        return true;
      case 'thread-end':
        if (id < 0 || t.length !== 2) return this.no('expected: thread-end N');
        if (id > MAX_EXACT) return this.no(`thread id above ${MAX_EXACT}`);
        ledger.threadEnd(id);
        return true;
      default:
        return this.no('unknown event kind');
    }
  }
}

const TEXT_FLUSH_LINES = 4096;

/** Writes events in the text form; `take()` returns what was produced since the last call. */
export class TextWriter implements EventSink {
  private lines: string[] = [];
  private readonly done: string[] = [];

  private begun = false;

  /** `sourceFormat` is asked for when the first line is written. */
  constructor(private readonly ledger: Ledger, private readonly sourceFormat: () => string = () => 'unknown') {}

  private header(): void {
    this.begun = true;
    this.lines.push(`${TEXT_MAGIC} ${TEXT_VERSION}`, `# converted by heapsim from ${this.sourceFormat()}`);
  }

  private put(line: string): void {
    if (!this.begun) this.header();
    this.lines.push(line);
    if (this.lines.length >= TEXT_FLUSH_LINES) {
      this.done.push(this.lines.join('\n') + '\n');
      this.lines = [];
    }
  }

  private callerSuffix(caller: number): string {
    return caller === NO_CALLER ? '' : ` ${CALLER_SIGIL}${(this.ledger.callers[caller] ?? '').replace(/[\r\n]/g, ' ')}`;
  }

  alloc(id: number, sizeBytes: number, caller: number): void {
    this.put(`a ${id} ${sizeBytes}${this.callerSuffix(caller)}`);
  }
  calloc(id: number, sizeBytes: number, caller: number): void {
    this.put(`c ${id} ${sizeBytes}${this.callerSuffix(caller)}`);
  }
  alignedAlloc(id: number, sizeBytes: number, alignBytes: number, caller: number): void {
    this.put(`m ${id} ${sizeBytes} ${alignBytes}${this.callerSuffix(caller)}`);
  }
  realloc(id: number, sizeBytes: number, caller: number): void {
    this.put(`r ${id} ${sizeBytes}${this.callerSuffix(caller)}`);
  }
  untracedRealloc(id: number, sizeBytes: number, caller: number): void {
    this.put(`u ${id} ${sizeBytes}${this.callerSuffix(caller)}`);
  }
  free(id: number): void {
    this.put(`f ${id}`);
  }
  implicitFree(id: number): void {
    this.put(`i ${id}`);
  }
  skip(reason: number): void {
    this.put(`x ${SKIP_REASON_NAMES[reason]}`);
  }
  mark(label: number): void {
    this.put(`mark ${(this.ledger.labels[label] ?? '').replace(/[\r\n]/g, ' ')}`);
  }
  tick(delta: number): void {
    this.put(`tick ${delta}`);
  }
  thread(tid: number): void {
    this.put(`thread ${tid}`);
  }
  threadEnd(tid: number): void {
    this.put(`thread-end ${tid}`);
  }

  take(): string {
    if (!this.begun) this.header();
    const out = this.done.splice(0).join('') + (this.lines.length > 0 ? this.lines.join('\n') + '\n' : '');
    this.lines = [];
    return out;
  }
}
