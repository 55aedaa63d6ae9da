import type { MtlsMode } from '../registry/model.js';

/**
 * Which inbound filter chains a port gets for its mTLS mode, as istiod's
 * filterchain_options.go lays them out. Each option is one filter chain:
 * how it is matched (transport protocol from the TLS inspector, ALPN), which
 * stack it runs (HCM or TCP proxy) and whether it terminates Istio mTLS.
 */
export interface ChainOption {
  protocol: 'http' | 'tcp';
  transportProtocol: 'tls' | 'raw_buffer';
  applicationProtocols: readonly string[];
  /** Terminates mTLS (a DownstreamTlsContext); false for plaintext and for TLS passed through as TCP. */
  mtls: boolean;
}

/** What a client sidecar's outbound listener sniffed as HTTP and marked in ALPN when it sent it over mTLS. */
export const MtlsHttpAlpns: readonly string[] = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
/** Every ALPN an Istio mTLS client may offer. */
export const AllIstioMtlsAlpns: readonly string[] = ['istio', 'istio-peer-exchange', ...MtlsHttpAlpns];
/** A client sidecar's TCP (unsniffed) traffic over mTLS. */
export const MtlsTcpAlpns: readonly string[] = ['istio-peer-exchange', 'istio'];
/** Plaintext HTTP as the HTTP inspector reports it (HTTP/1.0 is not matched: istiod's default PILOT_HTTP10 off). */
export const PlaintextHttpAlpns: readonly string[] = ['http/1.1', 'h2c'];

const none: readonly string[] = [];
const opt = (protocol: ChainOption['protocol'], transportProtocol: ChainOption['transportProtocol'], applicationProtocols: readonly string[], mtls: boolean): ChainOption =>
  ({ protocol, transportProtocol, applicationProtocols, mtls });

const http: Record<MtlsMode, readonly ChainOption[]> = {
  STRICT: [opt('http', 'tls', none, true)],
  // Plain TLS to an HTTP port is not served: the port is declared HTTP.
  PERMISSIVE: [opt('http', 'tls', AllIstioMtlsAlpns, true), opt('http', 'raw_buffer', none, false)],
  DISABLE: [opt('http', 'raw_buffer', none, false)],
};

const tcp: Record<MtlsMode, readonly ChainOption[]> = {
  STRICT: [opt('tcp', 'tls', none, true)],
  // The app's own TLS (no Istio ALPN) is proxied as bytes.
  PERMISSIVE: [opt('tcp', 'tls', AllIstioMtlsAlpns, true), opt('tcp', 'tls', none, false), opt('tcp', 'raw_buffer', none, false)],
  DISABLE: [opt('tcp', 'raw_buffer', none, false)],
};

/** Passthrough (ports no service declares): protocol unknown, so HTTP is told from TCP by ALPN. */
const auto: Record<MtlsMode, readonly ChainOption[]> = {
  STRICT: [opt('http', 'tls', MtlsHttpAlpns, true), opt('tcp', 'tls', none, true)],
  PERMISSIVE: [
    opt('http', 'tls', MtlsHttpAlpns, true),
    opt('http', 'raw_buffer', PlaintextHttpAlpns, false),
    opt('tcp', 'tls', MtlsTcpAlpns, true),
    opt('tcp', 'raw_buffer', none, false),
    opt('tcp', 'tls', none, false),
  ],
  DISABLE: [opt('http', 'raw_buffer', PlaintextHttpAlpns, false), opt('tcp', 'raw_buffer', none, false)],
};

export function chainOptions(mode: MtlsMode, protocol: 'http' | 'tcp' | 'auto'): readonly ChainOption[] {
  return (protocol === 'http' ? http : protocol === 'tcp' ? tcp : auto)[mode];
}
