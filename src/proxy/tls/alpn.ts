/**
 * ALPN selection of a TLS server (a filter chain's DownstreamTlsContext).
 * Envoy (BoringSSL) picks the first of its own protocols the client offers
 * and, with no overlap, carries on without ALPN. node:tls cannot complete a
 * handshake without selecting when the client offered ALPN, so the fallback
 * is what the client would speak without ALPN: "http/1.1" if offered, else
 * one of its protocols that asks nothing of the server — Istio's "istio" /
 * "istio-http/*" markers, or its first — never "istio-peer-exchange", which
 * would promise Istio's metadata exchange.
 */
const PEER_EXCHANGE = 'istio-peer-exchange';

export function selectAlpn(server: readonly string[], client: readonly string[]): string | undefined {
  for (const p of server) if (client.includes(p)) return p;
  // Without ALPN a client speaks HTTP/1.1: the closest choice when it offers it (never promote it to h2).
  if (client.includes('http/1.1')) return 'http/1.1';
  return client.find((p) => p === 'istio' || p.startsWith('istio-http/') || p === 'istio-h2') ?? client.find((p) => p !== PEER_EXCHANGE);
}
