/**
 * Where the Kubernetes API is and how to authenticate, decided in the order
 * kubectl and istiod use: `--kubeconfig FILE`, then $KUBECONFIG, then the
 * pod's own service account (in cluster: KUBERNETES_SERVICE_HOST and the
 * mounted token), then ~/.kube/config. Unlike client-node's
 * loadFromDefault, nothing falls back to an unauthenticated
 * http://localhost:8080: a control plane that cannot find its cluster says so.
 *
 * @kubernetes/client-node is imported here, lazily: only `--source
 * kubernetes` pays for loading it (see scripts/bundle.mjs).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { env } from '../env.js';
import { TrellisError, errorMessage } from '../errors.js';

/** The service-account mount every pod gets (client-node reads the same path). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigOptions {
  /** `--kubeconfig`: wins over everything else. */
  kubeconfig?: string;
  /** $KUBECONFIG (':'-separated); defaults to the process's. */
  kubeconfigEnv?: string;
  /** $KUBERNETES_SERVICE_HOST; defaults to the process's. */
  serviceHost?: string;
  /** Prefix of SERVICE_ACCOUNT_DIR (tests point it at a temporary directory). */
  serviceAccountRoot?: string;
  /** Where ~/.kube/config is looked for. */
  home?: string;
}

export interface KubeConnection {
  readonly kc: KubeConfig;
  /** The API server's URL. */
  readonly server: string;
  /** The context's namespace, or the service account's in cluster. */
  readonly namespace: string | undefined;
  readonly how: 'kubeconfig' | 'in-cluster';
}

export async function loadKubeConfig(o: KubeConfigOptions = {}): Promise<KubeConnection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const saRoot = o.serviceAccountRoot ?? '';
  const kubeconfigEnv = o.kubeconfigEnv ?? env.kubeconfig;
  const home = join(o.home ?? homedir(), '.kube', 'config');
  let how: KubeConnection['how'] = 'kubeconfig';
  try {
    if (o.kubeconfig !== undefined) kc.loadFromFile(o.kubeconfig);
    else if (kubeconfigEnv) loadFiles(kc, kubeconfigEnv);
    else if ((o.serviceHost ?? env.kubernetesServiceHost) && existsSync(`${saRoot}${SERVICE_ACCOUNT_DIR}/token`)) {
      kc.loadFromCluster(saRoot);
      how = 'in-cluster';
    } else if (existsSync(home)) kc.loadFromFile(home);
    else {
      throw new TrellisError('KUBE_CONFIG', 'no Kubernetes configuration: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST and its service-account token)');
    }
  } catch (err) {
    if (err instanceof TrellisError) throw err;
    throw new TrellisError('KUBE_CONFIG', `cannot load the Kubernetes configuration: ${errorMessage(err)}`, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new TrellisError('KUBE_CONFIG', `the kubeconfig has no cluster for its current context ${JSON.stringify(kc.getCurrentContext())}`);
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace?.trim() || undefined;
  return { kc, server: cluster.server, namespace, how };
}

/** Several kubeconfig files merge as kubectl merges them: the first file's current context wins. */
function loadFiles(kc: KubeConfig, list: string): void {
  const files = list.split(':').filter(Boolean);
  kc.loadFromFile(files[0]!);
  for (const file of files.slice(1)) {
    const more = new (kc.constructor as new () => KubeConfig)();
    more.loadFromFile(file);
    kc.mergeConfig(more, true);
  }
}
