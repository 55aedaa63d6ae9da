/**
 * Names of what the one-machine cluster creates. Everything starts with
 * NETNS_PREFIX and the run id, so a later run can find (and remove) what a
 * crashed run left; interface names stay within Linux's 15 characters.
 */
import { randomBytes } from 'node:crypto';
import { TrellisError } from '../../errors.js';

export const NETNS_PREFIX = 'trellis-';
export const IFNAMSIZ_MAX = 15;

/** A fresh run id: 6 hex characters. */
export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

/**
 * Pod (and node) names: DNS-1123 characters ('.' too, for "pod.namespace"),
 * at most 140, so `trellis-<run>-<name>` stays a short file name under
 * /var/run/netns. Interface names never contain them (see ifName).
 */
export function checkPodName(name: string): void {
  if (!/^[a-z0-9]([a-z0-9.-]{0,138}[a-z0-9])?$/.test(name)) {
    throw new TrellisError('CONFIG_INVALID', `pod name ${JSON.stringify(name)}: lowercase letters, digits, '-' and '.', at most 140 characters`);
  }
}

export function namespaceName(runId: string, name: string): string {
  return `${NETNS_PREFIX}${runId}-${name}`;
}

/** The run id of one of our namespace names, if it is one. */
export function runIdOf(nsName: string): string | undefined {
  const m = /^trellis-([0-9a-f]{6})-/.exec(nsName);
  return m?.[1];
}

/** An interface name, checked against IFNAMSIZ. */
export function ifName(name: string): string {
  if (name.length > IFNAMSIZ_MAX) throw new TrellisError('CONFIG_INVALID', `interface name ${name} longer than ${IFNAMSIZ_MAX} characters`);
  return name;
}
