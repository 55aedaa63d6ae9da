/**
 * `trellis analyze` output, istioctl analyze's: one line per message,
 * "Error [IST0101] (VirtualService default/reviews routing.yaml:12) Referenced
 * host not found: "reviews.bogus"", then a suggested fix on its own line.
 * Load problems come first in the same form: a document that fails its schema
 * is IST0106 (SchemaValidationError) as in istioctl, YAML that does not parse
 * is CONFIG_PARSE, a duplicate object CONFIG_CONFLICT. Pure.
 */
import type { AnalysisMessage } from '../../controlplane/analyze/analyze.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import { suggestedFix } from './fixes.js';

export type Level = 'Error' | 'Warning' | 'Info';
const RANK: Record<Level, number> = { Info: 0, Warning: 1, Error: 2 };

export interface ReportLine {
  level: Level;
  code: string;
  /** "VirtualService default/reviews", or "" for a problem of the file itself. */
  origin: string;
  /** "file.yaml:12" */
  reference: string;
  message: string;
  fix: string;
}

export function atLeast(level: Level, threshold: Level): boolean {
  return RANK[level] >= RANK[threshold];
}

export function messageLine(m: AnalysisMessage): ReportLine {
  const o = m.object;
  const subject = `${o.kind} ${o.metadata.namespace === undefined ? '' : `${o.metadata.namespace}/`}${o.metadata.name}`;
  return { level: m.type.severity, code: m.type.code, origin: subject, reference: `${m.file}:${m.line}`, message: m.message, fix: suggestedFix(m.type.code, m.message) };
}

/** A load problem: the reason already names the object ("VirtualService default/x: spec.http: ..."). */
export function problemLine(p: ConfigProblem): ReportLine {
  const code = p.code === 'CONFIG_INVALID' ? 'IST0106' : p.code;
  const message = p.code === 'CONFIG_INVALID' ? `Schema validation error: ${p.reason}` : p.reason;
  return { level: p.severity ?? 'Error', code, origin: '', reference: `${p.file}:${p.line}`, message, fix: suggestedFix(code, p.reason) };
}

export function renderLine(l: ReportLine, paintLevel: (level: Level) => string = (x) => x): string {
  const where = l.origin ? `${l.origin} ${l.reference}` : l.reference;
  return `${paintLevel(l.level)} [${l.code}] (${where}) ${l.message}\n  Fix: ${l.fix}\n`;
}

/** istioctl's JSON fields (plus the fix). */
export function jsonLine(l: ReportLine): Record<string, string> {
  const doc: Record<string, string> = l.code.startsWith('IST') ? { documentationUrl: `https://istio.io/latest/docs/reference/config/analysis/${l.code.toLowerCase()}/` } : {};
  return { code: l.code, ...doc, level: l.level, message: l.message, origin: l.origin, reference: l.reference, fix: l.fix };
}
