// The real programs the allocator fidelity tests record (`heapsim record`) and replay through each
// library's oracle: an interpreter building and dropping a large structure, a database filling and
// indexing a table, git, sort and awk over a generated file. A program that is not installed gives
// no command (the test says so and skips it).
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface RecordedProgram {
  name: string;
  /** The command line, with its files in `scratch`; undefined when the program is not installed. */
  command(scratch: string): string[] | undefined;
}

/** The path of a command (absolute paths are checked as they are), undefined when there is none. */
export function which(cmd: string): string | undefined {
  if (cmd.startsWith('/')) return existsSync(cmd) ? cmd : undefined;
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** 100000 lines of "<key> line <n> <x…>", written once per scratch folder. */
function generatedInput(scratch: string): string {
  const file = join(scratch, 'generated-input.txt');
  if (existsSync(file)) return file;
  const lines: string[] = [];
  for (let i = 1; i <= 100000; i++) lines.push(`${(i * 7919) % 100003} line ${i} ${'x'.repeat(i % 50)}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const REPO = join(import.meta.dirname, '..', '..');

export const RECORDED_PROGRAMS: readonly RecordedProgram[] = [
  {
    name: 'python3 builds and drops a large dict',
    command: () => {
      const py = which('/usr/bin/python3') ?? which('python3');
      return py && [py, '-c', 'd = {str(i): [i] * 3 for i in range(200000)}\ndel d\nl = [bytes(i % 3000) for i in range(20000)]\ndel l[::2]\n'];
    },
  },
  {
    name: 'sqlite3 fills and indexes a table',
    command: (scratch) => {
      const sq = which('sqlite3');
      return sq && [sq, join(scratch, 'rec.sqlite'),
        'create table t(a, b); with recursive c(x) as (select 1 union all select x + 1 from c where x < 30000) ' +
        'insert into t select x, hex(randomblob(x % 200)) from c; create index i on t(b); select count(*) from t;'];
    },
  },
  {
    name: 'git log --stat over this repository',
    command: () => {
      const git = which('git');
      return git && existsSync(join(REPO, '.git')) ? [git, '-C', REPO, 'log', '--stat', '-n', '100'] : undefined;
    },
  },
  {
    name: 'sort on a generated file',
    command: (scratch) => {
      const sort = which('sort');
      return sort && [sort, '-S', '2M', '-k2', generatedInput(scratch), '-o', join(scratch, 'sorted.txt')];
    },
  },
  {
    name: 'awk counting words of a generated file',
    command: (scratch) => {
      const awk = which('awk');
      return awk && [awk, '{ c[$1]++; s[$3] = $0 } END { for (k in c) n++; print n }', generatedInput(scratch)];
    },
  },
];

/**
 * Recorded too by ptmalloc's fidelity test (the verdict's cases): git reallocs buffers it allocated
 * before tracing began (untraced reallocs in the trace), and the README's Python example keeps one
 * buffer in 50 so glibc cannot give the freed ones back (a second-order leak). Their output goes
 * to files, not to the test's log.
 */
export const MORE_RECORDED_PROGRAMS: readonly RecordedProgram[] = [
  {
    name: 'git log -p over this repository',
    command: (scratch) => {
      const git = which('git');
      return git && existsSync(join(REPO, '.git'))
        ? [git, '-C', REPO, 'log', '-p', '-n', '200', '--no-color', `--output=${join(scratch, 'git-log-p.txt')}`] : undefined;
    },
  },
  {
    name: 'python3 keeps every 50th of 40000 buffers (the README example)',
    command: () => {
      const py = which('/usr/bin/python3') ?? which('python3');
      return py && [py, '-c', 'l = [bytes(600) for i in range(40000)]; keep = l[::50]; del l'];
    },
  },
];
