/**
 * What the CA answered, checked before it is used: the leaf belongs to our
 * key, carries exactly the SPIFFE id we asked for, is valid now, and chains
 * to one of the roots we trust. The answer is leaf, intermediates, then the
 * roots (istiod's order): the self-signed tail is the trust bundle.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { TrellisError } from '../../errors.js';
import { uriSans } from '../tls/secret.js';

export interface IssuedChain {
  /** Leaf and intermediates, PEM. */
  chainPem: string;
  /** The trust bundle (ROOTCA), PEM. */
  rootsPem: string;
  spiffeId: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

const selfSigned = (c: X509Certificate) => c.subject === c.issuer && c.checkIssued(c) && c.verify(c.publicKey);

function parse(pem: string, i: number): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TrellisError('CA_RESPONSE', `certificate ${i} of the CA's answer does not parse`, { cause: err });
  }
}

/** `response`: the CA's cert_chain; `trusted`: root-cert.pem's certificates, the bundle when the answer carries no root. */
export function checkIssuedChain(response: readonly string[], key: KeyObject, spiffeId: string, trusted: readonly X509Certificate[], now = new Date()): IssuedChain {
  const certs = response.map((pem, i) => parse(pem, i));
  if (certs.length === 0) throw new TrellisError('CA_RESPONSE', 'the CA answered with no certificate');
  let split = certs.length;
  while (split > 1 && selfSigned(certs[split - 1]!)) split--;
  const chain = certs.slice(0, split);
  const roots = certs.slice(split);
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) throw new TrellisError('CA_RESPONSE', 'the issued certificate is not for our key');
  const sans = uriSans(leaf.subjectAltName);
  if (sans.length !== 1 || sans[0] !== spiffeId) throw new TrellisError('CA_RESPONSE', `the issued certificate is for ${JSON.stringify(sans)}, not ${spiffeId}`);
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (!(notBefore <= now && now < notAfter)) throw new TrellisError('CA_RESPONSE', `the issued certificate is not valid now (${leaf.validFrom} – ${leaf.validTo})`);
  for (let i = 1; i < chain.length; i++) {
    if (!chain[i - 1]!.checkIssued(chain[i]!) || !chain[i - 1]!.verify(chain[i]!.publicKey)) throw new TrellisError('CA_RESPONSE', `certificate ${i - 1} of the answer is not signed by certificate ${i}`);
  }
  const top = chain[chain.length - 1]!;
  // The answer's roots are the mesh's trust bundle: the call itself was verified against root-cert.pem, so
  // they are the CA's own — this is how a new root reaches workloads during a rotation (old and new trusted).
  const bundle = roots.length > 0 ? roots : [...trusted];
  if (!bundle.some((r) => top.checkIssued(r) && top.verify(r.publicKey))) throw new TrellisError('CA_RESPONSE', 'the issued chain does not lead to a root of the trust bundle');
  return {
    chainPem: chain.map((c) => c.toString()).join(''),
    rootsPem: bundle.map((c) => c.toString()).join(''),
    spiffeId,
    serial: leaf.serialNumber,
    notBefore,
    notAfter,
  };
}
