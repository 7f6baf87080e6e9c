// heapsim record [-o FILE] -- command args...: trace a program's allocations with glibc's mtrace.
import type { Command, Io } from '../io.js';
import { parse } from '../options.js';
import { UsageError } from '../../errors.js';
import { recordTrace } from '../../trace/record/record.js';
import { readTrace } from '../../trace/read.js';
import { replayStatsOf } from '../../trace/replay.js';
import { inputNotes } from '../../trace/summary.js';

const DEFAULT_OUTPUT = 'heapsim.mtrace';
/** Child trace files named in the summary; the rest are counted. */
const LISTED_CHILD_FILES = 5;

const OPTIONS = {
  output: { type: 'string', short: 'o' },
} as const;

const HELP = `usage: heapsim record [-o FILE] -- command [args...]

Runs the command with glibc's malloc tracing (Linux, glibc 2.34 or later, a C compiler for the
small preload library that switches tracing on) and writes an mtrace file, then prints how many
allocator events were captured. The first process writes FILE; each child process writes
FILE.<pid>. The exit code is the program's.

options:
  -o, --output FILE   trace file to write (default ${DEFAULT_OUTPUT})
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
    const r = await recordTrace({ outPath, command: program });
    const input = await readTrace(r.mainFile, null, { format: 'mtrace', lenient: true });
    const stats = replayStatsOf(input, input.ledger);
    io.stderr.write(`heapsim record: ${stats.events} events captured in ${r.mainFile}` +
      ` (${stats.allocs} allocs, ${stats.reallocs} reallocs, ${stats.frees} frees)\n`);
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
