/**
 * The whole walk, pure: the source sidecar's outbound side, then (given the
 * destination's config) its inbound side, and the access-log lines both
 * would write. Split in two so the caller can fetch the destination's
 * config once the endpoint is known.
 */
import { isIP } from 'node:net';
import type { Detected } from '../../proxy/listener/detect.js';
import { retriable } from '../../proxy/router/retry.js';
import { compileProxy, type CompiledProxy } from './compiled-proxy.js';
import { passProxy, type ProxyPass } from './proxy-walk.js';
import { parseRequest, type ParsedRequest } from './request.js';
import { outcome, Trail } from './trail.js';
import type { Explanation, Outcome, ProxySnapshot, RequestSpec } from './types.js';
import { chooseEndpoint, type UpstreamChoice } from './upstream-walk.js';

export interface OutboundPart {
  request: ParsedRequest;
  source: CompiledProxy;
  trail: Trail;
  pass: ProxyPass;
  upstream: UpstreamChoice | undefined;
}

/** The source sidecar's part; `upstream.endpoint` says whose config the inbound part needs. */
export function walkOutbound(spec: RequestSpec, source: ProxySnapshot): OutboundPart {
  const request = parseRequest(spec);
  const src = compileProxy(source);
  const t = new Trail('outbound');
  const address = destinationAddress(t, src, request);
  const http: Detected = { transport: 'raw_buffer', applicationProtocols: ['http/1.1'], serverName: '', http: 'h1' };
  const tls: Detected = { transport: 'tls', applicationProtocols: ['h2', 'http/1.1'], serverName: request.ip ? '' : request.host, http: 'h1' };
  const pass = passProxy(t, src, request, {
    dst: { address, port: request.port },
    source: { address: src.podIp ?? '127.0.0.1', port: 0 },
    detected: request.scheme === 'https' ? tls : http,
    peer: undefined,
  });
  const upstream = pass.cluster && !pass.answer && !pass.closed ? chooseEndpoint(t, src, pass.cluster, { address, port: request.port }) : undefined;
  return { request, source: src, trail: t, pass, upstream };
}

/** The destination's part (when its config is known) and the predictions. */
export function finishWalk(o: OutboundPart, destination: ProxySnapshot | undefined): Explanation {
  const { request: r, pass, upstream } = o;
  const out = o.trail;
  const inT = new Trail('inbound');
  let client: Outcome;
  let server: Outcome | undefined;
  let inbound: ProxyPass | undefined;
  let to: string | undefined;
  const cluster = pass.cluster ?? '';
  if (pass.answer) client = pass.answer;
  else if (pass.closed) client = outcome(0, [], 'the sidecar closes the connection: no HTTP answer, no access-log line', '');
  else if (!upstream?.endpoint) client = outcome(503, ['UH', ...pass.flags], 'no_healthy_upstream', cluster);
  else if (!destination) {
    out.notes.push(`${upstream.endpoint.address}:${upstream.endpoint.port} has no sidecar explain knows: the status is the app's`);
    client = outcome(0, pass.flags, 'via_upstream', cluster, true);
  } else {
    const dst = compileProxy(destination);
    to = dst.label;
    const tls = upstream.tls;
    const detected: Detected = tls
      ? { transport: 'tls', applicationProtocols: tls.alpn, serverName: tls.sni, http: upstream.http2 ? 'h2' : 'h1' }
      : { transport: 'raw_buffer', applicationProtocols: [upstream.http2 ? 'h2c' : 'http/1.1'], serverName: '', http: upstream.http2 ? 'h2' : 'h1' };
    const mutual = tls !== undefined && (tls.certSecret !== undefined || tls.inlineCert !== undefined);
    inbound = passProxy(inT, dst, r, { dst: upstream.endpoint, source: { address: o.source.podIp ?? '', port: 0 }, detected, peer: mutual ? o.source.identity : undefined });
    if (!inbound.closed && tls && !inbound.terminatesTls) {
      inT.add('server-tls', 'the client speaks TLS to a chain that expects plain text: the server cannot parse it and closes the connection');
      inbound.closed = true;
    }
    if (inbound.closed) client = reset(out, pass, cluster);
    else if (inbound.answer) {
      server = inbound.answer;
      client = outcome(server.status, pass.flags, 'via_upstream', cluster);
    } else {
      server = outcome(0, inbound.flags, 'via_upstream', inbound.cluster ?? '', true);
      client = outcome(0, pass.flags, 'via_upstream', cluster, true);
    }
  }
  const verdict = client.fromApp ? 'the app answers' : client.status === 0 ? client.responseCodeDetails : `${client.status} ${client.responseFlags}`;
  (inbound ? inT : out).add('result', `expected: ${verdict}`, [
    `source sidecar's access log: ${logText(client)}`,
    ...(server ? [`destination sidecar's access log: ${logText(server)}`] : []),
  ]);
  return {
    request: { method: r.method, url: r.url, authority: r.authority, path: r.path, requestId: r.requestId, ...(r.seed !== undefined ? { seed: r.seed } : {}) },
    from: o.source.label,
    ...(to ? { to } : {}),
    ...definedNames(pass, upstream, inbound),
    steps: [...out.steps, ...inT.steps],
    expected: { client, ...(server ? { server } : {}) },
    notes: [...out.notes, ...inT.notes, ...o.source.problems.map((p) => `source config: ${p}`)],
  };
}

