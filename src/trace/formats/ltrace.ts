// ltrace output of allocator calls (what villoc reads), e.g. from
// `ltrace -f -e malloc+calloc+realloc+free+memalign+aligned_alloc ./prog`:
//
//   [pid 4195] prog->malloc(10)                        = 0x56549061f2a0
//   [pid 4197] prog->malloc(100 <unfinished ...>
//   [pid 4196] prog->free(0x7ff4b4000b70)              = <void>
//   [pid 4197] <... malloc resumed> )                  = 0x7ff4ac000b70
//   [pid 4196] +++ exited (status 0) +++
//
// Optional pieces before the call: `[pid N] ` or `N ` (with -f / -o), a timestamp (-t, -tt,
// -ttt, -r; it becomes a tick of the microseconds elapsed) and `[0xADDR] ` (-i); `lib->` before
// the name. A call split by another thread is
// one event: a free takes effect at its call line, anything that returns a pointer at the line
// that shows the result. Without prototypes ltrace prints extra arguments; only the leading ones
// are read. posix_memalign's result goes through its first argument, which ltrace does not show,
// so those calls are counted as events with an unknown result.
import { AddressMapper } from '../address-map.js';
import { SKIP_UNKNOWN_RESULT } from '../events.js';
import { LineSplitter, MalformedPolicy, type LineHandler } from '../lines.js';
import { ALLOCATOR_CALLS, UNKNOWN_RESULT, applyCall, isFreeLike, parseValue, type CallShape } from './calls.js';
import { isBadNumber, numberProblem, safeDecimal } from '../numbers.js';
import type { ParserContext, TraceParser } from './parser.js';

const LTRACE_CALLS = new Map<string, CallShape>([...ALLOCATOR_CALLS, ['posix_memalign', { kind: 'no-result' }]]);

