/**
 * Parse + validate a whole file: what `analyze` and the directory source use.
 */
import { clipMiddle } from '../clip.js';
import { parseYamlDocuments } from './load-yaml.js';
import { validateDocument, type ValidatedDocument } from './validate/index.js';
import type { ConfigProblem } from './config-problem.js';

/**
 * Longest problem reason. Reasons quote the file (a YAML error's token, a
 * value that failed a check), and a binary or generated file made them tens
 * of kilobytes: the start (field path) and the end (why) are kept.
 */
export const PROBLEM_REASON_MAX = 512;

/**
 * YAML syntax errors listed per file. A binary file yields one every few
 * lines; past the first few they say nothing new.
 */
export const SYNTAX_PROBLEMS_MAX = 10;

function bounded(p: ConfigProblem): ConfigProblem {
  return p.reason.length <= PROBLEM_REASON_MAX ? p : { ...p, reason: clipMiddle(p.reason, PROBLEM_REASON_MAX) };
}

function boundedParseProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const kept = problems.slice(0, SYNTAX_PROBLEMS_MAX).map(bounded);
  const rest = problems.length - kept.length;
  if (rest > 0) kept.push({ code: 'CONFIG_PARSE', file: problems[0]!.file, line: problems[SYNTAX_PROBLEMS_MAX]!.line, reason: `${rest} more YAML error(s) in this file, not listed` });
  return kept;
}

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
    documents: parsed.documents.map(validateDocument).map((d) => (d.problems.length === 0 ? d : { ...d, problems: d.problems.map(bounded) })),
    parseProblems: boundedParseProblems(parsed.problems),
    syntaxError: parsed.syntaxError,
    lines: parsed.lines,
  };
}

/** Every problem of a loaded file, parse problems first, then by document. */
export function fileProblems(loaded: LoadedFile): ConfigProblem[] {
  return [...loaded.parseProblems, ...loaded.documents.flatMap((d) => d.problems)];
}
