/**
 * What `trellis controlplane --source kubernetes` runs beside the control
 * plane: the connection to the API server, the Kubernetes config source,
 * leader election, the CA (from a Secret, or `--ca-dir`) with TokenReview
 * authentication, and the leader's caBundle upkeep. The control plane
 * itself is the same as with a directory; this only assembles its inputs.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { env } from '../env.js';
import { logger } from '../log.js';
import { CertificateAuthority } from '../ca/authority.js';
import type { KeyType } from '../ca/keys.js';
import type { ControlPlaneOptions } from '../controlplane/control-plane.js';
import { KubernetesSource } from '../controlplane/sources/kubernetes/kubernetes-source.js';
import { loadCaFromSecrets } from './ca-secret.js';
import { KubeClient } from './kube-client.js';
import { loadKubeConfig, SERVICE_ACCOUNT_DIR } from './kube-config.js';
import { LeaderElector } from './leader-election.js';
import { TokenReviewVerifier } from './token-review.js';
import { WebhookCaBundleKeeper } from './webhook-ca-bundle.js';
import { LEADER_LEASE } from './names.js';


export interface KubeRuntimeOptions {
  kubeconfig?: string;
  /** The control plane's namespace (CA Secret, Lease); else POD_NAMESPACE, the service account's, the kubeconfig context's, istio-system. */
  namespace?: string;
  trustDomain: string;
  /** Absent: no CA. `dir`: the CA from a directory instead of a Secret (tokens still go to TokenReview). */
  ca?: { port: number; defaultTtlSeconds: number; maxTtlSeconds: number; keyType: KeyType; dir?: string };
  webhookConfig: string;
  leaseDurationMs: number;
}

export interface KubeRuntime {
  readonly source: KubernetesSource;
  readonly ca: ControlPlaneOptions['ca'];
  readonly namespace: string;
  readonly elector: LeaderElector;
  stop(): Promise<void>;
}

export async function startKubeRuntime(o: KubeRuntimeOptions): Promise<KubeRuntime> {
  const log = logger('kube');
  const conn = await loadKubeConfig(o.kubeconfig === undefined ? {} : { kubeconfig: o.kubeconfig });
  const client = new KubeClient(conn.kc);
  const namespace = o.namespace ?? env.podNamespace ?? serviceAccountNamespace() ?? conn.namespace ?? 'istio-system';
  const identity = env.podName ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  log.info('connecting to Kubernetes', { server: conn.server, how: conn.how, namespace, identity });
  const elector = new LeaderElector(client, {
    namespace, name: LEADER_LEASE, identity, log,
    leaseDurationMs: o.leaseDurationMs,
    renewDeadlineMs: Math.round(o.leaseDurationMs * 2 / 3),
    retryPeriodMs: Math.max(100, Math.round(o.leaseDurationMs / 7.5)),
  });
  elector.start();
  const source = new KubernetesSource(conn.kc, client);
  let keeper: WebhookCaBundleKeeper | undefined;
  const stop = async () => {
    keeper?.stop();
    await elector.stop();
  };
  try {
    let ca: ControlPlaneOptions['ca'];
    if (o.ca) {
      const ttl = { trustDomain: o.trustDomain, defaultTtlSeconds: o.ca.defaultTtlSeconds, maxTtlSeconds: o.ca.maxTtlSeconds };
      const authority = o.ca.dir !== undefined
        ? CertificateAuthority.open({ dir: o.ca.dir, keyType: o.ca.keyType, ...ttl })
        : await secretAuthority(client, { namespace, keyType: o.ca.keyType, elector, log, ...ttl });
      ca = { authority, tokens: new TokenReviewVerifier(client), port: o.ca.port, namespace };
      keeper = new WebhookCaBundleKeeper(client, elector, { name: o.webhookConfig, caPem: authority.rootsPem(), log });
    }
    return { source, ca, namespace, elector, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function secretAuthority(
  client: KubeClient,
  o: { namespace: string; keyType: KeyType; elector: LeaderElector; log: ReturnType<typeof logger>; trustDomain: string; defaultTtlSeconds: number; maxTtlSeconds: number },
): Promise<CertificateAuthority> {
  const { material, where } = await loadCaFromSecrets(client, { namespace: o.namespace, trustDomain: o.trustDomain, keyType: o.keyType, elector: o.elector, log: o.log });
  return CertificateAuthority.fromMaterial(material, where, o);
}

/** In a pod, the namespace file of the mounted service account. */
function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
