/**
 * `trellis kube-inject` without the files: multi-document YAML in, the same
 * documents out with every pod template injected; documents of other kinds
 * are passed through as they were written. Pure.
 */
import { parse, stringify } from 'yaml';
import { documentPieces } from '../config/document-markers.js';
import { TrellisError, errorMessage } from '../errors.js';
import type { InjectionConfig } from './config.js';
import { isObject } from './k8s-types.js';
import { injectObject, type ObjectResult } from './workloads.js';

export interface KubeInjectResult {
  yaml: string;
  skipped: string[];
  decisions: ObjectResult['decisions'];
}

/** Strips a piece's leading "---" line (and what follows it on that line). */
function body(piece: string): string {
  return piece.startsWith('---') ? piece.slice(piece.indexOf('\n') + 1 || piece.length) : piece;
}

export function kubeInject(text: string, cfg: InjectionConfig): KubeInjectResult {
  const out: string[] = [];
  const res: KubeInjectResult = { yaml: '', skipped: [], decisions: [] };
  documentPieces(text).forEach(([start, end], i) => {
    const raw = body(text.slice(start, end));
    let doc: unknown;
    try {
      doc = parse(raw);
    } catch (err) {
      throw new TrellisError('INJECT_INPUT', `document ${i + 1}: not YAML: ${errorMessage(err).split('\n')[0]}`, { cause: err });
    }
    if (doc === null || doc === undefined) return;
    if (!isObject(doc)) {
      out.push(raw.endsWith('\n') ? raw : `${raw}\n`);
      return;
    }
    const r = injectObject(doc, cfg);
    res.skipped.push(...r.skipped);
    res.decisions.push(...r.decisions);
    const changed = r.decisions.some((d) => d.decision.inject);
    out.push(changed ? stringify(r.object, { lineWidth: 0 }) : raw.endsWith('\n') ? raw : `${raw}\n`);
  });
  res.yaml = out.join('---\n');
  return res;
}
