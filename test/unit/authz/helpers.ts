import { toJson, type JsonValue } from '@bufbuild/protobuf';
import { parse } from 'yaml';
import { FilterSchema } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpFilterSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { buildAuthzFilters } from '../../../src/controlplane/translate/authz/builder.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { stateOf } from '../translate/helpers.js';

/** The workload every table case is built for: app=httpbin, version=v1 in namespace foo. */
export const workload = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };

/**
 * AuthorizationPolicy YAML in, the RBAC filters as proto3 JSON out — the
 * form of istiod's own golden files (protojson). Policies are selected and
 * ordered by the real model, as for a proxy.
 */
export function rbacJson(policyYaml: string, opts: { trustDomain?: string } = {}): { http: JsonValue[]; tcp: JsonValue[] } {
  const model = buildModel(stateOf(policyYaml), { trustDomain: opts.trustDomain });
  const policies = model.authorizationPoliciesFor(workload.namespace, workload.labels);
  const f = buildAuthzFilters(policies, model.trustDomain);
  return {
    http: f.http.map((x) => toJson(HttpFilterSchema, x, { registry: xdsRegistry })),
    tcp: f.tcp.map((x) => toJson(FilterSchema, x, { registry: xdsRegistry })),
  };
}

/** Expected output written as YAML, like istiod's testdata. */
export function expected(yamlText: string): JsonValue {
  return parse(yamlText) as JsonValue;
}
