// What a command's positional names: a trace file or a built-in workload. Kept apart from the run
// command so that `heapsim run X.trace` never loads the workloads (test/cli/startup.test.ts).
import { statSync } from 'node:fs';
import { InputError, describeErrno, errnoCode, fileKind } from '../errors.js';
import { workloadNames } from '../workload/index.js';

/**
 * A positional naming an existing regular file is a trace; a name that is no path a built-in
 * workload. A path that exists but cannot be a trace (a directory, FIFO, device; a symlink loop;
 * no permission) is an error saying so, unless it is also a workload's name.
 */
export function isTraceFile(name: string): boolean {
  let stats;
  try {
    stats = statSync(name);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || workloadNames().includes(name)) return false;
    throw new InputError(`cannot read: ${describeErrno(err)}`, name);
  }
  if (stats.isFile()) return true;
  if (workloadNames().includes(name)) return false;
  throw new InputError(`cannot read: it is ${fileKind(stats)}, not a trace file`, name);
}

