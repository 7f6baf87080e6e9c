// The CLI writes through this interface so tests can run main() in memory.
export interface Io {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
}

export interface Command {
  /** One line for `heapsim --help`. */
  summary: string;
  /** Runs the command; resolves to the process exit code. Throws InputError/UsageError for user mistakes. */
  run(args: string[], io: Io): Promise<number>;
}
