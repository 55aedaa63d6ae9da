import type { AnyObject } from '../../config/objects.js';
import type { ConfigProblem } from '../../config/config-problem.js';

/**
 * The whole accepted configuration at one moment. Sources hand over full
 * states, never deltas: the registry rebuilds from a state, which keeps every
 * source trivially consistent (a directory rescan and a Kubernetes relist are
 * the same event).
 */
export interface ConfigState {
  /** Accepted objects by objectKey() ("Kind/namespace/name"). */
  readonly objects: ReadonlyMap<string, AnyObject>;
  /** Documents that were skipped, and conflicts between objects with the same key. */
  readonly problems: readonly ConfigProblem[];
  /** Increases with every state a source emits. */
  readonly revision: number;
}

/**
 * Where configuration comes from: the directory watcher now, the Kubernetes
 * API (informers) later. Both plug in here.
 */
export interface ConfigSource {
  /** Begins watching; resolves after the first full state has been delivered. */
  start(onState: (state: ConfigState) => void): Promise<void>;
  stop(): Promise<void>;
}
