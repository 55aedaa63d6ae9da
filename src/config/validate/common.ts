/** Schemas and checks shared by several kinds: metadata, names, durations, regexes. */
import { parseDuration } from '../duration.js';
import { re2ToRegExp } from '../regex.js';
import { int, map, obj, opaque, req, str, stringMap, strings, type Issue, type ObjectSchema, type Schema } from './schema.js';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes object names (DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253). */
export function dnsSubdomainProblem(s: string): string | undefined {
  if (s.length > 253 || !dns1123Subdomain.test(s)) {
    return `${JSON.stringify(s)} is not a valid DNS-1123 name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)`;
  }
  return undefined;
}

/** Namespace names and port names (DNS-1123 label, at most 63). */
export function dnsLabelProblem(s: string): string | undefined {
  if (s.length > 63 || !dns1123Label.test(s)) {
    return `${JSON.stringify(s)} is not a valid DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)`;
  }
  return undefined;
}

export function durationProblem(s: string): string | undefined {
  return parseDuration(s) === undefined ? `${JSON.stringify(s)} is not a duration (e.g. "1.5s", "100ms", "2m")` : undefined;
}

/** Istio regexes are RE2; see re2ToRegExp for the subset accepted. */
export function regexProblem(s: string): string | undefined {
  try {
    re2ToRegExp(s);
    return undefined;
  } catch (err) {
    return `invalid regex ${JSON.stringify(s)}: ${(err as Error).message}`;
  }
}

export const duration = (): Schema => str({ check: durationProblem });
export const portNumber = (): Schema => int(1, 65535);

/** ObjectMeta: what Trellis reads is typed, server-managed fields are accepted as they are. */
export const objectMeta: ObjectSchema = obj({
  name: req(str({ check: dnsSubdomainProblem })),
  generateName: str(),
  namespace: str({ check: dnsLabelProblem }),
  labels: stringMap(),
  annotations: stringMap(),
  resourceVersion: str(),
  uid: str(),
  creationTimestamp: opaque(),
  deletionTimestamp: opaque(),
  deletionGracePeriodSeconds: int(0),
  generation: int(0),
  ownerReferences: opaque(),
  finalizers: strings(),
  managedFields: opaque(),
  selfLink: str(),
});

/** The fields every kind has; `body` adds the kind's own top-level fields (usually spec). */
export function topLevel(body: Record<string, Schema>): ObjectSchema {
  return obj({ apiVersion: req(str()), kind: req(str()), metadata: req(objectMeta), status: opaque(), ...body });
}

// ---- Istio building blocks --------------------------------------------------

/** Exactly one of the listed fields must be set (a protobuf oneof that is required). */
export function exactlyOne(fields: readonly string[], required = true) {
  return (v: Record<string, unknown>): Issue[] => {
    const set = fields.filter((f) => v[f] !== undefined && v[f] !== null);
    if (set.length > 1) return [{ path: [set[1]!], message: `only one of ${fields.join(', ')} may be set (also set: ${set[0]})` }];
    if (set.length === 0 && required) return [{ path: [], message: `one of ${fields.join(', ')} must be set` }];
    return [];
  };
}

export const stringMatch = (): ObjectSchema =>
  obj({ exact: str(), prefix: str(), regex: str({ check: regexProblem }) }, exactlyOne(['exact', 'prefix', 'regex'], false));

export const matchLabelsSelector = (): ObjectSchema => obj({ matchLabels: stringMap() });
export const labelsSelector = (): ObjectSchema => obj({ labels: stringMap() });
export const percent = (): ObjectSchema => obj({ value: { type: 'number', min: 0, max: 100 } });
export const portSelector = (): ObjectSchema => obj({ number: portNumber() });
export const destination = (): ObjectSchema => obj({ host: req(str({ check: nonEmpty })), subset: str(), port: portSelector() });
export const policyTargetRef = (): ObjectSchema => obj({ group: str(), kind: req(str()), name: req(str()), namespace: str() });

export function nonEmpty(s: string): string | undefined {
  return s.length === 0 ? 'must not be empty' : undefined;
}

/** map<uint32, X> keyed by port number, as in portLevelMtls. */
export const portKeyedMap = (values: Schema) =>
  map(values, (k) => (/^\d+$/.test(k) && Number(k) >= 1 && Number(k) <= 65535 ? undefined : `key ${JSON.stringify(k)} must be a port number 1..65535`));
