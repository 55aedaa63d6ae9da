/** Filters the proxy does not implement are refused (NACK), never silently skipped. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { compileListener } from '../../../src/proxy/listener/listener-plan.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema, type HttpFilter } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../../src/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../../src/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { HTTPFaultSchema } from '../../../src/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';

const router = { name: 'envoy.filters.http.router', configType: { case: 'typedConfig' as const, value: anyPack(RouterSchema, create(RouterSchema)) } };
const fault = { name: 'envoy.filters.http.fault', configType: { case: 'typedConfig' as const, value: anyPack(HTTPFaultSchema, create(HTTPFaultSchema)) } };
const rbac = { name: 'envoy.filters.http.rbac', configType: { case: 'typedConfig' as const, value: anyPack(HttpRbacSchema, create(HttpRbacSchema)) } };
/** A filter this proxy does not have (JWT authentication), with an empty config. */
const extAuthz = (isOptional = false) => ({ name: 'envoy.filters.http.ext_authz', isOptional, configType: { case: 'typedConfig' as const, value: { typeUrl: 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz', value: new Uint8Array() } as Any } });

function listener(networkFilters: { name: string; any: Any }[]) {
  return create(ListenerSchema, {
    name: 'l',
    address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 0 } } } },
    filterChains: [{ filters: networkFilters.map((f) => ({ name: f.name, configType: { case: 'typedConfig' as const, value: f.any } })) }],
  });
}
function hcm(httpFilters: Partial<HttpFilter>[]) {
  const m = create(HttpConnectionManagerSchema, {
    statPrefix: 'x',
    routeSpecifier: { case: 'rds', value: { routeConfigName: 'r', configSource: { configSourceSpecifier: { case: 'ads', value: {} } } } },
    httpFilters: httpFilters as HttpFilter[],
  });
  return { name: 'envoy.filters.network.http_connection_manager', any: anyPack(HttpConnectionManagerSchema, m) };
}
function errorsOf(l: ReturnType<typeof listener>): string {
  const r = compileListener(l);
  return r.ok ? '' : r.errors.join('\n');
}

describe('unsupported filters are NACKed', () => {
  test('RBAC, fault and the router are accepted', () => {
    assert.equal(errorsOf(listener([hcm([rbac, fault, router])])), '');
  });

  test('an unknown HTTP filter is refused with its path, unless marked optional', () => {
    assert.match(errorsOf(listener([hcm([extAuthz(), router])])), /filterChains\[0\]\.filters\[0\]\.typedConfig\.httpFilters\[0\]: unsupported HTTP filter envoy\.filters\.http\.ext_authz/);
    assert.equal(errorsOf(listener([hcm([extAuthz(true), router])])), '');
  });

  test('the router must be last', () => {
    assert.match(errorsOf(listener([hcm([router, fault])])), /httpFilters\[0\]: the router must be the last HTTP filter/);
  });

  test('a network RBAC filter goes in front of the terminal filter, never after it', () => {
    const netRbac = { name: 'envoy.filters.network.rbac', any: anyPack(NetworkRbacSchema, create(NetworkRbacSchema, { statPrefix: 'tcp.' })) };
    assert.equal(errorsOf(listener([netRbac, hcm([router])])), '');
    assert.match(errorsOf(listener([hcm([router]), netRbac])), /filters\[1\]: follows the terminal filter http_connection_manager/);
  });

  test('an unknown network filter (Istio metadata exchange) is refused with its path', () => {
    const mx = { name: 'istio.metadata_exchange', any: { typeUrl: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', value: new Uint8Array() } as Any };
    assert.match(errorsOf(listener([mx, hcm([router])])), /filters\[0\]: unsupported network filter istio\.metadata_exchange/);
  });

  test('a network RBAC filter needs its stat_prefix', () => {
    const bare = { name: 'envoy.filters.network.rbac', any: anyPack(NetworkRbacSchema, create(NetworkRbacSchema)) };
    assert.match(errorsOf(listener([bare, hcm([router])])), /filters\[0\]\.typedConfig\.statPrefix: missing/);
  });
});
