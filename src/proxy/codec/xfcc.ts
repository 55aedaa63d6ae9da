/**
 * x-forwarded-client-cert, as Envoy's connection manager writes it before any
 * filter runs (ConnectionManagerUtility::mutateXfccRequestHeader):
 * ALWAYS_FORWARD_ONLY passes the header on untouched; every other mode removes
 * it unless the connection is mutual TLS, so a plaintext or anonymous client
 * can never assert an identity; over mTLS FORWARD_ONLY passes it on,
 * APPEND_FORWARD appends this hop's entry (after a ','), SANITIZE_SET replaces
 * it with this hop's entry, SANITIZE (the default) removes it. An entry is
 * `By=<our URI SANs>;Hash=<sha256 of the peer certificate>` followed by the
 * set_current_client_cert_details in Envoy's order: Cert, Chain, Subject, URI, DNS.
 */
import {
  HttpConnectionManager_ForwardClientCertDetails as Mode,
  type HttpConnectionManager,
} from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { TlsPeer } from '../tls/peer-identity.js';
import type { ConnContext } from '../listener/conn-context.js';
import type { Headers } from '../router/header-ops.js';

type Detail = 'Cert' | 'Chain' | 'Subject' | 'URI' | 'DNS';

export interface XfccPlan {
  mode: 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';
  details: Detail[];
}

const MODES: Record<number, XfccPlan['mode'] | undefined> = {
  [Mode.SANITIZE]: 'SANITIZE', [Mode.FORWARD_ONLY]: 'FORWARD_ONLY', [Mode.APPEND_FORWARD]: 'APPEND_FORWARD',
  [Mode.SANITIZE_SET]: 'SANITIZE_SET', [Mode.ALWAYS_FORWARD_ONLY]: 'ALWAYS_FORWARD_ONLY',
};

const XFCC = 'x-forwarded-client-cert';

export function compileXfcc(hcm: HttpConnectionManager, path: string, errors: string[]): XfccPlan {
  const mode = MODES[hcm.forwardClientCertDetails];
  if (!mode) errors.push(`${path}.forwardClientCertDetails: unknown value ${hcm.forwardClientCertDetails}`);
  const s = hcm.setCurrentClientCertDetails;
  const details: Detail[] = [];
  if (s?.cert) details.push('Cert');
  if (s?.chain) details.push('Chain');
  if (s?.subject) details.push('Subject');
  if (s?.uri) details.push('URI');
  if (s?.dns) details.push('DNS');
  return { mode: mode ?? 'SANITIZE', details };
}

/** Rewrites the request's XFCC header in place, before filters and routing see the request. */
export function applyXfcc(p: XfccPlan, h: Headers, conn: ConnContext): void {
  if (p.mode === 'ALWAYS_FORWARD_ONLY') return;
  const peer = conn.tls;
  if (p.mode === 'SANITIZE' || !peer?.presented) {
    if (h[XFCC] !== undefined) delete h[XFCC];
    return;
  }
  if (p.mode === 'FORWARD_ONLY') return;
  // The entry describes the connection: built once, on its first request.
  const entry = (conn.xfcc ??= xfccEntry(p, peer));
  const cur = h[XFCC];
  const prior = Array.isArray(cur) ? cur.join(',') : cur;
  h[XFCC] = p.mode === 'APPEND_FORWARD' && prior ? `${prior},${entry}` : entry;
}

/** Envoy's PercentEncoding::urlEncode: everything but letters, digits and "*-._" as %XX. */
function urlEncode(s: string): string {
  return s.replace(/[^A-Za-z0-9*\-._]/g, (c) => Buffer.from(c).toString('hex').toUpperCase().replace(/(..)/g, '%$1'));
}

export function xfccEntry(p: XfccPlan, t: TlsPeer): string {
  const parts: string[] = [];
  for (const u of t.localUriSans()) parts.push(`By=${u}`);
  const hash = t.sha256();
  if (hash) parts.push(`Hash=${hash}`);
  for (const d of p.details) {
    switch (d) {
      case 'Cert': { const pem = t.pem(); if (pem) parts.push(`Cert="${urlEncode(pem)}"`); break; }
      case 'Chain': { const pem = t.chainPem(); if (pem) parts.push(`Chain="${urlEncode(pem)}"`); break; }
      // Subject and URI are written even when empty, as Envoy does.
      case 'Subject': parts.push(`Subject="${t.subject}"`); break;
      case 'URI':
        if (t.uriSans.length === 0) parts.push('URI=');
        for (const u of t.uriSans) parts.push(`URI=${u}`);
        break;
      case 'DNS': for (const d2 of t.dnsSans) parts.push(`DNS=${d2}`); break;
    }
  }
  return parts.join(';');
}