const PID_BRACKET = /^\[pid (\d+)\]\s+/;
const PID_BARE = /^(\d+)\s+(?=\S)/;
const CLOCK_TIMESTAMP = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s+/; // -t, -tt
const SECONDS_TIMESTAMP = /^(\d+)\.(\d+)\s+/;                         // -ttt (epoch), -r (relative)
const MICROS_PER_SECOND = 1_000_000;
const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;
const SECONDS_PER_DAY = 86_400;
/** -ttt prints seconds since the epoch, -r seconds since the previous line: tell them apart by size. */
const EPOCH_SECONDS_FLOOR = 1e8;
const MICRO_DIGITS = 6;
const NO_TIME = -1;
const INSTRUCTION_POINTER = /^\[(?:0x[0-9a-f]+|\(nil\))\]\s+/i;
const RESUMED = /^<\.\.\. ([^\s>]+) resumed>\s?(.*)$/;
const CALL = /^(?:[^\s(]+->)?([^\s(]+)\((.*)$/;
const UNFINISHED = '<unfinished ...>';
const NO_RETURN = '<no return ...>';
const CLOSE_PAREN = ')';
const EQUALS = '=';
const NO_THREAD = 0;

interface Pending {
  name: string;
  args: string;
}

export class LtraceParser implements TraceParser, LineHandler {
  private readonly mapper: AddressMapper;
  private readonly splitter: LineSplitter;
  /** Calls split by another thread, by thread id, waiting for their `resumed` line. */
  private readonly pending = new Map<number, Pending>();
  private currentThread = -1;
  /** Time of the previous timestamped line, microseconds. */
  private lastMicros = NO_TIME;

  constructor(private readonly ctx: ParserContext) {
    this.mapper = new AddressMapper(ctx.ledger);
    this.splitter = new LineSplitter(this, new MalformedPolicy(ctx.file, 'ltrace', ctx.lenient, ctx.ledger.input));
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  finish(): void {
    this.splitter.finish();
    // Calls that never returned before the trace ended: events with no known result. A pending
    // free has already been applied at its call line.
    for (const p of this.pending.values()) {
      if (!isFreeLike(p.name)) this.mapper.skip(SKIP_UNKNOWN_RESULT);
    }
    this.pending.clear();
  }

  private ignored(): boolean {
    this.ctx.ledger.input.ignoredLines++;
    return true;
  }

  /** Notes the thread of the next event; lines without a pid (no -f) name no thread. */
  private thread(tid: number): void {
    if (tid !== NO_THREAD && tid !== this.currentThread) {
      this.currentThread = tid;
      this.ctx.ledger.thread(tid);
    }
  }

  /**
   * Turns an ltrace timestamp into a tick of the microseconds since the previous one (the tick
   * precedes the line's event). Clock times wrap at midnight.
   */
  private time(m: RegExpExecArray): boolean {
    const fraction = (digits: string | undefined): number => digits === undefined ? 0 : Number(digits.slice(0, MICRO_DIGITS).padEnd(MICRO_DIGITS, '0'));
    let delta: number;
    if (m.length === 5) {
      const seconds = Number(m[1]) * SECONDS_PER_HOUR + Number(m[2]) * SECONDS_PER_MINUTE + Number(m[3]);
      const micros = seconds * MICROS_PER_SECOND + fraction(m[4]);
      delta = this.lastMicros === NO_TIME ? 0 : micros - this.lastMicros;
      if (delta < 0) delta += SECONDS_PER_DAY * MICROS_PER_SECOND;
      this.lastMicros = micros;
    } else {
      const seconds = safeDecimal(m[1]!);
      const micros = seconds * MICROS_PER_SECOND + fraction(m[2]);
      if (seconds < 0 || micros > Number.MAX_SAFE_INTEGER) return false;
      if (seconds < EPOCH_SECONDS_FLOOR) delta = micros; // relative (-r)
      else {
        delta = this.lastMicros === NO_TIME ? 0 : Math.max(0, micros - this.lastMicros);
        this.lastMicros = micros;
      }
    }
    if (delta > 0) this.ctx.ledger.tick(delta);
    return true;
  }

  /**
   * Applies a complete call: `rest` is "args) = result" or "args) <no return ...>". Parsed by
   * scanning from the right (no backtracking regex: linear in the line's length whatever its spaces).
   */
  private complete(shape: CallShape, argsAndResult: string): boolean {
    const rest = argsAndResult.trimEnd();
    if (rest.endsWith(NO_RETURN)) {
      let args = rest.slice(0, rest.length - NO_RETURN.length).trimEnd();
      if (args.endsWith(CLOSE_PAREN)) args = args.slice(0, -1);
      return applyCall(this.mapper, shape, args.split(','), UNKNOWN_RESULT);
    }
    // "args) = result": the result follows the last `=`, the arguments end at the `)` before it.
    const eq = rest.lastIndexOf(EQUALS);
    if (eq < 0) return false;
    const resultText = rest.slice(eq + 1).trim();
    const head = rest.slice(0, eq).trimEnd();
    if (resultText === '' || /\s/.test(resultText) || !head.endsWith(CLOSE_PAREN)) return false;
    const result = shape.kind === 'free' || shape.kind === 'no-result' ? 0 : parseValue(resultText);
    if (isBadNumber(result)) {
      this.why = numberProblem(result, 'the result');
      return false;
    }
    return applyCall(this.mapper, shape, head.slice(0, -1).split(','), result);
  }

  why = '';

  line(buf: Buffer, start: number, end: number): boolean {
    this.why = '';
    let s = buf.toString('latin1', start, end).trim();
    if (s === '') return true;
    let tid = NO_THREAD;
    let m = PID_BRACKET.exec(s) ?? PID_BARE.exec(s);
    if (m !== null) {
      tid = safeDecimal(m[1]!);
      if (tid < 0) {
        this.why = 'process id above 2^53-1';
        return false;
      }
      s = s.slice(m[0].length);
    }
    m = CLOCK_TIMESTAMP.exec(s) ?? SECONDS_TIMESTAMP.exec(s);
    if (m !== null) {
      if (!this.time(m)) {
        this.why = 'timestamp too large';
        return false;
      }
      s = s.slice(m[0].length);
    }
    m = INSTRUCTION_POINTER.exec(s);
    if (m !== null) s = s.slice(m[0].length);
    if (s.startsWith('+++') || s.startsWith('---')) return this.ignored(); // exits and signals
    m = RESUMED.exec(s);
    if (m !== null) {
      const p = this.pending.get(tid);
      const name = m[1]!;
      if (p === undefined || p.name !== name) return LTRACE_CALLS.has(name) ? false : this.ignored();
      this.pending.delete(tid);
      const shape = LTRACE_CALLS.get(name)!;
      if (shape.kind === 'free') return true; // applied at its call line
      this.thread(tid);
      return this.complete(shape, p.args + m[2]!);
    }
    m = CALL.exec(s);
    if (m === null) return false;
    const name = m[1]!;
    const shape = LTRACE_CALLS.get(name);
    let rest = m[2]!;
    const trimmed = rest.trimEnd();
    const unfinished = trimmed.endsWith(UNFINISHED);
    if (unfinished) rest = trimmed.slice(0, trimmed.length - UNFINISHED.length).trimEnd();
    if (shape === undefined) {
      if (unfinished) this.pending.set(tid, { name, args: rest });
      return this.ignored();
    }
    if (unfinished) {
      this.pending.set(tid, { name, args: rest });
      if (shape.kind !== 'free') return true;
      this.thread(tid);
      return applyCall(this.mapper, shape, rest.split(','), 0);
    }
    this.thread(tid);
    return this.complete(shape, rest);
  }
}
