import { main } from '../../src/cli/main.js';

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs the CLI in memory (no process spawned). */
export async function cli(...argv: string[]): Promise<CliResult> {
  let stdout = '', stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => { stdout += s; return true; } },
    stderr: { write: (s: string) => { stderr += s; return true; } },
  });
  return { code, stdout, stderr };
}
