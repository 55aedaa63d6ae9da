import { createRegistry, type Registry } from '@bufbuild/protobuf';
import { file_envoy_admin_v3_config_dump } from '../gen/envoy/admin/v3/config_dump_pb.js';
import { file_envoy_admin_v3_config_dump_shared } from '../gen/envoy/admin/v3/config_dump_shared_pb.js';
import { file_envoy_config_cluster_v3_cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { file_envoy_config_endpoint_v3_endpoint } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { file_envoy_config_listener_v3_listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { file_envoy_config_route_v3_route } from '../gen/envoy/config/route/v3/route_pb.js';
import { file_envoy_extensions_access_loggers_file_v3_file } from '../gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { file_envoy_extensions_access_loggers_stream_v3_stream } from '../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import { file_envoy_extensions_filters_http_cors_v3_cors } from '../gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { file_envoy_extensions_filters_http_fault_v3_fault } from '../gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { file_envoy_extensions_filters_http_rbac_v3_rbac } from '../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { file_envoy_extensions_filters_http_jwt_authn_v3_config } from '../gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { file_envoy_extensions_filters_http_router_v3_router } from '../gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { file_envoy_extensions_filters_listener_http_inspector_v3_http_inspector } from '../gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { file_envoy_extensions_filters_listener_original_dst_v3_original_dst } from '../gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector } from '../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { file_envoy_extensions_filters_network_rbac_v3_rbac } from '../gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy } from '../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { file_envoy_extensions_path_match_uri_template_v3_uri_template_match } from '../gen/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.js';
import { file_envoy_extensions_load_balancing_policies_round_robin_v3_round_robin } from '../gen/envoy/extensions/load_balancing_policies/round_robin/v3/round_robin_pb.js';
import { file_envoy_extensions_transport_sockets_raw_buffer_v3_raw_buffer } from '../gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_tls } from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { file_envoy_extensions_network_dns_resolver_cares_v3_cares_dns_resolver } from '../gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { file_envoy_service_discovery_v3_discovery } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { file_networking_nds_v1_nds } from '../gen/networking/nds/v1/nds_pb.js';
import { file_envoy_extensions_filters_http_set_filter_state_v3_set_filter_state } from '../gen/envoy/extensions/filters/http/set_filter_state/v3/set_filter_state_pb.js';
import { file_envoy_extensions_filters_http_on_demand_v3_on_demand } from '../gen/envoy/extensions/filters/http/on_demand/v3/on_demand_pb.js';
import { file_envoy_extensions_filters_network_set_filter_state_v3_set_filter_state } from '../gen/envoy/extensions/filters/network/set_filter_state/v3/set_filter_state_pb.js';
import { file_envoy_extensions_transport_sockets_internal_upstream_v3_internal_upstream } from '../gen/envoy/extensions/transport_sockets/internal_upstream/v3/internal_upstream_pb.js';
import { file_envoy_extensions_bootstrap_internal_listener_v3_internal_listener } from '../gen/envoy/extensions/bootstrap/internal_listener/v3/internal_listener_pb.js';

/**
 * Every message type that may appear inside a google.protobuf.Any in what we
 * send or receive. Needed to print resources as JSON (config_dump) and to
 * unpack typed_config in the proxy.
 */
export const xdsRegistry: Registry = createRegistry(
  file_envoy_admin_v3_config_dump,
  file_envoy_admin_v3_config_dump_shared,
  file_envoy_config_cluster_v3_cluster,
  file_envoy_config_endpoint_v3_endpoint,
  file_envoy_config_listener_v3_listener,
  file_envoy_config_route_v3_route,
  file_envoy_extensions_access_loggers_file_v3_file,
  file_envoy_extensions_access_loggers_stream_v3_stream,
  file_envoy_extensions_filters_http_cors_v3_cors,
  file_envoy_extensions_filters_http_fault_v3_fault,
  file_envoy_extensions_filters_http_rbac_v3_rbac,
  file_envoy_extensions_filters_http_jwt_authn_v3_config,
  file_envoy_extensions_filters_http_router_v3_router,
  file_envoy_extensions_filters_listener_http_inspector_v3_http_inspector,
  file_envoy_extensions_filters_listener_original_dst_v3_original_dst,
  file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector,
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  file_envoy_extensions_filters_network_rbac_v3_rbac,
  file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy,
  file_envoy_extensions_load_balancing_policies_round_robin_v3_round_robin,
  file_envoy_extensions_network_dns_resolver_cares_v3_cares_dns_resolver,
  file_envoy_extensions_path_match_uri_template_v3_uri_template_match,
  file_envoy_extensions_transport_sockets_raw_buffer_v3_raw_buffer,
  file_envoy_extensions_transport_sockets_tls_v3_secret,
  file_envoy_extensions_transport_sockets_tls_v3_tls,
  file_envoy_extensions_upstreams_http_v3_http_protocol_options,
  file_envoy_service_discovery_v3_discovery,
  file_networking_nds_v1_nds,
  // HBONE in the proxy: istiod's waypoint and sidecar HBONE config (docs/ARCHITECTURE.md, "HBONE in the proxy").
  file_envoy_extensions_filters_http_on_demand_v3_on_demand,
  file_envoy_extensions_filters_http_set_filter_state_v3_set_filter_state,
  file_envoy_extensions_filters_network_set_filter_state_v3_set_filter_state,
  file_envoy_extensions_transport_sockets_internal_upstream_v3_internal_upstream,
  file_envoy_extensions_bootstrap_internal_listener_v3_internal_listener,
);
