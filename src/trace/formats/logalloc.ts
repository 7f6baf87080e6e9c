// Mozilla logalloc text: one line per call, `<pid> [<tid>] <function>(<args>)[=<result>]`, e.g.
//
//   18545 18545 malloc(32)=0x7f90495120e0
//   18545 18545 calloc(1,148)=0x7f9049537480
//   18545 18545 realloc(0x7f90495120e0,64)=0x7f9049536680
//   18545 18545 posix_memalign(256,240)=0x7f9049583300
//   18545 18545 jemalloc_stats()
//   18545 18545 free(0x7f9049536680)
//
// Sizes are decimal, pointers `0x…` (NULL is `0x0`). Older logs have no tid column. Logs
// preprocessed by logalloc_munge.py name blocks `#N` instead of addresses; both are accepted.
// Like logalloc-replay, only the first process in the log is replayed: lines of other pids are
// counted and reported. `jemalloc_stats()` (a statistics request) becomes a mark.
import { AddressMapper } from '../address-map.js';
import { LineSplitter, MalformedPolicy, type LineHandler } from '../lines.js';
import { ALLOCATOR_CALLS, applyCall, parseValue, type CallShape } from './calls.js';
import { decimalText, isBadNumber, numberProblem, safeDecimal } from '../numbers.js';
import type { ParserContext, TraceParser } from './parser.js';

const LOGALLOC_CALLS = new Map<string, CallShape>([...ALLOCATOR_CALLS, ['posix_memalign', { kind: 'aligned', align: 0, size: 1 }]]);
const STATS_CALL = 'jemalloc_stats';
const LINE = /^(\d+)\s+(?:(\d+)\s+)?([A-Za-z_][A-Za-z0-9_]*)\(([^)]*)\)\s*(?:=\s*(\S+))?$/;
const SLOT = /^#(\d+)$/;
const NO_PID = -1;

/** `#N` slots of munged logs become keys N + 1 (0 stays NULL); addresses are kept as they are. */
function key(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = SLOT.exec(text.trim());
  if (m === null) return text;
  const slot = decimalText(m[1]!);
  return isBadNumber(slot) ? text : String(BigInt(slot) + 1n); // exact for any 64-bit slot
}

export class LogallocParser implements TraceParser, LineHandler {
  private readonly mapper: AddressMapper;
  private readonly splitter: LineSplitter;
  private firstPid = NO_PID;
  private currentThread = -1;
  private statsLabel = -1;

  constructor(private readonly ctx: ParserContext) {
    this.mapper = new AddressMapper(ctx.ledger);
    this.splitter = new LineSplitter(this, new MalformedPolicy(ctx.file, 'logalloc', ctx.lenient, ctx.ledger.input));
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }
  finish(): void {
    this.splitter.finish();
  }

  why = '';

  line(buf: Buffer, start: number, end: number): boolean {
    this.why = '';
    const s = buf.toString('latin1', start, end).trim();
    if (s === '') return true;
    const m = LINE.exec(s);
    if (m === null) return false;
    const pid = safeDecimal(m[1]!);
    const tid = m[2] === undefined ? pid : safeDecimal(m[2]);
    if (pid < 0 || tid < 0) {
      this.why = 'process or thread id above 2^53-1';
      return false;
    }
    if (this.firstPid === NO_PID) this.firstPid = pid;
    const ledger = this.ctx.ledger;
    if (pid !== this.firstPid) {
      ledger.input.otherProcessLines++;
      return true;
    }
    if (tid !== this.currentThread) {
      this.currentThread = tid;
      ledger.thread(tid);
    }
    const name = m[3]!;
    if (name === STATS_CALL) {
      if (this.statsLabel < 0) this.statsLabel = ledger.internLabel(STATS_CALL);
      ledger.mark(this.statsLabel);
      return true;
    }
    const shape = LOGALLOC_CALLS.get(name);
    if (shape === undefined) {
      ledger.input.ignoredLines++;
      return true;
    }
    const args = m[4] === '' ? [] : m[4]!.split(',').map((a) => key(a)!);
    if (shape.kind === 'free') return applyCall(this.mapper, shape, args, 0);
    const resultText = key(m[5]);
    if (resultText === undefined) return false;
    const result = parseValue(resultText);
    if (isBadNumber(result)) {
      this.why = numberProblem(result, 'the result');
      return false;
    }
    return applyCall(this.mapper, shape, args, result);
  }
}
