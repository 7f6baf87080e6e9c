// Error classes shared by every layer of the host. User mistakes are InputError (printed as one
// line, exit code 2, never a stack trace); engine traps are EngineTrapError.

/** Bad input from a user: a file, a line in it, or a command-line value. */
export class InputError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(message: string, file?: string, line?: number) {
    super(message);
    this.name = 'InputError';
    this.file = file;
    this.line = line;
  }
  /** `file:line: message`, or just the message when there is no file. */
  describe(): string {
    if (this.file === undefined) return this.message;
    return this.line === undefined ? `${this.file}: ${this.message}` : `${this.file}:${this.line}: ${this.message}`;
  }
}

/** Bad command-line usage (unknown option, policy, value). Exit code 2. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A WASM trap inside the engine. The engine instance that raised it is unusable afterwards. */
export class EngineTrapError extends Error {
  readonly batch: number;
  readonly op: number;
  constructor(message: string, batch: number, op: number, options?: { cause?: unknown }) {
    super(`engine trap in batch ${batch}, op ${op}: ${message}`, options);
    this.name = 'EngineTrapError';
    this.batch = batch;
    this.op = op;
  }
}

/** An engine call rejected with a status code (misuse of the typed API, not a trap). */
export class EngineStatusError extends Error {
  readonly status: number;
  readonly statusName: string;
  constructor(what: string, status: number, statusName: string) {
    super(`${what}: ${statusName}`);
    this.name = 'EngineStatusError';
    this.status = status;
    this.statusName = statusName;
  }
}
