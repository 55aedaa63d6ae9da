/** Regressions found by the proxy validation fuzz target (xds-proxy-validate.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { decodeAll } from '../../src/proxy/xds-client/decode-all.js';
import { INTERNAL_ERROR, listenerType, routeType } from '../../src/proxy/xds-client/proxy-types.js';
import { routeConfig } from '../integration/proxy/xds-builders.js';
import * as sec from '../integration/proxy/security-builders.js';

function listenerWithAccessLog(typedConfig: Any): Any {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: 'http',
    routeSpecifier: { case: 'rds', value: { routeConfigName: 'routes', configSource: { configSourceSpecifier: { case: 'ads', value: {} } } } },
    accessLog: [{ name: 'envoy.access_loggers.file', configType: { case: 'typedConfig', value: typedConfig } }],
  });
  return anyPack(ListenerSchema, create(ListenerSchema, {
    name: 'http',
    address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 0 } } } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }] }],
  }));
}

// compileAccessLog unpacked the Any without a guard: decode threw, the xDS client logged it and the response
// was neither ACKed nor NACKed, so the control plane never learned why the listener did not apply.
test('issue 8 (fuzz): an access log typed_config whose bytes do not decode is NACKed with its field path', () => {
  const broken = { $typeName: 'google.protobuf.Any', typeUrl: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', value: Uint8Array.of(0x00) } as Any;
  const r = decodeAll(listenerType, [{ any: listenerWithAccessLog(broken), name: undefined, version: '1' }]);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && !r.detail.includes(INTERNAL_ERROR), !r.ok ? r.detail : '');
  assert.match(!r.ok ? r.detail : '', /^LDS http: filterChains\[0\]\.filters\[0\]\.typedConfig\.accessLog\[0\]\.typedConfig: cannot decode type\.googleapis\.com\/envoy\.extensions\.access_loggers\.file\.v3\.FileAccessLog: /);
});

// V8 compiles a RegExp on first use: a pattern too large for it passed validation and threw
// "Regular expression too large" while matching the first request.
test('issue 8 (fuzz): a safe_regex too large for V8 is NACKed, not thrown while routing', () => {
  const huge = 'a'.repeat(100_000);
  const any = routeConfig('routes', [{ name: 'vh', domains: ['*'], routes: [{ match: { pathSpecifier: { case: 'safeRegex', value: { regex: huge } } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'a' } } } }] }]);
  const r = decodeAll(routeType, [{ any, name: undefined, version: '1' }]);
  assert.equal(r.ok, false);
  const detail = !r.ok ? r.detail : '';
  assert.match(detail, /^RDS routes: virtualHosts\[0\]\.routes\[0\]\.match\.safeRegex\.regex: invalid regex "a+…\(100000 bytes\)": .*Regular expression too large$/);
  assert.ok(detail.length < 1000, `a NACK detail of ${detail.length} characters`);
});

// A CIDR prefix_len beyond the address width became a BigInt shift of ~2^32 bits: "Maximum BigInt size
// exceeded" thrown out of the validator (issue 9's RBAC IP principals; the filter chain prefix ranges had it too).
test('issue 9 (fuzz): a CIDR prefix_len longer than the address is NACKed with its path, in RBAC and in chain matches', () => {
  const huge = 0xffffffff;
  const any = sec.inboundListener('in', 0, [{
    filterChainMatch: { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: huge }] },
    filters: [sec.networkRbac(sec.allow({ p: { permissions: [{ rule: { case: 'any', value: true } }], principals: [{ identifier: { case: 'remoteIp', value: { addressPrefix: 'fd00::', prefixLen: 129 } } }] } })), sec.tcpProxy('in', 'c')],
  }], []);
  const r = decodeAll(listenerType, [{ any, name: undefined, version: '1' }]);
  const detail = !r.ok ? r.detail : '';
  assert.ok(!detail.includes(INTERNAL_ERROR), detail);
  assert.match(detail, /filterChains\[0\]\.filterChainMatch\.prefixRanges\[0\]\.prefixLen: 4294967295 is longer than the address \(32 bits\)/);
  assert.match(detail, /principals\[0\]\.remoteIp\.prefixLen: 129 is longer than the address \(128 bits\)/);
});
