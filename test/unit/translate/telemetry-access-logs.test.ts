/**
 * Telemetry access logging through the real generator: which HTTP
 * connection managers and TCP proxies of a sidecar get an access log, on
 * which side (CLIENT: outbound listeners, SERVER: virtualInbound), for
 * Telemetries at the root, namespace and workload levels — istiod's
 * mergeLogs for the built-in `envoy` provider.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import type { AccessLog } from '../../../src/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { FileAccessLogSchema } from '../../../src/gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { ISTIO_DEFAULT_FORMAT } from '../../../src/xds/istio-log-format.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { bookinfo, modelOf, sidecarNode, testRoutes } from './helpers.js';

const telemetry = (name: string, namespace: string, spec: string) =>
  `\n---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${spec}\n`;

interface Logged {
  /** The loggers of every HCM and TCP proxy on outbound listeners (deduplicated: `none` when some have none). */
  client: string[];
  server: string[];
  /** How many HCMs and TCP proxies were looked at on each side (so an empty answer is not vacuous). */
  counted: { client: number; server: number };
}

function loggersOf(logs: AccessLog[]): string {
  if (logs.length === 0) return 'none';
  return logs.map((a) => {
    if (a.name !== 'envoy.access_loggers.file') return a.name;
    const f = anyUnpack(a.configType.value as never, FileAccessLogSchema)!;
    const fmt = f.accessLogFormat.case === 'logFormat' ? f.accessLogFormat.value.format : undefined;
    const inline = fmt?.case === 'textFormatSource' && fmt.value.specifier.case === 'inlineString' ? fmt.value.specifier.value : '';
    return `file:${f.path}:${inline === ISTIO_DEFAULT_FORMAT ? 'istio-format' : 'other-format'}`;
  }).join('+');
}

/** Every access log configuration a sidecar gets, by side. */
function logged(config: string, pod: string, ip: string, namespace = 'default'): Logged {
  const gen = createGenerator(modelOf(bookinfo + config), testRoutes);
  const out = { client: new Set<string>(), server: new Set<string>() };
  const counted = { client: 0, server: 0 };
  for (const r of gen.generate(sidecarNode(ip, pod, namespace), TypeUrl.Listener, undefined).values()) {
    const l = r.message as Listener;
    const side = l.trafficDirection === TrafficDirection.INBOUND ? 'server' : 'client';
    for (const chain of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) {
      for (const f of chain.filters) {
        const any = f.configType.value as never;
        const logs = f.name === 'envoy.filters.network.http_connection_manager' ? anyUnpack(any, HttpConnectionManagerSchema)!.accessLog
          : f.name === 'envoy.filters.network.tcp_proxy' ? anyUnpack(any, TcpProxySchema)!.accessLog : undefined;
        if (!logs) continue;
        out[side].add(loggersOf(logs));
        counted[side]++;
      }
    }
  }
  return { client: [...out.client].sort(), server: [...out.server].sort(), counted };
}

const stdout = ['envoy.access_loggers.stdout'];
const envoy = ['file:/dev/stdout:istio-format'];
const none = ['none'];

test('without Telemetry every HCM and TCP proxy, both sides, keeps the mesh default (stdout)', () => {
  const got = logged('', 'reviews-v1', '10.0.0.1');
  assert.deepEqual([got.client, got.server], [stdout, stdout]);
  // Outbound: 0.0.0.0_9080 (HTTP), the db TCP listener, the passthrough chain; inbound: HTTP and passthrough chains.
  assert.ok(got.counted.client >= 3 && got.counted.server >= 2, JSON.stringify(got.counted));
});

test('a root-namespace Telemetry turning on the envoy provider: istiod\'s file logger to /dev/stdout with Istio\'s format, everywhere', () => {
  const got = logged(telemetry('mesh-default', 'istio-system', '  accessLogging:\n  - providers: [{name: envoy}]'), 'reviews-v1', '10.0.0.1');
  assert.deepEqual([got.client, got.server], [envoy, envoy]);
});

test('disabled: true at the root turns access logs off (Istio\'s default profile)', () => {
  const got = logged(telemetry('mesh-default', 'istio-system', '  accessLogging:\n  - disabled: true'), 'reviews-v1', '10.0.0.1');
  assert.deepEqual([got.client, got.server], [none, none]);
});

