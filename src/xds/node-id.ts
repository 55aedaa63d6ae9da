/**
 * Istio's node id, "TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN", checked the
 * way istiod's ParseServiceNodeWithMetadata checks it: four parts, a known
 * type, and a valid IP (metadata INSTANCE_IPS when every entry is one, else
 * the id's). Pure and dependency-free: the proxy checks its --node-id with it
 * before it loads anything else.
 */
import { isIP } from 'node:net';
import { clip, escapeControls } from '../clip.js';

export const nodeTypes = ['sidecar', 'router', 'waypoint', 'ztunnel'] as const;
export type NodeType = (typeof nodeTypes)[number];

/**
 * Longest id accepted. Kubernetes bounds the parts (pod name 253, namespace
 * 63, domain 253, IPv6 45): real ids stay far below; anything longer is not
 * a node id, and refusing it early bounds what a peer makes us split and keep.
 */
export const NODE_ID_MAX = 1024;

/** What an id must look like, for error messages (the gRPC status and the proxy's start-up error). */
export const nodeIdShape =
  'expected TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN with TYPE one of sidecar, router, waypoint, ztunnel ' +
  '(e.g. sidecar~10.1.2.3~reviews-v1-abc.default~default.svc.cluster.local)';

export interface IstioNodeId {
  type: NodeType;
  /** INSTANCE_IPS when all of them are IPs, else the id's IP (istiod's order). */
  ips: string[];
  /** The POD.NAMESPACE part as sent. */
  podPart: string;
  dnsDomain: string;
}

export type NodeIdResult = { ok: true; id: IstioNodeId } | { ok: false; problem: string };

const quote = (s: string) => escapeControls(JSON.stringify(clip(s, 64)));

/** Splits and checks an id; `instanceIps` is metadata INSTANCE_IPS ("ip,ip,..."), if the node sent it. */
export function parseIstioNodeId(id: string, instanceIps: string | undefined): NodeIdResult {
  if (id === '') return { ok: false, problem: 'the node id is empty' };
  if (id.length > NODE_ID_MAX) return { ok: false, problem: `the node id is ${id.length} characters long (at most ${NODE_ID_MAX})` };
  const parts = id.split('~');
  if (parts.length !== 4) return { ok: false, problem: `it has ${parts.length} part(s) separated by "~", not 4` };
  const [type, ip, podPart, dnsDomain] = parts as [string, string, string, string];
  if (!(nodeTypes as readonly string[]).includes(type)) return { ok: false, problem: `node type ${quote(type)} is unknown` };
  if (podPart === '') return { ok: false, problem: 'the POD.NAMESPACE part is empty' };
  const fromMeta = (instanceIps ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  let ips: string[];
  if (fromMeta.length > 0 && fromMeta.every((a) => isIP(a) !== 0)) ips = fromMeta;
  else if (isIP(ip) !== 0) ips = [ip];
  else {
    const meta = instanceIps === undefined ? 'metadata INSTANCE_IPS is not set' : `metadata INSTANCE_IPS ${quote(instanceIps)} is not a list of IP addresses`;
    return { ok: false, problem: `no valid IP address: ${quote(ip)} is not one, and ${meta}` };
  }
  return { ok: true, id: { type: type as NodeType, ips, podPart, dnsDomain } };
}

/** The full refusal: the id (shortened, escaped), what is wrong, and the expected shape. */
export function invalidNodeIdMessage(id: string, problem: string): string {
  return `invalid node id ${quote(id)}: ${problem}; ${nodeIdShape}`;
}
