/**
 * The CA's key and certificates on Kubernetes live in a Secret, in Istio's
 * layouts, so that every replica signs with the same root and an operator's
 * Istio habits carry over:
 *   - `cacerts` (a plugged-in CA, written by the operator): ca-cert.pem,
 *     ca-key.pem, root-cert.pem, cert-chain.pem — used when it exists;
 *   - else `istio-ca-secret` (istiod's self-signed root, type
 *     istio.io/ca-root): ca-cert.pem and ca-key.pem, root-cert.pem,
 *     cert-chain.pem and key.pem present but empty — the root is ca-cert.pem.
 * When neither exists, the replica holding the leader Lease creates
 * istio-ca-secret once (create, never update: of two writers one gets
 * AlreadyExists and reads the winner's); the others wait for it and read it.
 * The Secret is read at start only, as istiod reads it.
 */
import { TrellisError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { CaFile, loadCaFiles, newRoot, type CaFiles, type CaMaterial } from '../ca/ca-dir.js';
import type { KeyType } from '../ca/keys.js';
import { createPrivateKey } from 'node:crypto';
import { isAlreadyExists, isNotFound, type KubeClient } from './kube-client.js';
import type { LeaderElector } from './leader-election.js';
import { PLUGGED_IN_SECRET, SELF_SIGNED_SECRET } from './names.js';

const SELF_SIGNED_TYPE = 'istio.io/ca-root';

export interface CaSecretOptions {
  namespace: string;
  trustDomain: string;
  keyType: KeyType;
  /** Decides who may create istio-ca-secret. */
  elector: Pick<LeaderElector, 'isLeader'>;
  /** How often a follower looks for the Secret (default 1 s). */
  pollMs?: number;
  /** Gives up after this long without a Secret (default 120 s). */
  timeoutMs?: number;
  log: Logger;
}

interface Secret {
  metadata: { name: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
}

/** The CA material from the cluster, creating istio-ca-secret if this replica leads and none exists. */
export async function loadCaFromSecrets(client: KubeClient, o: CaSecretOptions): Promise<{ material: CaMaterial; where: string }> {
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  let waitingLogged = false;
  for (;;) {
    const plugged = await getSecret(client, o.namespace, PLUGGED_IN_SECRET);
    if (plugged) return fromSecret(plugged, o.namespace);
    const own = await getSecret(client, o.namespace, SELF_SIGNED_SECRET);
    if (own) return fromSecret(own, o.namespace);
    if (o.elector.isLeader) {
      const created = await createSelfSigned(client, o);
      if (created) return created;
    }
    if (Date.now() > deadline) {
      throw new TrellisError('KUBE_CA_SECRET', `no Secret ${o.namespace}/${PLUGGED_IN_SECRET} or ${o.namespace}/${SELF_SIGNED_SECRET} after ${o.timeoutMs ?? 120_000} ms, and this replica did not become the leader to create one`);
    }
    if (o.elector.isLeader) continue;
    if (!waitingLogged) o.log.info('waiting for the leader to create the CA Secret', { secret: `${o.namespace}/${SELF_SIGNED_SECRET}` });
    waitingLogged = true;
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
}

async function getSecret(client: KubeClient, namespace: string, name: string): Promise<Secret | undefined> {
  try {
    return await client.get<Secret>(`/api/v1/namespaces/${namespace}/secrets/${name}`);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new TrellisError('KUBE_CA_SECRET', `cannot read Secret ${namespace}/${name}: ${errorMessage(err)}`, { cause: err });
  }
}

async function createSelfSigned(client: KubeClient, o: CaSecretOptions): Promise<{ material: CaMaterial; where: string } | undefined> {
  const { material, files } = newRoot({ trustDomain: o.trustDomain, keyType: o.keyType });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = {
    apiVersion: 'v1', kind: 'Secret', type: SELF_SIGNED_TYPE,
    metadata: { name: SELF_SIGNED_SECRET, namespace: o.namespace },
    data: { [CaFile.caCert]: b64(files[CaFile.caCert]!), [CaFile.caKey]: b64(files[CaFile.caKey]!), [CaFile.certChain]: '', 'key.pem': '', [CaFile.rootCert]: '' },
  };
  try {
    await client.post(`/api/v1/namespaces/${o.namespace}/secrets`, secret);
  } catch (err) {
    // Another replica (an old leader) was quicker: read its root on the next round.
    if (isAlreadyExists(err)) return undefined;
    throw new TrellisError('KUBE_CA_SECRET', `cannot create Secret ${o.namespace}/${SELF_SIGNED_SECRET}: ${errorMessage(err)}`, { cause: err });
  }
  o.log.info('created the CA root Secret', { secret: `${o.namespace}/${SELF_SIGNED_SECRET}` });
  return { material, where: `secret ${o.namespace}/${SELF_SIGNED_SECRET}` };
}

/** A Secret's data as CA files; in istio-ca-secret an empty root-cert.pem means "the root is ca-cert.pem". */
export function secretCaFiles(secret: Secret, namespace: string): CaFiles {
  const where = `secret ${namespace}/${secret.metadata.name}`;
  const text = new Map<string, string>();
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    const decoded = Buffer.from(v, 'base64').toString('utf8');
    if (decoded.trim() !== '') text.set(k, decoded);
  }
  if (!text.has(CaFile.rootCert) && secret.metadata.name === SELF_SIGNED_SECRET && text.has(CaFile.caCert)) text.set(CaFile.rootCert, text.get(CaFile.caCert)!);
  const read = (name: string) => {
    const v = text.get(name);
    if (v === undefined) throw new TrellisError('KUBE_CA_SECRET', `${where} has no ${name}`);
    return v;
  };
  return {
    where,
    has: (name) => text.has(name),
    text: read,
    privateKey: (name) => {
      try {
        return createPrivateKey(read(name));
      } catch (err) {
        throw new TrellisError('KUBE_CA_SECRET', `${where}: ${name} is not a PEM private key`, { cause: err });
      }
    },
  };
}

function fromSecret(secret: Secret, namespace: string): { material: CaMaterial; where: string } {
  const files = secretCaFiles(secret, namespace);
  try {
    return { material: loadCaFiles(files), where: files.where };
  } catch (err) {
    throw new TrellisError('KUBE_CA_SECRET', `${files.where} cannot be used: ${errorMessage(err)}`, { cause: err });
  }
}
