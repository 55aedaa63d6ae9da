import { create } from '@bufbuild/protobuf';
import { OnDemandSchema } from '../../gen/envoy/extensions/filters/http/on_demand/v3/on_demand_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import { adsConfigSource, durationMs, typed } from './common.js';

/**
 * On-demand clusters (issue 16's automatic scoping), in Envoy's own shape:
 * Envoy's on_demand HTTP filter with ODCDS. A sidecar that asks for it with
 * node metadata ENABLE_ON_DEMAND_CDS=true, on Delta xDS (ODCDS needs it;
 * sotw-stream.ts drops the flag), gets in its wildcard CDS only the clusters
 * no HTTP route needs: the service clusters of HTTP ports come when its app
 * first calls the service, by name over the same stream; its routes still
 * name them all. TCP ports' clusters stay in the wildcard set (tcp_proxy has
 * no on-demand lookup here). Sidecars without capture (loopback.ts) too:
 * their VIP listeners copy 0.0.0.0_PORT's chains. Not for routers,
 * waypoints, proxyless gRPC or HBONE sidecars: they keep the full set.
 */
export const ON_DEMAND_METADATA = 'ENABLE_ON_DEMAND_CDS';

/** Envoy's default when odcds.timeout is unset. */
const ODCDS_TIMEOUT_MS = 5000;

export const onDemandFilterName = 'envoy.filters.http.on_demand';

export function wantsOnDemandClusters(node: ProxyNode): boolean {
  return node.type === 'sidecar' && node.generator === 'envoy' && node.metadata[ON_DEMAND_METADATA] === 'true';
}

/** The on_demand filter: clusters over the ADS stream, a request held up to the timeout. */
export function onDemandFilter(): HttpFilter {
  return create(HttpFilterSchema, {
    name: onDemandFilterName,
    configType: { case: 'typedConfig', value: typed(OnDemandSchema, { odcds: { source: adsConfigSource(), timeout: durationMs(ODCDS_TIMEOUT_MS) } }) },
  });
}
