/**
 * A filter chain's DownstreamTlsContext on an accepted socket: the handshake
 * with the chain's current certificate, the client certificate verified
 * against the CA and the SAN matchers, the peer's identity recorded on the
 * connection. No secret yet, no certificate where one is required, or a bad
 * one: the connection is closed — never served in plaintext.
 */
import type { Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { TLSSocket, type SecureContext } from 'node:tls';
import { logger } from '../../log.js';
import type { ConnContext } from './conn-context.js';
import { selectAlpn } from '../tls/alpn.js';
import { tlsPeer } from '../tls/peer-identity.js';
import { peerSans, peerUriSan, peerVerifyError, sanAllowed, type SecretStore } from '../tls/secret-store.js';
import type { TlsPlan } from '../tls/tls-plan.js';

const log = logger('listener');
/** Envoy's default transport_socket_connect_timeout is unset; a handshake that stalls this long is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
const withSessionId = new WeakSet<SecureContext>();

/**
 * A client resuming a TLS session (undici does on its next connection) needs the server context to
 * have a session id context once it verifies peers; tls.Server sets one, a bare TLSSocket does not,
 * and OpenSSL then fails the handshake ("session id context uninitialized", alert internal_error).
 * Envoy sets it from its TLS configuration: a session resumes only where the same config would accept it.
 */
function sessionIdContext(ctx: SecureContext, configKey: string): void {
  if (withSessionId.has(ctx)) return;
  withSessionId.add(ctx);
  (ctx.context as { setSessionIdContext(id: string): void }).setSessionIdContext(createHash('sha256').update(configKey).digest('hex').slice(0, 32));
}

export interface TlsDeps {
  secrets: SecretStore | undefined;
  stats: { inc(name: string): void };
  /** For logs. */
  chain: string;
}

/** Calls `secure` with the decrypted socket once the peer is accepted (conn.tls and conn.peerUriSan set). */
export function terminateTls(socket: Socket, t: TlsPlan, conn: ConnContext, d: TlsDeps, secure: (tls: TLSSocket) => void): void {
  const secureContext = d.secrets?.context(t);
  if (!secureContext) {
    d.stats.inc('listener.ssl.connection_error');
    log.warn('TLS secrets not ready; closing connection', { chain: d.chain, missing: d.secrets?.missing(t) ?? t.sdsNames });
    socket.destroy();
    return;
  }
  sessionIdContext(secureContext, t.key);
  const verify = t.caSecret !== undefined || t.inlineCa !== undefined;
  const tls = new TLSSocket(socket, {
    isServer: true,
    secureContext,
    requestCert: verify,
    rejectUnauthorized: t.requireClientCert,
    ALPNCallback: ({ protocols }) => selectAlpn(t.alpn, protocols),
  });
  tls.on('error', () => d.stats.inc('listener.ssl.connection_error'));
  const timer = setTimeout(() => tls.destroy(), HANDSHAKE_TIMEOUT_MS);
  timer.unref();
  tls.once('close', () => clearTimeout(timer));
  // The listener's sockets allow half-open (for the TCP proxy): a client that gives up the handshake (a
  // certificate it refuses, a connect timeout) sends its alert and FIN, and nothing closes our side but the
  // handshake timeout. Ending before the handshake is done is the end of the connection (issue 12: a client
  // sidecar refusing the server's SAN left a connection per attempt open for 10 s).
  let secured = false;
  tls.once('end', () => { if (!secured) tls.destroy(); });
  tls.once('secure', () => {
    secured = true;
    clearTimeout(timer);
    const peer = tls.getPeerCertificate();
    const presented = peer !== undefined && Object.keys(peer).length > 0;
    // An invalid certificate is refused even where none is required; a valid one must match the SANs.
    const invalid = presented && verify ? peerVerifyError(tls) : null;
    if (invalid || (presented && verify && !sanAllowed(t, peer))) {
      d.stats.inc(invalid ? 'listener.ssl.fail_verify_error' : 'listener.ssl.fail_verify_san');
      log.debug('client certificate refused', { chain: d.chain, error: invalid ? invalid.message : 'SAN mismatch', sans: peerSans(peer) });
      tls.destroy();
      return;
    }
    // tls.Server clears this flag when it hands a socket over; node:http2 otherwise waits for a 'secureConnect'
    // that a server-side socket never emits.
    (tls as unknown as { secureConnecting: boolean }).secureConnecting = false;
    conn.tlsSocket = tls;
    conn.peerUriSan = presented ? peerUriSan(peer) : '';
    conn.tls = tlsPeer(tls);
    d.stats.inc('listener.ssl.handshake');
    secure(tls);
  });
}
