// heapsim's command line as a function: main(argv, io) resolves to an exit code and never exits
// the process, so tests and embedders call it directly (the bin shim only sets process.exitCode).
import { COMMANDS } from './commands/index.js';
import { EngineStatusError, InputError, describeErrno, errnoCode } from '../errors.js';
import { OutputError } from '../io/safe-output.js';
import type { Io } from './io.js';
import { VERSION } from '../version.js';
import { oneLine, ownEntry, quoted, shownPath } from '../names.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  const lines = [
    'heapsim: reproduce, measure and diagnose second-order memory leaks',
    '',
    'usage: heapsim <command> [options]',
    '',
    'commands:',
  ];
  return lines.join('\n') + '\n' + names.map((n) => `  ${n}`).join('\n') +
    '\n\nRun `heapsim <command> --help` for the options of a command.\n';
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    let text = usage();
    // Show each command's summary line.
    const entries = await Promise.all(Object.entries(COMMANDS).map(async ([n, load]) => [n, (await load()).summary] as const));
    entries.sort((a, b) => a[0].localeCompare(b[0]));
    text = text.replace(/^ {2}(\S+)$/gm, (_m, n: string) => `  ${n.padEnd(10)} ${entries.find((e) => e[0] === n)?.[1] ?? ''}`);
    io.stdout.write(text);
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`heapsim ${VERSION}\n`);
    return EXIT_OK;
  }
  const load = ownEntry(COMMANDS, first);
  if (!load) {
    io.stderr.write(`heapsim: unknown command ${quoted(first)} (commands: ${Object.keys(COMMANDS).sort().join(', ')}; try heapsim --help)\n`);
    return EXIT_USAGE;
  }
  try {
    const command = await load();
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof InputError) {
      io.stderr.write(`heapsim ${first}: ${oneLine(err.describe())}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof OutputError) {
      // A write failed (disk full, I/O error): the target is untouched, the temporary file gone.
      io.stderr.write(`heapsim ${first}: ${oneLine(err.message)}\n`);
      return EXIT_FAILURE;
    }
    const code = errnoCode(err);
    if (code !== undefined) {
      // A file-system error nothing above turned into a message: still one line, never a stack.
      const e = err as NodeJS.ErrnoException;
      const usage = code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG';
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : describeErrno(err);
      io.stderr.write(`heapsim ${first}: ${oneLine(`${e.path !== undefined ? `${shownPath(e.path)}: ` : ''}${why}`)}\n`);
      return usage ? EXIT_USAGE : EXIT_FAILURE;
    }
    if (err instanceof EngineStatusError) {
      // An engine call refused a request built from the command line (e.g. a parameter value).
      io.stderr.write(`heapsim ${first}: ${oneLine(err.message)}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof Error && err.name === 'EngineTrapError') {
      io.stderr.write(`heapsim ${first}: ${oneLine(err.message)}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}
