/**
 * Multi-document YAML (and JSON, which YAML 1.2 reads) into raw objects that
 * remember where they came from: every document, `kind: List` item and field
 * can be mapped back to a 1-based line for error messages.
 */
import { parseAllDocuments, isMap, isSeq, isScalar, type Document, type Node, type YAMLMap } from 'yaml';
import type { AnyObject, Origin } from './objects.js';
import type { ConfigProblem } from './config-problem.js';
import { errorMessage } from '../errors.js';
import { lineAt, recordLines, type FieldPath } from './field-lines.js';
import { errorLine, lineCount, lineIndex } from './text-lines.js';
import { documentPieces } from './document-markers.js';

export type { FieldPath } from './field-lines.js';

/** Maps a field path to the 1-based line of that field (or of its deepest existing parent). */
export type Locate = (path: FieldPath) => number;

/** One object read from a file, before validation. */
export interface RawDocument {
  /** The plain data of the document (or List item); not checked in any way. */
  readonly value: unknown;
  /** Where it starts, with the line of every field (origin.fields). */
  readonly origin: Origin;
  readonly locate: Locate;
}

export interface ParsedFile {
  readonly documents: RawDocument[];
  /** CONFIG_PARSE problems: syntax errors and documents that are not mappings. */
  readonly problems: ConfigProblem[];
  /** True when some document could not be read (its objects are then missing). */
  readonly syntaxError: boolean;
  /** Lines in the file, as an editor counts them (every problem's line is within 1..lines). */
  readonly lines: number;
}

/** Aliases beyond this many in one document are refused (the "billion laughs" expansion). */
const maxAliasCount = 100;

/**
 * Parses every document of a file. Empty documents are ignored; `kind: List`
 * documents are expanded into their items. A document that cannot be read
 * produces a problem and no object; the other documents are still returned.
 * Never throws: whatever the parser refuses becomes a CONFIG_PARSE problem.
 */
export function parseYamlDocuments(file: string, text: string): ParsedFile {
  const lineOf = lineIndex(text);
  const out: Reading = { documents: [], problems: [], syntaxError: false };
  for (const [start, end] of documentPieces(text)) {
    const piece = text.slice(start, end);
    let docs: Document.Parsed[];
    try {
      docs = parseAllDocuments(piece, { prettyErrors: false, uniqueKeys: true }) as Document.Parsed[];
    } catch (err) {
      // Not expected from the parser; a file is still never allowed to take the loader down.
      out.syntaxError = true;
      out.problems.push({ code: 'CONFIG_PARSE', file, line: lineOf(start), reason: `YAML syntax error: ${errorMessage(err)}` });
      continue;
    }
    for (const doc of docs) readDocument(file, piece, doc, (offset) => lineOf(start + offset), out);
  }
  return { ...out, lines: lineCount(text) };
}

/** What parsing has gathered so far. */
interface Reading {
  documents: RawDocument[];
  problems: ConfigProblem[];
  syntaxError: boolean;
}

function readDocument(file: string, text: string, doc: Document.Parsed, lineOf: (offset: number) => number, out: Reading): void {
  const problem = (line: number, reason: string) => out.problems.push({ code: 'CONFIG_PARSE', file, line, reason });
  if (doc.errors.length > 0) {
    out.syntaxError = true;
    for (const err of doc.errors) problem(errorLine(text, err.pos[0], doc.range, lineOf), `YAML syntax error: ${err.message}`);
    return;
  }
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return;
  const line = lineOf(root.range?.[0] ?? 0);
  if (!isMap(root)) return void problem(line, 'document is not a mapping (expected an object with apiVersion and kind)');
  let value: Record<string, unknown>;
  try {
    value = doc.toJS({ maxAliasCount }) as Record<string, unknown>;
  } catch (err) {
    // An alias to no anchor, or too many aliases: the document has no value to offer.
    out.syntaxError = true;
    return void problem(line, `YAML error: ${errorMessage(err)}`);
  }
  if (value['kind'] === 'List' && 'items' in value) expandList(file, root, value, lineOf, out);
  else out.documents.push(rawDocument(file, root, line, value, lineOf));
}

function rawDocument(file: string, node: Node, line: number, value: unknown, lineOf: (offset: number) => number): RawDocument {
  const fields = recordLines(node, line, lineOf);
  return { value, origin: { file, line, fields }, locate: (path) => lineAt(fields, line, path) };
}

function expandList(file: string, root: YAMLMap, value: Record<string, unknown>, lineOf: (offset: number) => number, out: Reading): void {
  const itemsNode = root.get('items', true) as Node | undefined;
  const items = value['items'];
  if (items === null || items === undefined) return;
  if (!isSeq(itemsNode) || !Array.isArray(items)) {
    out.problems.push({ code: 'CONFIG_PARSE', file, line: lineOf(root.range?.[0] ?? 0), reason: 'List: items must be a sequence' });
    return;
  }
  itemsNode.items.forEach((node, i) => {
    const line = lineOf((node as Node | null)?.range?.[0] ?? itemsNode.range?.[0] ?? 0);
    if (!isMap(node)) {
      out.problems.push({ code: 'CONFIG_PARSE', file, line, reason: `List: items[${i}] is not a mapping` });
      return;
    }
    out.documents.push(rawDocument(file, node, line, items[i], lineOf));
  });
}

/**
 * Parses a file into unvalidated objects, each with `origin` set to the line
 * where its document (or List item) starts. Validation is separate (see
 * validate/index.ts and load-config.ts).
 */
export function parseYamlFile(file: string, text: string): { objects: AnyObject[]; problems: ConfigProblem[] } {
  const { documents, problems } = parseYamlDocuments(file, text);
  const objects = documents.map((d) => ({ ...(d.value as AnyObject), origin: d.origin }) as AnyObject);
  return { objects, problems };
}
