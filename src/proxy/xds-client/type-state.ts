/** What the client knows about one resource type on the current and previous streams. */
import type { AppliedResource, ResourceType, TypeHandler } from './resource-type.js';

export interface NackRecord {
  detail: string;
  nonce: string;
  at: Date;
}

export class TypeState {
  readonly type: ResourceType;
  /** Explicit names; ignored while `type.wildcard`. */
  names = new Set<string>();
  /**
   * Names subscribed on demand on top of a wildcard subscription (Delta only: on-demand CDS). Never
   * unsubscribed, as Envoy's ODCDS: a cluster asked for once stays subscribed, across reconnects.
   */
  readonly onDemand = new Set<string>();
  /** When each name was first asked for (Envoy's initial_fetch_timeout counts from there). */
  readonly askedAt = new Map<string, number>();
  readonly resources = new Map<string, AppliedResource>();
  /** SotW version_info of the last accepted response. */
  version = '';
  nonce = '';
  /** Whether at least one response (or removal) for this type was accepted. */
  received = false;
  lastNack: NackRecord | undefined;
  /** Envoy's <type>.update_success / update_rejected. */
  accepted = 0;
  rejected = 0;
  /** Names subscribed on the current stream (Delta diffing; "*" once a wildcard type named it explicitly). */
  sent = new Set<string>();

  /** What puts accepted updates in service; none: they are held (and shown), ACKed, used by nothing. */
  readonly handler: TypeHandler | undefined;

  constructor(type: ResourceType, handler: TypeHandler | undefined) {
    this.type = type;
    this.handler = handler;
  }

  get subscribed(): boolean {
    return this.type.wildcard || this.names.size > 0;
  }

  /** Initial resource versions for a Delta reconnect. */
  versions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.resources.values()) out[r.name] = r.version;
    return out;
  }
}
