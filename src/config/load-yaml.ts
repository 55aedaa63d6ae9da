/**
 * Multi-document YAML (and JSON, which YAML 1.2 reads) into raw objects that
 * remember where they came from: every document, `kind: List` item and field
 * can be mapped back to a 1-based line for error messages.
 */
import { LineCounter, parseAllDocuments, isMap, isSeq, isScalar, type Node, type YAMLMap } from 'yaml';
import type { AnyObject, Origin } from './objects.js';
import type { ConfigProblem } from '../controlplane/sources/source.js';

/** A field path inside one object: map keys and sequence indexes. */
export type FieldPath = readonly (string | number)[];

/** Maps a field path to the 1-based line of that field (or of its deepest existing parent). */
export type Locate = (path: FieldPath) => number;

/** One object read from a file, before validation. */
export interface RawDocument {
  /** The plain data of the document (or List item); not checked in any way. */
  readonly value: unknown;
  readonly origin: Origin;
  readonly locate: Locate;
}

export interface ParsedFile {
  readonly documents: RawDocument[];
  /** CONFIG_PARSE problems: syntax errors and documents that are not mappings. */
  readonly problems: ConfigProblem[];
  /** True when some document has a YAML syntax error (its objects are then missing). */
  readonly syntaxError: boolean;
}

/**
 * Parses every document of a file. Empty documents are ignored; `kind: List`
 * documents are expanded into their items. A document with a syntax error
 * produces a problem and no object; the other documents are still returned.
 */
export function parseYamlDocuments(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const documents: RawDocument[] = [];
  const problems: ConfigProblem[] = [];
  let syntaxError = false;
  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })) {
    if (doc.errors.length > 0) {
      syntaxError = true;
      for (const err of doc.errors) {
        problems.push({ code: 'CONFIG_PARSE', file, line: lineOf(err.pos[0]), reason: `YAML syntax error: ${err.message}` });
      }
      continue;
    }
    const root = doc.contents as Node | null;
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) continue;
    const line = lineOf(root.range?.[0] ?? 0);
    if (!isMap(root)) {
      problems.push({ code: 'CONFIG_PARSE', file, line, reason: 'document is not a mapping (expected an object with apiVersion and kind)' });
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
    if (value['kind'] === 'List' && 'items' in value) {
      expandList(file, root, value, lineOf, documents, problems);
    } else {
      documents.push({ value, origin: { file, line }, locate: locator(root, lineOf) });
    }
  }
  return { documents, problems, syntaxError };
}

function expandList(
  file: string,
  root: YAMLMap,
  value: Record<string, unknown>,
  lineOf: (offset: number) => number,
  documents: RawDocument[],
  problems: ConfigProblem[],
): void {
  const itemsNode = root.get('items', true) as Node | undefined;
  const items = value['items'];
  if (items === null || items === undefined) return;
  if (!isSeq(itemsNode) || !Array.isArray(items)) {
    problems.push({ code: 'CONFIG_PARSE', file, line: lineOf(root.range?.[0] ?? 0), reason: 'List: items must be a sequence' });
    return;
  }
  itemsNode.items.forEach((node, i) => {
    const line = lineOf((node as Node | null)?.range?.[0] ?? itemsNode.range?.[0] ?? 0);
    if (!isMap(node)) {
      problems.push({ code: 'CONFIG_PARSE', file, line, reason: `List: items[${i}] is not a mapping` });
      return;
    }
    documents.push({ value: items[i], origin: { file, line }, locate: locator(node, lineOf) });
  });
}

/** Walks the YAML tree along a path; the line of a map field is the line of its key. */
function locator(root: Node, lineOf: (offset: number) => number): Locate {
  return (path) => {
    let node: unknown = root;
    let offset = root.range?.[0] ?? 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (pair === undefined) break;
        offset = (pair.key as Node | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        offset = (node as Node | null)?.range?.[0] ?? offset;
      } else {
        break;
      }
    }
    return lineOf(offset);
  };
}

/**
 * Parses a file into unvalidated objects, each with `origin` set to the line
 * where its document (or List item) starts. Validation is separate (see
 * validate/index.ts and load-config.ts, which also keep the field locators).
 */
export function parseYamlFile(file: string, text: string): { objects: AnyObject[]; problems: ConfigProblem[] } {
  const { documents, problems } = parseYamlDocuments(file, text);
  const objects = documents.map((d) => ({ ...(d.value as AnyObject), origin: d.origin }) as AnyObject);
  return { objects, problems };
}
