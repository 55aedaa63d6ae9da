/**
 * A proxy's listeners with the access logs its Telemetry chose: every HTTP
 * connection manager and TCP proxy of an inbound listener gets the SERVER
 * side's loggers, of an outbound one (and of a gateway's) the CLIENT side's —
 * as istiod sets them per listener class. A pass over the translated
 * listeners rather than a parameter of every builder: listeners are shared
 * across scopes and workloads (shared-cache.ts), and a mesh without
 * Telemetry never pays for this. Pure; memoised on the resources' identity.
 */
import { clone, create } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { AccessLogSchema, type AccessLog } from '../../../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { TrafficDirection } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { DataSourceSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { SubstitutionFormatStringSchema } from '../../../gen/envoy/config/core/v3/substitution_format_string_pb.js';
import type { Filter, FilterChain } from '../../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema, type Listener } from '../../../gen/envoy/config/listener/v3/listener_pb.js';
import { FileAccessLogSchema } from '../../../gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { HttpConnectionManagerSchema } from '../../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { ISTIO_DEFAULT_FORMAT } from '../../../xds/istio-log-format.js';
import { toResource, type ResourceSet, type XdsResource } from '../../wire/resource.js';
import { typed } from '../common.js';
import { FilterName } from '../hcm.js';
import type { AccessLogChoice, AccessLogPolicy } from './access-log-policy.js';

/**
 * The `envoy` provider as istiod writes it (its default mesh config's
 * envoyFileAccessLog: /dev/stdout, no format given → Istio's text format).
 */
export function envoyProviderLog(): AccessLog {
  const logFormat = create(SubstitutionFormatStringSchema, {
    format: { case: 'textFormatSource', value: create(DataSourceSchema, { specifier: { case: 'inlineString', value: ISTIO_DEFAULT_FORMAT } }) },
  });
  return create(AccessLogSchema, { name: FilterName.fileLog, configType: { case: 'typedConfig', value: typed(FileAccessLogSchema, { path: '/dev/stdout', accessLogFormat: { case: 'logFormat', value: logFormat } }) } });
}

function loggersFor(choice: Exclude<AccessLogChoice, 'mesh-default'>): AccessLog[] {
  return choice === 'envoy' ? [envoyProviderLog()] : [];
}

function relog(f: Filter, logs: AccessLog[]): void {
  if (f.configType.case !== 'typedConfig') return;
  if (f.name === FilterName.hcm) {
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
    if (!hcm) return;
    hcm.accessLog = logs;
    f.configType = { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) };
  } else if (f.name === FilterName.tcpProxy) {
    const tcp = anyUnpack(f.configType.value, TcpProxySchema);
    if (!tcp) return;
    tcp.accessLog = logs;
    f.configType = { case: 'typedConfig', value: anyPack(TcpProxySchema, tcp) };
  }
}

/** The listener with every HCM's and TCP proxy's access logs replaced (a copy: the original is shared). */
export function listenerWithLogs(l: Listener, choice: Exclude<AccessLogChoice, 'mesh-default'>): Listener {
  const x = clone(ListenerSchema, l);
  const chains: FilterChain[] = x.defaultFilterChain ? [...x.filterChains, x.defaultFilterChain] : x.filterChains;
  for (const chain of chains) for (const f of chain.filters) relog(f, loggersFor(choice));
  return x;
}

/** Rewrites listener sets for one Generator (one push); proxies with the same policy share the result. */
export class ListenerAccessLogs {
  readonly #byResource = new WeakMap<XdsResource, Map<AccessLogChoice, XdsResource>>();
  readonly #bySet = new WeakMap<ResourceSet, Map<string, ResourceSet>>();

  /** `gateway`: every listener is the CLIENT side (istiod's gateway class). */
  apply(listeners: ResourceSet, policy: AccessLogPolicy, gateway: boolean): ResourceSet {
    const key = `${policy.client}/${policy.server}/${gateway}`;
    let byKey = this.#bySet.get(listeners);
    if (!byKey) this.#bySet.set(listeners, (byKey = new Map()));
    let hit = byKey.get(key);
    if (!hit) {
      const out = new Map<string, XdsResource>();
      for (const [name, r] of listeners) out.set(name, this.#one(r, policy, gateway));
      byKey.set(key, (hit = out));
    }
    return hit;
  }

  #one(r: XdsResource, policy: AccessLogPolicy, gateway: boolean): XdsResource {
    const l = r.message as Listener;
    const choice = !gateway && l.trafficDirection === TrafficDirection.INBOUND ? policy.server : policy.client;
    if (choice === 'mesh-default') return r;
    let byChoice = this.#byResource.get(r);
    if (!byChoice) this.#byResource.set(r, (byChoice = new Map()));
    let hit = byChoice.get(choice);
    if (!hit) byChoice.set(choice, (hit = toResource(ListenerSchema, r.name, listenerWithLogs(l, choice))));
    return hit;
  }
}
