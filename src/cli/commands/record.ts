// heapsim record [-o FILE] [--format hst|text|mtrace] -- command args...: trace a program's
// allocations, every thread with its id, caller and time (hst, text), or with glibc's mtrace.
import type { Command, Io } from '../io.js';
import { parse } from '../options.js';
import { UsageError } from '../../errors.js';
import { RECORD_FORMATS, recordTrace, type RecordFormat } from '../../trace/record/record.js';
import { readTrace } from '../../trace/read.js';
import { replayStatsOf } from '../../trace/replay.js';
import { inputNotes } from '../../trace/summary.js';

const DEFAULT_OUTPUT = 'heapsim.hst';
/** Child trace files named in the summary; the rest are counted. */
const LISTED_CHILD_FILES = 5;

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string' },
} as const;

const HELP = `usage: heapsim record [-o FILE] [--format hst|text|mtrace] -- command [args...]

Runs the command with a small preload library (Linux, glibc 2.34 or later, a C compiler to build
it) that records every malloc, calloc, realloc, free and aligned allocation of every thread, with
the thread's id, the caller and the time, and writes it as heapsim's .hst (or text) trace; then
prints how many allocator events were captured. Thread exits are recorded too, so a replay flushes
a thread's caches when the real program did. The first process writes FILE; each child process
writes FILE.<pid>. The exit code is the program's.

options:
  -o, --output FILE   trace file to write (default ${DEFAULT_OUTPUT})
  --format NAME       hst (default), text, or mtrace (glibc's own tracing: one thread, no times);
                      without it a FILE ending in .txt is text and one ending in .mtrace is mtrace
  -h, --help          this text
`;

export const command: Command = {
  summary: "record a program's allocations (glibc mtrace)",
  async run(args: string[], io: Io): Promise<number> {
    const dashDash = args.indexOf('--');
    const own = dashDash < 0 ? args : args.slice(0, dashDash);
    const program = dashDash < 0 ? [] : args.slice(dashDash + 1);
    const { values, positionals } = parse('record', own, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length > 0 || program.length === 0) {
      throw new UsageError('record wants the command after --, e.g. heapsim record -o t.mtrace -- python3 -c "print(1)"');
    }
    const outPath = (values.output as string | undefined) ?? DEFAULT_OUTPUT;
    const formatName = values.format as string | undefined;
    if (formatName !== undefined && !(RECORD_FORMATS as readonly string[]).includes(formatName)) {
      throw new UsageError(`record --format: '${formatName}' is not one of ${RECORD_FORMATS.join(', ')}`);
    }
    const r = await recordTrace({ outPath, command: program, format: formatName as RecordFormat | undefined });
    const input = await readTrace(r.mainFile, null, { format: r.format, lenient: true });
    const stats = replayStatsOf(input, input.ledger);
    const threads = input.ledger.threadsSeen.size;
    io.stderr.write(`heapsim record: ${stats.events} events captured in ${r.mainFile}` +
      ` (${stats.allocs} allocs, ${stats.reallocs} reallocs, ${stats.frees} frees` +
      (threads > 1 ? `; ${threads} threads, ${input.ledger.threadEnds} exits` : '') + ')\n');
    for (const note of inputNotes(stats)) io.stderr.write(`  ${note}\n`);
    if (r.childFiles.length > 0) {
      const shown = r.childFiles.slice(0, LISTED_CHILD_FILES).join(', ');
      const more = r.childFiles.length > LISTED_CHILD_FILES ? ', …' : '';
      io.stderr.write(`  child processes wrote ${r.childFiles.length} more trace files (FILE.<pid>): ${shown}${more}\n`);
    }
    if (r.exitCode !== 0) io.stderr.write(`  the program exited with code ${r.exitCode}\n`);
    return r.exitCode;
  },
};
