import type { Protocol } from './model.js';

/**
 * Istio's protocol selection for a port: appProtocol wins, then the port
 * name ("http" or "http-web": the part before the first "-"), else UNKNOWN.
 * Matching is case-insensitive, as in Istio's protocol.Parse.
 */
const byName: Readonly<Record<string, Protocol>> = {
  http: 'HTTP',
  http2: 'HTTP2',
  grpc: 'GRPC',
  // grpc-web rides on HTTP/1.1 or HTTP/2 like plain HTTP; Istio routes it as HTTP.
  'grpc-web': 'HTTP',
  https: 'HTTPS',
  tls: 'TLS',
  tcp: 'TCP',
  mongo: 'MONGO',
  redis: 'REDIS',
  mysql: 'MYSQL',
  udp: 'UDP',
  // Kubernetes' standard appProtocol values.
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTPS',
};

export function parseProtocol(text: string | undefined): Protocol | undefined {
  if (!text) return undefined;
  return byName[text.toLowerCase()];
}

/** Protocol of a Kubernetes Service port. */
export function servicePortProtocol(port: { name?: string; appProtocol?: string; protocol?: string }): Protocol {
  if (port.protocol === 'UDP') return 'UDP';
  const app = parseProtocol(port.appProtocol);
  if (app) return app;
  const name = port.name ?? '';
  const exact = parseProtocol(name);
  if (exact) return exact;
  const dash = name.indexOf('-');
  return (dash > 0 ? parseProtocol(name.slice(0, dash)) : undefined) ?? 'UNKNOWN';
}

/** How a protocol is handled by the translators: HTTP ports get an HTTP connection manager. */
export function isHttpProtocol(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';
}

/** Ports whose upstream connections speak HTTP/2 (h2 in HttpProtocolOptions). */
export function isHttp2Protocol(p: Protocol): boolean {
  return p === 'HTTP2' || p === 'GRPC';
}
