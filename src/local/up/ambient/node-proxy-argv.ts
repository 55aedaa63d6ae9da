/**
 * The command line of the node proxy `trellis up` runs (`trellis ztunnel`,
 * the flags of issue 15's contract), and the token it authenticates with:
 * service account istio-system/ztunnel bound to the node, so that the CA's
 * node authorizer signs only for service accounts with a pod on that node.
 * Pure.
 */
import type { CreateTokenOptions } from '../../../ca/token.js';
import { TrellisError } from '../../../errors.js';

/** Istio's node proxy identity (its Helm chart's; the CA trusts it as a node account by default). */
export const NODE_PROXY_ACCOUNT = { namespace: 'istio-system', serviceAccount: 'ztunnel' } as const;
/** As Istio's: the admin API on 127.0.0.1 in the node namespace. */
export const NODE_PROXY_ADMIN_PORT = 15000;

/** The node proxy's name, as `trellis ztunnel` names itself to the control plane without POD_NAME (its xDS node id). */
export const nodeProxyName = (nodeName: string): string => `ztunnel-${nodeName}`;

export interface NodeProxyFlags {
  nodeName: string;
  xds: string;
  ca: string;
  rootCertFile: string;
  tokenFile: string;
  zdsSocket: string;
}

/** `prefix` runs the node proxy: this CLI and `ztunnel`, or TRELLIS_UP_NODE_PROXY's argv. */
export function nodeProxyArgv(prefix: readonly string[], f: NodeProxyFlags): string[] {
  return [
    ...prefix,
    '--node-name', f.nodeName, '--xds-address', f.xds, '--ca-address', f.ca,
    '--root-cert', f.rootCertFile, '--token-file', f.tokenFile, '--zds-socket', f.zdsSocket,
    '--admin-port', String(NODE_PROXY_ADMIN_PORT),
  ];
}

export function nodeProxyToken(nodeName: string, ttlSeconds: number): CreateTokenOptions {
  return { ...NODE_PROXY_ACCOUNT, ttlSeconds, audience: 'istio-ca', node: { name: nodeName } };
}

/**
 * The argv prefix of the node proxy: this CLI's `ztunnel`, or `override`
 * (TRELLIS_UP_NODE_PROXY: a JSON array of strings); CLI_USAGE when the
 * override is not one.
 */
export function nodeProxyCommand(trellis: readonly string[], override: string | undefined): readonly string[] {
  if (override === undefined) return [...trellis, 'ztunnel'];
  try {
    const v = JSON.parse(override) as unknown;
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x !== '')) return v as string[];
  } catch {
    // reported below
  }
  throw new TrellisError('CLI_USAGE', `TRELLIS_UP_NODE_PROXY must be a JSON array of strings (the node proxy's argv before its flags), not ${JSON.stringify(override.slice(0, 80))}`);
}
