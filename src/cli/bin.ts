#!/usr/bin/env node
// The process around main(): exit codes, interruption and closed pipes.
//   - Ctrl-C (SIGINT), SIGTERM, SIGHUP: temporary output files are removed, the targets stay as
//     they were, exit code 128 + signal number, as a shell reports a killed command.
//   - stdout closed early (`heapsim stats t | head`): EPIPE ends the command quietly (exit 0).
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
