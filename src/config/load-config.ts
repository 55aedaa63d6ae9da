/**
 * Parse + validate a whole file: what `analyze` and the directory source use.
 */
import { parseYamlDocuments } from './load-yaml.js';
import { validateDocument, type ValidatedDocument } from './validate/index.js';
import type { ConfigProblem } from '../controlplane/sources/source.js';

export interface LoadedFile {
  /** One entry per document (or List item) that parsed, in file order. */
  readonly documents: ValidatedDocument[];
  /** CONFIG_PARSE problems: YAML syntax errors and non-mapping documents. */
  readonly parseProblems: ConfigProblem[];
  /** True when the YAML itself is broken somewhere (a source should then keep the file's last good objects). */
  readonly syntaxError: boolean;
  /** Lines in the file: every problem reported for it lies within 1..lines. */
  readonly lines: number;
}

export function loadConfigText(file: string, text: string): LoadedFile {
  const parsed = parseYamlDocuments(file, text);
  return {
    documents: parsed.documents.map(validateDocument),
    parseProblems: parsed.problems,
    syntaxError: parsed.syntaxError,
    lines: parsed.lines,
  };
}

/** Every problem of a loaded file, parse problems first, then by document. */
export function fileProblems(loaded: LoadedFile): ConfigProblem[] {
  return [...loaded.parseProblems, ...loaded.documents.flatMap((d) => d.problems)];
}
