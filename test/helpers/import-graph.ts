/**
 * The import graph of a source folder, type-only imports included: the
 * cycles that matter for structure are mostly between types, which the
 * compiled JavaScript no longer shows. Read from the sources as text —
 * statements starting a line (`import …`, `import type …`, `export … from`)
 * and dynamic `import('…')` — which is what our style writes, and costs a
 * few milliseconds where loading the TypeScript compiler costs seconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const staticImport = /^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm;
const dynamicImport = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The module specifiers a source file imports. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(staticImport)) out.push((m[1] ?? m[2])!);
  for (const m of source.matchAll(dynamicImport)) out.push(m[1]!);
  return out;
}

/** Module (path relative to the root) → the modules under the same root it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export function importGraph(root: string): ImportGraph {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const deps = importsOf(readFileSync(join(root, file), 'utf8'))
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(root, resolve(dirname(join(root, file)), spec)).replace(/\.js$/, '.ts'))
      .filter((dep) => known.has(dep));
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/**
 * The import cycles of a graph: each strongly connected component of more
 * than one module (or a module importing itself), as its members sorted
 * (Tarjan's algorithm, iterative so a deep chain cannot overflow the stack).
 */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; edge: number }[] = [{ node: start, edge: 0 }];
    index.set(start, next), low.set(start, next++), stack.push(start), onStack.add(start);
    while (work.length > 0) {
      const top = work.at(-1)!;
      const deps = graph.get(top.node) ?? [];
      if (top.edge < deps.length) {
        const dep = deps[top.edge++]!;
        if (!index.has(dep)) {
          index.set(dep, next), low.set(dep, next++), stack.push(dep), onStack.add(dep);
          work.push({ node: dep, edge: 0 });
        } else if (onStack.has(dep)) low.set(top.node, Math.min(low.get(top.node)!, index.get(dep)!));
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== top.node);
      if (component.length > 1 || deps.includes(top.node)) out.push(component.sort());
    }
  }
  return out;
}
