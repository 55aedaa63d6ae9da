/**
 * Building blocks of the Gateway API CRDs' schemas (gateway.networking.k8s.io
 * v1.x, standard and experimental channels as istiod reads them): names,
 * hostnames, references and the list limits, with the CRDs' own patterns and
 * CEL messages where they are cheap to check.
 */
import { arr, enumOf, int, map, obj, req, str, strings, type ArraySchema, type Check, type Issue, type ObjectSchema, type Schema } from '../schema.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const hostnamePattern = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const precisePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const groupPattern = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const kindPattern = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** RFC 7230 token: what an HTTP header name may be. */
const headerNamePattern = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Gateway API Duration (GEP-2257): up to four number+unit pairs, units h, m, s, ms. */
const durationPattern = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

const pattern = (re: RegExp, what: string, max: number) => (s: string) =>
  s.length > max ? `must be at most ${max} characters` : re.test(s) ? undefined : `${JSON.stringify(s)} is not a valid ${what}`;

export const hostname = () => str({ check: pattern(hostnamePattern, 'hostname (lowercase DNS name, a wildcard only as the leftmost "*.")', 253) });
export const preciseHostname = () => str({ check: pattern(precisePattern, 'precise hostname (lowercase DNS name, no wildcard)', 253) });
export const objectName = () => str({ check: (s) => (s.length < 1 || s.length > 253 ? 'must be 1..253 characters' : undefined) });
export const sectionName = () => str({ check: pattern(dnsLabel, 'section name (DNS-1123 label)', 253) });
export const namespaceName = () => str({ check: pattern(dnsLabel, 'namespace (DNS-1123 label)', 63) });
export const group = () => str({ check: pattern(groupPattern, 'API group', 253) });
export const kind = () => str({ check: pattern(kindPattern, 'kind', 63) });
export const headerName = () => str({ check: pattern(headerNamePattern, 'header name', 256) });
export const gwDuration = () => str({ check: pattern(durationPattern, 'Gateway API duration (e.g. "10s", "1m30s", "500ms")', 64) });
export const port = () => int(1, 65535);

/** A list of at most `max` items (the CRDs' maxItems), optionally at least `min`. */
export function upTo(items: Schema, max: number, min = 0, check?: Check<unknown[]>): ArraySchema {
  return arr(items, (list) => {
    const out: Issue[] = [];
    if (list.length > max) out.push({ path: [], message: `must have at most ${max} items (got ${list.length})` });
    if (list.length < min) out.push({ path: [], message: `must have at least ${min} item${min === 1 ? '' : 's'}` });
    return check ? [...out, ...check(list)] : out;
  });
}

/** Items whose `key` repeats: the CRDs' listMapKeys and "must be unique" CEL rules. */
export function uniqueBy(key: (item: Record<string, unknown>) => unknown, message: string): Check<unknown[]> {
  return (list) => {
    const seen = new Set<string>();
    const out: Issue[] = [];
    list.forEach((item, i) => {
      if (typeof item !== 'object' || item === null) return;
      const k = JSON.stringify(key(item as Record<string, unknown>));
      if (seen.has(k)) out.push({ path: [i], message });
      seen.add(k);
    });
    return out;
  };
}

export const labelSelector = (): ObjectSchema =>
  obj({
    matchLabels: map(str()),
    matchExpressions: arr(obj({ key: req(str()), operator: req(enumOf('In', 'NotIn', 'Exists', 'DoesNotExist')), values: strings() })),
  });

/** ParentReference: a Gateway (default), or a Service for GAMMA. */
export const parentRef = (): ObjectSchema =>
  obj({ group: group(), kind: kind(), namespace: namespaceName(), name: req(objectName()), sectionName: sectionName(), port: port() });

export const parentRefs = () => upTo(parentRef(), 32, 0, uniqueBy((p) => [p['group'] ?? '', p['kind'] ?? '', p['namespace'] ?? '', p['name'], p['sectionName'] ?? '', p['port'] ?? 0], 'sectionName or port must be specified when parentRefs includes 2 or more references to the same parent'));

/** A Service needs a port (the CRD's CEL: "Must have port for Service reference"). */
function servicePortCheck(v: Record<string, unknown>): Issue[] {
  const isService = (v['group'] ?? '') === '' && (v['kind'] ?? 'Service') === 'Service';
  return isService && v['port'] === undefined ? [{ path: ['port'], message: 'Must have port for Service reference' }] : [];
}

const backendObjectFields = () => ({ group: group(), kind: kind(), name: req(objectName()), namespace: namespaceName(), port: port() });
export const backendObjectRef = (): ObjectSchema => obj(backendObjectFields(), servicePortCheck);
export const backendRef = (extra: Record<string, Schema> = {}): ObjectSchema =>
  obj({ ...backendObjectFields(), weight: int(0, 1000000), ...extra }, servicePortCheck);

export const secretRef = (): ObjectSchema => obj({ group: group(), kind: kind(), name: req(objectName()), namespace: namespaceName() });