test('a namespace Telemetry overrides the root one; other namespaces keep the root\'s', () => {
  const config = telemetry('mesh-default', 'istio-system', '  accessLogging:\n  - providers: [{name: envoy}]')
    + telemetry('quiet', 'default', '  accessLogging:\n  - disabled: true');
  assert.deepEqual(Object.values(logged(config, 'reviews-v1', '10.0.0.1')).slice(0, 2), [none, none]);
  assert.deepEqual(Object.values(logged(config, 'db-0', '10.0.2.1', 'other')).slice(0, 2), [envoy, envoy]);
});

test('match.mode: CLIENT logs outbound only, SERVER inbound only, CLIENT_AND_SERVER both', () => {
  const at = (mode: string) => logged(telemetry('mesh-default', 'istio-system', `  accessLogging:\n  - providers: [{name: envoy}]\n    match: {mode: ${mode}}`), 'reviews-v1', '10.0.0.1');
  assert.deepEqual([at('CLIENT').client, at('CLIENT').server], [envoy, none]);
  assert.deepEqual([at('SERVER').client, at('SERVER').server], [none, envoy]);
  assert.deepEqual([at('CLIENT_AND_SERVER').client, at('CLIENT_AND_SERVER').server], [envoy, envoy]);
});

test('a workload Telemetry (selector) overrides for the pods it selects only; its entry without providers means the parent\'s', () => {
  const config = telemetry('mesh-default', 'istio-system', '  accessLogging:\n  - providers: [{name: envoy}]')
    + telemetry('v1-quiet-inbound', 'default', '  selector: {matchLabels: {app: reviews, version: v1}}\n  accessLogging:\n  - disabled: true\n    match: {mode: SERVER}');
  const v1 = logged(config, 'reviews-v1', '10.0.0.1');
  assert.deepEqual([v1.client, v1.server], [envoy, none]);
  const v2 = logged(config, 'reviews-v2', '10.0.0.2');
  assert.deepEqual([v2.client, v2.server], [envoy, envoy]);
});

test('a provider Trellis does not have logs nothing (istiod skips a provider its mesh config lacks); Telemetry without accessLogging changes nothing', () => {
  const otel = logged(telemetry('mesh-default', 'istio-system', '  accessLogging:\n  - providers: [{name: otel}]'), 'reviews-v1', '10.0.0.1');
  assert.deepEqual([otel.client, otel.server], [none, none]);
  const metricsOnly = logged(telemetry('mesh-default', 'istio-system', '  metrics:\n  - providers: [{name: prometheus}]'), 'reviews-v1', '10.0.0.1');
  assert.deepEqual([metricsOnly.client, metricsOnly.server], [stdout, stdout]);
});

test('a Telemetry with a targetRef configures no sidecar; of two namespace-wide ones the oldest wins', () => {
  const ref = logged(telemetry('gw', 'default', '  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n  accessLogging:\n  - disabled: true'), 'reviews-v1', '10.0.0.1');
  assert.deepEqual([ref.client, ref.server], [stdout, stdout]);
  const two = telemetry('b-on', 'default', '  accessLogging:\n  - providers: [{name: envoy}]').replace('name: b-on,', 'name: b-on, creationTimestamp: "2024-01-01T00:00:00Z",')
    + telemetry('a-off', 'default', '  accessLogging:\n  - disabled: true').replace('name: a-off,', 'name: a-off, creationTimestamp: "2024-06-01T00:00:00Z",');
  const got = logged(two, 'reviews-v1', '10.0.0.1');
  assert.deepEqual([got.client, got.server], [envoy, envoy]);
});

test('proxies with the same access log policy share the rewritten listeners (one encoding per push)', () => {
  const config = telemetry('mesh-default', 'istio-system', '  accessLogging:\n  - providers: [{name: envoy}]\n    match: {mode: CLIENT}');
  const gen = createGenerator(modelOf(bookinfo + config), testRoutes);
  const a = gen.generate(sidecarNode('10.0.0.1', 'reviews-v1', 'default'), TypeUrl.Listener, undefined);
  const b = gen.generate(sidecarNode('10.0.0.2', 'reviews-v2', 'default'), TypeUrl.Listener, undefined);
  assert.equal(a.get('0.0.0.0_9080'), b.get('0.0.0.0_9080'));
});
