// The layers go one way: no file of the host (src/) or of the engine (assembly/) imports itself
// through a loop of imports. The graph is read from the sources with TypeScript's own import
// scanner (every import, export-from and dynamic import with a relative path, type-only ones
// included: a type cycle ties two layers as much as a value cycle does), and its strongly
// connected components are found (Tarjan); any component of more than one file, or a file that
// imports itself, is a cycle and is named in the failure.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourcesUnder(p));
    else if (/\.m?ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The file a relative specifier names: `./x.js` (host, NodeNext) or `./x` (AssemblyScript). */
function resolveSpecifier(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts'), base];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile() && /\.m?ts$/.test(c));
}

export function importGraph(dir: string): Map<string, string[]> {
  const files = sourcesUnder(dir);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((i) => i.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveSpecifier(f, s))
      .filter((t): t is string => t !== undefined);
    graph.set(f, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or with a self-import. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('import graph', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
    expect(cycles(g).map((c) => c.join(','))).toEqual(['a,b,c', 'e']);
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  for (const dir of ['src', 'assembly']) {
    it(`${dir}/ has no import cycle`, () => {
      const graph = importGraph(join(ROOT, dir));
      expect(graph.size).toBeGreaterThan(20);
      // The scanner sees the imports: the entry point imports several files.
      const entry = graph.get(join(ROOT, dir, 'index.ts'))!;
      expect(entry.length).toBeGreaterThan(2);
      const found = cycles(graph).map((c) => c.map((f) => relative(ROOT, f)).join(' <-> '));
      expect(found, 'import cycles').toEqual([]);
    });
  }
});
