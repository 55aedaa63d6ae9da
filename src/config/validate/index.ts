/**
 * Validation of one Kubernetes/Istio object: kind and apiVersion, metadata,
 * and the kind's schema (unknown fields, types, ranges, cross-field rules).
 * Every problem names the kind, namespace/name and field path, and carries
 * the line of the offending field.
 */
import { clusterScoped, kindVersions, objectKey, typeKey, type AnyObject, type Origin, type TypeKey } from '../objects.js';
import type { FieldPath, Locate, RawDocument } from '../load-yaml.js';
import type { ConfigProblem } from '../config-problem.js';
import { kubernetesSchemas } from './kubernetes.js';
import { isIgnoredKind } from '../ignored-kinds.js';
import { virtualServiceSchema } from './virtual-service.js';
import { destinationRuleSchema } from './destination-rule.js';
import { serviceEntrySchema, sidecarSchema, workloadEntrySchema } from './service-entry.js';
import { gatewaySchema } from './gateway.js';
import { authorizationPolicySchema, peerAuthenticationSchema } from './security.js';
import { requestAuthenticationSchema } from './request-authentication.js';
import { telemetrySchema } from './telemetry.js';
import { envoyFilterSchema, proxyConfigSchema, quotaSpecSchema, wasmPluginSchema } from './never-applied.js';
import { gatewayApiSchemas } from './gateway-api/index.js';
import { formatPath, isPlainObject, walk } from './walk.js';
import type { Issue, ObjectSchema } from './schema.js';

export { parseDuration } from '../duration.js';
export { formatPath } from './walk.js';

/** The schema of every supported type; keys are exactly those of kindVersions. */
export const kindSchemas: Readonly<Record<TypeKey, ObjectSchema>> = {
  ...kubernetesSchemas,
  ...gatewayApiSchemas,
  VirtualService: virtualServiceSchema,
  DestinationRule: destinationRuleSchema,
  ServiceEntry: serviceEntrySchema,
  WorkloadEntry: workloadEntrySchema,
  Sidecar: sidecarSchema,
  Gateway: gatewaySchema,
  PeerAuthentication: peerAuthenticationSchema,
  AuthorizationPolicy: authorizationPolicySchema,
  RequestAuthentication: requestAuthenticationSchema,
  Telemetry: telemetrySchema,
  EnvoyFilter: envoyFilterSchema,
  WasmPlugin: wasmPluginSchema,
  ProxyConfig: proxyConfigSchema,
  QuotaSpec: quotaSpecSchema,
};

/** The outcome of validating one document. */
export interface ValidatedDocument {
  /**
   * objectKey() ("Kind/namespace/name") whenever kind and name could be read,
   * even if the object is invalid: a source uses it to keep the last good version.
   */
  readonly key?: string;
  /** Set only when there are no problems: a copy with namespace defaulted and origin set. */
  readonly object?: AnyObject;
  /** Every problem of the document (CONFIG_INVALID), in field order. */
  readonly problems: ConfigProblem[];
  /** Where the document is now: a source re-anchors a kept last good version here. */
  readonly origin: Origin;
}

/**
 * Validates one raw object. `locate` maps a field path to its line (see
 * parseYamlDocuments); without YAML (e.g. objects from the Kubernetes API) pass
 * `() => origin.line`.
 */
export function validateObject(value: unknown, origin: Origin, locate: Locate): ValidatedDocument {
  const problem = (path: FieldPath, reason: string): ConfigProblem => ({ code: 'CONFIG_INVALID', file: origin.file, line: locate(path), reason });
  if (!isPlainObject(value)) return { problems: [problem([], 'document is not a mapping')], origin };
  const { kind, apiVersion } = value;
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    return { problems: [problem(typeof kind !== 'string' ? ['kind'] : ['apiVersion'], 'apiVersion and kind must be set (strings)')], origin };
  }
  const type = typeKey({ apiVersion, kind });
  const versions = (kindVersions as Record<string, readonly string[] | undefined>)[type];
  // Kinds of the same name Trellis does read (apps/v1 Deployment) are validated below, not skipped.
  if (versions === undefined && isIgnoredKind(apiVersion, kind)) return { problems: [], origin };
  if (versions === undefined) return { problems: [problem(['kind'], `unknown kind ${kind} (apiVersion ${apiVersion})`)], origin };

  const meta = isPlainObject(value['metadata']) ? value['metadata'] : {};
  const scoped = clusterScoped.has(type);
  const name = typeof meta['name'] === 'string' ? meta['name'] : undefined;
  const namespace = scoped ? undefined : typeof meta['namespace'] === 'string' ? meta['namespace'] : 'default';
  const subject = `${kind} ${namespace === undefined ? '' : `${namespace}/`}${name ?? '<unnamed>'}`;

  const issues: Issue[] = [];
  if (!versions.includes(apiVersion)) {
    issues.push({ path: ['apiVersion'], message: `${apiVersion} is not accepted for ${kind} (expected ${versions.join(', ')})` });
  }
  walk(value, kindSchemas[type as TypeKey], [], issues);
  const problems = issues
    .map((i) => problem(i.path, `${subject}: ${formatPath(i.path) || '(document)'}: ${i.message}`))
    .sort((a, b) => a.line - b.line);
  const key = name === undefined ? undefined : objectKey({ apiVersion, kind, metadata: { name, namespace } });
  if (problems.length > 0) return { key, problems, origin };

  const metadata = { ...meta, name: name!, namespace };
  if (scoped) delete metadata.namespace;
  const object = { ...value, metadata, origin } as unknown as AnyObject;
  return { key, object, problems, origin };
}

/** validateObject for a document from parseYamlDocuments. */
export function validateDocument(doc: RawDocument): ValidatedDocument {
  return validateObject(doc.value, doc.origin, doc.locate);
}
