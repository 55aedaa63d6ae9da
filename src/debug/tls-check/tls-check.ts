/**
 * `trellis tls-check`: for each destination a client can reach (every
 * service port, and every DestinationRule subset whose TLS setting differs),
 * the server's mTLS mode, the client's TLS mode and whether they agree.
 *
 * The client's mode is the DestinationRule's tls.mode as seen from the
 * client's namespace (port and subset settings merged as istiod merges them),
 * else auto mTLS: ISTIO_MUTUAL to endpoints with a sidecar that does not
 * DISABLE mTLS, plain text to the others — shown "ISTIO_MUTUAL (auto)". A
 * client without a sidecar sends plain text. CONFLICT when some endpoint
 * cannot accept what the client sends: plain text (or the app's own TLS) to
 * STRICT, Istio mTLS to DISABLE or to a workload without a sidecar.
 */
import type { ClientTLSSettings, PeerAuthentication, Pod } from '../../config/objects.js';
import type { MeshService } from '../../controlplane/registry/model.js';
import { isExportedTo } from '../../controlplane/registry/visibility.js';
import { effectivePolicy } from '../../controlplane/translate/destination-rule.js';
import { hasSidecar, namespacesOf } from '../injection.js';
import type { MeshConfig } from '../mesh-config.js';
import { serverEndpoints, type ServerContext, type ServerEndpoint } from './server-side.js';

export interface TlsCheckRow {
  /** "host:port", with " (subset)" for a subset row. */
  destination: string;
  status: 'OK' | 'CONFLICT';
  server: string;
  client: string;
  authnPolicy: string;
  destinationRule: string;
  /** Why the row is a CONFLICT, one phrase per kind of endpoint that refuses. */
  reasons: string[];
}

export interface TlsClient {
  namespace: string;
  sidecar: boolean;
}

export const TLS_CHECK_HEADER = ['HOST:PORT', 'STATUS', 'SERVER', 'CLIENT', 'AUTHN POLICY', 'DESTINATION RULE'] as const;

type Sent = 'mtls' | 'plain' | 'tls';

/** What the client sends to one endpoint, and how the CLIENT column names it. */
function clientMode(tls: ClientTLSSettings | undefined, client: TlsClient, eps: readonly ServerEndpoint[]): { label: string; sends: (e: ServerEndpoint) => Sent } {
  if (!client.sidecar) return { label: 'DISABLE (no sidecar)', sends: () => 'plain' };
  const mode = tls?.mode;
  if (mode === 'ISTIO_MUTUAL') return { label: mode, sends: () => 'mtls' };
  if (mode === 'DISABLE') return { label: mode, sends: () => 'plain' };
  if (mode === 'SIMPLE' || mode === 'MUTUAL') return { label: mode, sends: () => 'tls' };
  const auto = (e: ServerEndpoint): Sent => (e.mode !== undefined && e.mode !== 'DISABLE' ? 'mtls' : 'plain');
  const kinds = new Set(eps.map(auto));
  const label = kinds.size === 0 || (kinds.size === 1 && kinds.has('mtls')) ? 'ISTIO_MUTUAL' : kinds.size === 1 ? 'DISABLE' : 'ISTIO_MUTUAL|DISABLE';
  return { label: `${label} (auto)`, sends: auto };
}

function refusal(e: ServerEndpoint, sent: Sent): string | undefined {
  if (sent === 'mtls' && e.mode === undefined) return 'Istio mTLS to a workload without a sidecar, which expects plain text';
  if (sent === 'mtls' && e.mode === 'DISABLE') return 'Istio mTLS to a server whose PeerAuthentication is DISABLE';
  if (sent === 'plain' && e.mode === 'STRICT') return 'plain text to a server whose PeerAuthentication is STRICT';
  if (sent === 'tls' && e.mode === 'STRICT') return "the client's own TLS to a server that is STRICT (it expects Istio mTLS)";
  return undefined;
}

const distinct = (xs: readonly string[]) => [...new Set(xs)];

function row(destination: string, eps: readonly ServerEndpoint[], tls: ClientTLSSettings | undefined, client: TlsClient, dr: string): TlsCheckRow {
  const { label, sends } = clientMode(tls, client, eps);
  const reasons = distinct(eps.map((e) => refusal(e, sends(e))).filter((r): r is string => r !== undefined));
  const servers = distinct(eps.map((e) => e.mode ?? 'none (no sidecar)'));
  const policies = distinct(eps.map((e) => e.policy ?? '').filter(Boolean));
  return {
    destination,
    status: reasons.length > 0 ? 'CONFLICT' : 'OK',
    server: servers.length > 0 ? servers.join('|') : '-',
    client: label,
    authnPolicy: policies.length > 0 ? policies.join(',') : '-',
    destinationRule: dr,
    reasons,
  };
}

function serviceRows(ctx: ServerContext, cfg: MeshConfig, svc: MeshService, client: TlsClient): TlsCheckRow[] {
  const dr = cfg.model.destinationRule(svc.hostname, client.namespace);
  const drName = dr ? `${dr.metadata.name}.${dr.metadata.namespace}` : '-';
  const rows: TlsCheckRow[] = [];
  for (const p of svc.ports) {
    if (p.protocol === 'UDP') continue;
    const tls = effectivePolicy(dr, p.port, undefined).tls;
    rows.push(row(`${svc.hostname}:${p.port}`, serverEndpoints(ctx, svc, p.port), tls, client, drName));
    for (const s of dr?.spec.subsets ?? []) {
      const subsetTls = effectivePolicy(dr, p.port, s.name).tls;
      if (subsetTls === tls) continue;
      rows.push(row(`${svc.hostname}:${p.port} (${s.name})`, serverEndpoints(ctx, svc, p.port, s.labels ?? {}), subsetTls, client, drName));
    }
  }
  return rows;
}

/** "reviews" matches reviews.*, "reviews.default" matches reviews.default.*; an FQDN matches itself. */
function hostSelected(hostname: string, filter: string | undefined): boolean {
  return filter === undefined || hostname === filter || hostname.startsWith(`${filter}.`);
}

/** Rows for what `client` (a pod; undefined: a sidecar in each service's own namespace) can reach, sorted by destination. */
export function tlsCheck(cfg: MeshConfig, clientPod: Pod | undefined, hostFilter?: string): TlsCheckRow[] {
  const namespaces = namespacesOf(cfg.objects);
  const pods = new Map(cfg.objects.filter((o): o is Pod => o.kind === 'Pod').map((p) => [`Pod/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`, p]));
  const ctx: ServerContext = { model: cfg.model, pods, namespaces, peerAuthentications: cfg.objects.filter((o): o is PeerAuthentication => o.kind === 'PeerAuthentication') };
  const rows: TlsCheckRow[] = [];
  for (const svc of cfg.model.services) {
    if (!hostSelected(svc.hostname, hostFilter)) continue;
    const client: TlsClient = clientPod
      ? { namespace: clientPod.metadata.namespace ?? 'default', sidecar: hasSidecar(clientPod, namespaces) }
      : { namespace: svc.namespace, sidecar: true };
    if (clientPod && !isExportedTo(svc.exportTo, svc.namespace, client.namespace)) continue;
    rows.push(...serviceRows(ctx, cfg, svc, client));
  }
  return rows.sort((a, b) => a.destination.localeCompare(b.destination, 'en', { numeric: true }));
}