/** The upstream connection closed before a response: the router's reset outcome, retried when the policy says so. */
function reset(t: Trail, pass: ProxyPass, cluster: string): Outcome {
  const retry = pass.action?.retry;
  const retried = retry !== undefined && retry.numRetries > 0 && retriable(retry, { kind: 'error', reason: 'reset', error: undefined });
  t.notes.push(retried ? `the reset is retried ${retry!.numRetries} times, each reset again (URX)` : 'the retry policy does not retry a reset');
  return outcome(503, ['UR', ...(retried ? ['URX'] : []), ...pass.flags], 'upstream_reset_before_response_started{connection_termination}', cluster);
}

function logText(o: Outcome): string {
  return `${o.fromApp ? "(the app's status)" : o.status} ${o.responseFlags} ${o.responseCodeDetails} ${o.upstreamCluster}`;
}

function definedNames(pass: ProxyPass, upstream: UpstreamChoice | undefined, inbound: ProxyPass | undefined): Partial<Explanation> {
  const n = pass.names;
  const e = upstream?.endpoint;
  const all: Partial<Explanation> = {
    listener: n.listener, filterChain: n.filterChain, routeConfiguration: n.routeConfiguration, virtualHost: n.virtualHost,
    route: n.route, cluster: n.cluster, endpoint: e ? `${e.address}:${e.port}` : undefined,
    inboundListener: inbound?.names.listener, inboundFilterChain: inbound?.names.filterChain,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined && v !== ''));
}

/**
 * The address the app connects to: the URL's IP, else the one the source's
 * route configurations list beside the name (istiod puts a service's cluster
 * IP among its virtual host's domains), as cluster DNS would answer.
 */
function destinationAddress(t: Trail, p: CompiledProxy, r: ParsedRequest): string {
  if (r.ip) return r.ip;
  const names = new Set([r.host.toLowerCase(), `${r.host.toLowerCase()}:${r.port}`]);
  for (const { raw } of p.routes.values()) {
    for (const vh of raw.virtualHosts) {
      if (!vh.domains.some((d) => names.has(d.toLowerCase()))) continue;
      const ips = vh.domains.map((d) => d.replace(/:\d+$/, '')).filter((d) => isIP(d) === 4);
      // Without capture (loopback mode) the app calls the address a listener is bound at (its service view).
      const ip = ips.find((x) => p.byAddress.has(`${x}:${r.port}`)) ?? ips[0];
      if (ip) {
        t.add('capture', `${r.host} resolves to ${ip}`, [`virtual host ${vh.name} lists both`]);
        return ip;
      }
    }
  }
  t.notes.push(`${r.host} is not among the source's virtual hosts: assumed to resolve to an address no listener owns`);
  return '0.0.0.0';
}
