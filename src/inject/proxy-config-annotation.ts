/**
 * The parts of the pod's proxy.istio.io/config annotation (a ProxyConfig in
 * YAML) that shape injection: holdApplicationUntilProxyStarts and
 * proxyMetadata (extra environment for the proxy). Istio honours the rest in
 * its agent; Trellis's proxy takes its settings from flags, so other fields
 * are ignored here.
 */
import { parse } from 'yaml';
import { TrellisError } from '../errors.js';
import { isObject } from './k8s-types.js';
import { ANNOTATION } from './names.js';

export interface PodProxyConfig {
  holdApplicationUntilProxyStarts?: boolean;
  proxyMetadata: Record<string, string>;
}

export function podProxyConfig(annotations: Readonly<Record<string, string>>): PodProxyConfig {
  const raw = annotations[ANNOTATION.proxyConfig];
  if (raw === undefined) return { proxyMetadata: {} };
  const doc: unknown = parse(raw);
  if (doc === null || doc === undefined) return { proxyMetadata: {} };
  if (!isObject(doc)) throw new TrellisError('INJECT_INVALID', `annotation ${ANNOTATION.proxyConfig}: not a ProxyConfig mapping`);
  const hold = doc.holdApplicationUntilProxyStarts;
  if (hold !== undefined && typeof hold !== 'boolean') throw new TrellisError('INJECT_INVALID', `annotation ${ANNOTATION.proxyConfig}: holdApplicationUntilProxyStarts must be true or false`);
  const md = doc.proxyMetadata ?? {};
  if (!isObject(md)) throw new TrellisError('INJECT_INVALID', `annotation ${ANNOTATION.proxyConfig}: proxyMetadata must be a mapping`);
  const proxyMetadata = Object.fromEntries(Object.entries(md).map(([k, v]) => [k, String(v)]));
  return { ...(hold === undefined ? {} : { holdApplicationUntilProxyStarts: hold }), proxyMetadata };
}
