/**
 * The CA directory (`--ca-dir`), in istiod's file names:
 *
 *   ca-key.pem     signing key (0600)          ca-cert.pem    signing certificate
 *   root-cert.pem  trust bundle: every root     cert-chain.pem intermediates up to a root (plugged-in CA)
 *   token-key.pem  workload-token key (0600, token.ts)
 *
 * An empty directory gets a new self-signed root (istiod's istio-ca-secret
 * holds the same: ca-cert.pem = root-cert.pem = the root). Anything else is
 * loaded as given and checked — key matches certificate, the certificate is a
 * CA, it chains to a root in root-cert.pem, it has not expired — and a
 * directory with some of the files but not the key is refused: a root the
 * operator handed over is never replaced by a new one behind their back.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TrellisError } from '../errors.js';
import { createSelfSignedRoot, CLOCK_SKEW_BACKDATE_MS, signingIdentity, type SigningIdentity } from './certificate.js';
import { isCaCertificate, readCertificate } from './certificate-reader.js';
import { commonName, distinguishedName, KeyUsage, organization, readKeyUsage } from './extensions.js';
import { readPrivateKeyFile, readTextFile, writeNewFile } from './key-file.js';
import { generatePrivateKey, privateKeyPem, spkiOf, type KeyType } from './keys.js';
import { Oid } from './oids.js';
import { certificatePem, pemBlocks } from './pem.js';

export const CaFile = {
  caKey: 'ca-key.pem',
  caCert: 'ca-cert.pem',
  certChain: 'cert-chain.pem',
  rootCert: 'root-cert.pem',
  tokenKey: 'token-key.pem',
} as const;

/** istiod's CITADEL_SELF_SIGNED_CA_CERT_TTL default: ten years. */
export const ROOT_TTL_MS = 3650 * 24 * 3600_000;

export interface CaMaterial {
  signer: SigningIdentity;
  /** Certificates between a leaf and the roots (DER), the signing certificate first; empty when a root signs. */
  intermediates: Buffer[];
  /** Every root of root-cert.pem (DER), in file order: the trust bundle. */
  roots: Buffer[];
  /** True when this call created the root. */
  created: boolean;
}

export interface OpenCaDirOptions {
  trustDomain: string;
  /** Key type of a root created here. */
  keyType: KeyType;
}

/**
 * Where the CA's files are read from: the CA directory, or a Kubernetes
 * Secret's data (kube/ca-secret.ts) with the same file names.
 */
export interface CaFiles {
  /** For messages: the directory, or "secret istio-system/cacerts". */
  readonly where: string;
  has(name: string): boolean;
  text(name: string): string;
  privateKey(name: string): KeyObject;
}

export function openCaDir(dir: string, opts: OpenCaDirOptions): CaMaterial {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new TrellisError('CA_DIR', `cannot create the CA directory ${dir}`, { cause: err });
  }
  const files = directoryFiles(dir);
  if (![CaFile.caKey, CaFile.caCert, CaFile.certChain, CaFile.rootCert].some((f) => files.has(f))) return createRoot(dir, opts);
  return loadCaFiles(files);
}

function directoryFiles(dir: string): CaFiles {
  return {
    where: dir,
    has: (name) => existsSync(join(dir, name)),
    text: (name) => readTextFile(join(dir, name)),
    privateKey: (name) => readPrivateKeyFile(join(dir, name)),
  };
}

/** A new self-signed root: its material and the PEM files that hold it (istio-ca-secret's layout: the root is also ca-cert.pem). */
export function newRoot(opts: OpenCaDirOptions): { material: CaMaterial; files: Record<string, string> } {
  const key = generatePrivateKey(opts.keyType);
  const now = Date.now();
  const root = createSelfSignedRoot({
    key,
    subject: distinguishedName([organization(opts.trustDomain), commonName('Trellis root CA')]),
    notBefore: new Date(now - CLOCK_SKEW_BACKDATE_MS),
    notAfter: new Date(now + ROOT_TTL_MS),
  });
  const files = { [CaFile.rootCert]: certificatePem(root), [CaFile.caCert]: certificatePem(root), [CaFile.caKey]: privateKeyPem(key) };
  return { material: { signer: signingIdentity(root, key), intermediates: [], roots: [root], created: true }, files };
}

function createRoot(dir: string, opts: OpenCaDirOptions): CaMaterial {
  const { material, files } = newRoot(opts);
  // The key goes last: a crash part-way leaves certificates without a key, which the next start refuses loudly.
  writeNewFile(join(dir, CaFile.rootCert), files[CaFile.rootCert]!, 0o644);
  writeNewFile(join(dir, CaFile.caCert), files[CaFile.caCert]!, 0o644);
  writeNewFile(join(dir, CaFile.caKey), files[CaFile.caKey]!, 0o600);
  return material;
}

