// Running a compiled oracle (test/oracle/*-replay.c) on a trace file or on script text: the input
// goes through a scratch file, the oracle gets only PATH plus the given environment (the library's
// settings), and a failure throws with its stderr.
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function runOracleProcess(
  binary: string, input: { text?: string; file?: string }, args: string[], env: Record<string, string>, scratch: string,
): string {
  let file = input.file;
  if (file === undefined) {
    file = join(scratch, `input-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(file, input.text ?? '');
  }
  const r = spawnSync(binary, [...args, file], {
    encoding: 'utf8', maxBuffer: 1 << 30, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  if (input.file === undefined) rmSync(file, { force: true });
  if (r.status !== 0) throw new Error(`oracle ${binary} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
