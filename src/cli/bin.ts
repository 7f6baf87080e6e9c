#!/usr/bin/env node
// The process around main(): exit codes, interruption and closed pipes.
//   - Ctrl-C (SIGINT), SIGTERM, SIGHUP: temporary output files are removed, the targets stay as
//     they were, exit code 128 + signal number, as a shell reports a killed command.
//   - stdout closed early (`heapsim stats t | head`): EPIPE ends the command quietly (exit 0).
// The installed command runs this file bundled with everything it imports into one CommonJS file,
// dist/cli/bundle.cjs (`npm run build:cli`, scripts/build-cli.mjs): Node resolves and reads one
// module instead of ~80, the commands, readers and Node built-ins a run does not use stay lazily
// evaluated, and the launcher (heapsim.cts) compiles it with V8's code cache (code-cache.cts).
// The library's entry points stay tsc's modules in dist/.
import { constants } from 'node:os';
import { main } from './main.js';
import { removeTemporaryFiles } from '../io/safe-output.js';

const SIGNAL_EXIT_BASE = 128;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    removeTemporaryFiles();
    process.exit(SIGNAL_EXIT_BASE + constants.signals[signal]);
  });
}
process.on('exit', removeTemporaryFiles);

function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0); // the reader went away: nothing left to say
    throw err;
  });
}
quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`heapsim: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