/**
 * Loads and checks given CA files: ca-key.pem and root-cert.pem are required
 * (a new root is made only where there is nothing); ca-cert.pem and
 * cert-chain.pem as istiod reads them.
 */
export function loadCaFiles(src: CaFiles): CaMaterial {
  const present = [CaFile.caKey, CaFile.caCert, CaFile.certChain, CaFile.rootCert].filter((f) => src.has(f));
  if (!present.includes(CaFile.caKey) || !present.includes(CaFile.rootCert)) {
    const missing = [CaFile.caKey, CaFile.rootCert].filter((f) => !present.includes(f));
    throw new TrellisError('CA_DIR', `${src.where} holds ${present.join(', ') || 'nothing'} but not ${missing.join(' or ')}: restore the missing files (a new root is created only in an empty directory)`);
  }
  const dir = src.where;
  const key = src.privateKey(CaFile.caKey);
  const roots = certificates(src, CaFile.rootCert);
  const spki = spkiOf(key);
  // Without ca-cert.pem the key must be one of the roots' (a self-signed CA that kept only root-cert.pem).
  const caCerts = present.includes(CaFile.caCert) ? certificates(src, CaFile.caCert) : roots.filter((r) => readCertificate(r).spki.equals(spki)).slice(0, 1);
  const signing = caCerts[0];
  if (!signing) throw new TrellisError('CA_DIR', `${dir}: no ${CaFile.caCert}, and no root in ${CaFile.rootCert} belongs to ${CaFile.caKey}`);
  const candidates = [...caCerts.slice(1), ...(present.includes(CaFile.certChain) ? certificates(src, CaFile.certChain) : [])];
  checkSigningCertificate(dir, signing);
  const signer = signingIdentity(signing, key);
  const path = pathToRoot(dir, signing, candidates, roots);
  return { signer, intermediates: path, roots, created: false };
}

function certificates(src: CaFiles, name: string): Buffer[] {
  const path = `${src.where}/${name}`;
  const ders = pemBlocks(src.text(name), 'CERTIFICATE');
  if (ders.length === 0) throw new TrellisError('CA_DIR', `${path} holds no PEM CERTIFICATE`);
  for (const d of ders) {
    try {
      new X509Certificate(d);
      readCertificate(d);
    } catch (err) {
      throw new TrellisError('CA_DIR', `${path}: a certificate does not parse`, { cause: err });
    }
  }
  return ders;
}

function checkSigningCertificate(dir: string, der: Buffer): void {
  const c = readCertificate(der);
  if (!isCaCertificate(c)) throw new TrellisError('CA_DIR', `${dir}/${CaFile.caCert} is not a CA certificate (basicConstraints CA:TRUE missing)`);
  const ku = c.extensions.get(Oid.keyUsage);
  if (ku && !readKeyUsage(ku.value).includes(KeyUsage.keyCertSign)) throw new TrellisError('CA_DIR', `${dir}/${CaFile.caCert} may not sign certificates (keyUsage without keyCertSign)`);
  if (c.notAfter.getTime() <= Date.now()) throw new TrellisError('CA_DIR', `${dir}/${CaFile.caCert} expired at ${c.notAfter.toISOString()}`);
}

/**
 * Walks from the signing certificate up through `candidates` until a root of
 * the bundle signed the current one; returns the certificates passed (the
 * signing certificate first unless it is a root itself).
 */
function pathToRoot(dir: string, signing: Buffer, candidates: Buffer[], roots: Buffer[]): Buffer[] {
  const rootCerts = roots.map((r) => new X509Certificate(r));
  const issuers = candidates.filter((c) => !c.equals(signing) && !roots.some((r) => r.equals(c))).map((c) => ({ der: c, x: new X509Certificate(c) }));
  if (roots.some((r) => r.equals(signing))) return [];
  const path: Buffer[] = [signing];
  let current = new X509Certificate(signing);
  for (let hops = 0; hops <= issuers.length; hops++) {
    if (rootCerts.some((r) => signedBy(current, r))) return path;
    const next = issuers.find((i) => !path.some((p) => p.equals(i.der)) && signedBy(current, i.x));
    if (!next) break;
    path.push(next.der);
    current = next.x;
  }
  throw new TrellisError('CA_DIR', `${dir}: ${CaFile.caCert} does not chain to a root in ${CaFile.rootCert} (through ${CaFile.certChain})`);
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}
