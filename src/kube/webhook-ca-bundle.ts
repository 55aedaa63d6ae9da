/**
 * The injection webhook's caBundle: the API server must trust the webhook's
 * serving certificate, which the mesh CA issues, so every webhook of the
 * MutatingWebhookConfiguration gets the CA's roots. Only the leader writes
 * it (see leader-election.ts); it checks again every `intervalMs`, because
 * re-applying `trellis install` output (or a GitOps tool) resets the field.
 * Writes are read-modify-write with the resourceVersion read, retried on
 * 409 Conflict, as istiod's webhook patcher does.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { isConflict, isNotFound, type KubeClient } from './kube-client.js';
import type { LeaderElector } from './leader-election.js';

const MAX_CONFLICT_RETRIES = 5;

interface WebhookConfiguration {
  metadata: { name: string; resourceVersion?: string };
  webhooks?: { name: string; clientConfig?: { caBundle?: string; [k: string]: unknown }; [k: string]: unknown }[];
}

export type CaBundleOutcome = 'patched' | 'unchanged' | 'absent';

/** Sets every webhook's clientConfig.caBundle to `caPem` (PEM; sent base64 as the API wants). */
export async function patchWebhookCaBundle(client: KubeClient, name: string, caPem: string): Promise<CaBundleOutcome> {
  const path = `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${name}`;
  const bundle = Buffer.from(caPem).toString('base64');
  for (let attempt = 0; ; attempt++) {
    let config: WebhookConfiguration;
    try {
      config = await client.get<WebhookConfiguration>(path);
    } catch (err) {
      if (isNotFound(err)) return 'absent';
      throw err;
    }
    const webhooks = config.webhooks ?? [];
    if (webhooks.every((w) => w.clientConfig?.caBundle === bundle)) return 'unchanged';
    const updated = { ...config, webhooks: webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle: bundle } })) };
    try {
      await client.put(path, updated);
      return 'patched';
    } catch (err) {
      if (!isConflict(err) || attempt >= MAX_CONFLICT_RETRIES) throw err;
    }
  }
}

/** Keeps the caBundle right while this replica is the leader. */
export class WebhookCaBundleKeeper {
  readonly #timerMs: number;
  #timer: NodeJS.Timeout | undefined;
  #last: CaBundleOutcome | 'failed' | undefined;
  #stopped = false;
  readonly #unsubscribe: () => void;

  constructor(
    private readonly client: KubeClient,
    private readonly elector: Pick<LeaderElector, 'onChange' | 'isLeader'>,
    private readonly o: { name: string; caPem: string; intervalMs?: number; log: Logger },
  ) {
    this.#timerMs = o.intervalMs ?? 30_000;
    this.#unsubscribe = elector.onChange((leader) => (leader ? this.#run() : clearTimeout(this.#timer)));
    if (elector.isLeader) this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe();
    clearTimeout(this.#timer);
  }

  #run(): void {
    clearTimeout(this.#timer);
    patchWebhookCaBundle(this.client, this.o.name, this.o.caPem).then(
      (outcome) => {
        if (outcome === 'patched') this.o.log.info('set the injection webhook\'s caBundle', { webhook: this.o.name });
        else if (outcome === 'absent' && this.#last !== 'absent') this.o.log.info('no injection webhook configuration to patch (not installed?)', { webhook: this.o.name });
        this.#last = outcome;
      },
      (err: unknown) => {
        if (this.#last !== 'failed') this.o.log.warn('could not set the injection webhook\'s caBundle; retrying', { webhook: this.o.name, error: errorMessage(err) });
        this.#last = 'failed';
      },
    ).finally(() => {
      if (this.elector.isLeader && !this.#stopped) this.#timer = setTimeout(() => this.#run(), this.#timerMs);
    });
  }
}
