/**
 * The control plane's modules import in one direction (issue 16: sources →
 * registry → translate → wire → server, and translate/contracts.ts as the
 * leaf the translators share). A new import cycle fails here, naming the
 * modules in it and each one's imports inside the cycle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph, importsOf } from '../../helpers/import-graph.js';

const controlplane = fileURLToPath(new URL('../../../../src/controlplane/', import.meta.url));

test('importCycles finds a cycle through a type-only import and a self-import, and none in a chain', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts', 'd.ts']],
    ['d.ts', []],
    ['e.ts', ['e.ts']],
  ]);
  assert.deepEqual(importCycles(graph), [['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
  assert.deepEqual(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
});

test('importsOf reads static, type-only, multi-line, re-export, side-effect and dynamic imports, not ones in comments', () => {
  const source = [
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    'import {',
    '  c,',
    "  type D,",
    "} from './c.js';",
    "export { e } from './e.js';",
    "export type * from './f.js';",
    "import './g.js';",
    "const h = await import('./h.js');",
    " * import { x } from './in-a-comment.js';",
  ].join('\n');
  assert.deepEqual(importsOf(source), ['./a.js', '../b.js', './c.js', './e.js', './f.js', './g.js', './h.js']);
});

test('importGraph sees type-only imports (the compiled JavaScript would not)', () => {
  const graph = importGraph(controlplane);
  assert.ok(graph.size > 100, `read ${graph.size} modules`);
  // listeners.ts imports only types from contracts.ts: erased from dist, present here.
  assert.ok(graph.get('translate/listeners.ts')?.includes('translate/contracts.ts'));
});

test('src/controlplane has no import cycles; translate/contracts.ts imports nothing from translate/', () => {
  const graph = importGraph(controlplane);
  const described = importCycles(graph).map((c) => c.map((m) => `${m} → ${graph.get(m)!.filter((d) => c.includes(d)).join(', ')}`).join('\n  '));
  assert.deepEqual(described, [], `import cycles:\n  ${described.join('\n\n  ')}`);
  assert.deepEqual(graph.get('translate/contracts.ts')!.filter((d) => d.startsWith('translate/')), []);
});
