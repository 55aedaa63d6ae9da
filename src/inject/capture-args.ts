/**
 * The init container's `trellis iptables` arguments, derived as Istio's
 * injection template derives istio-init's: mesh defaults, overridden per pod
 * by the traffic.sidecar.istio.io/* annotations; the proxy's own ports (15090,
 * 15021 and the agent port) are never captured inbound. The result is parsed
 * back with `trellis iptables`' own flag parser, so a pod is never given
 * flags its init container would refuse.
 */
import { TrellisError } from '../errors.js';
import { parseIptablesArgs } from '../iptables/flags.js';
import type { InjectionConfig } from './config.js';
import { ANNOTATION } from './names.js';

/** The uid and gid the sidecar runs as (Istio's), exempt from capture. */
export const PROXY_UID = 1337;

/** The proxy's Prometheus port (Envoy's 15090), excluded from capture as in Istio. */
export const ENVOY_PROMETHEUS_PORT = 15090;

/** Istio's excludeInboundPort(): the agent port appended to the excluded list unless present or 0. */
export function excludeInboundPort(agentPort: string, excluded: string): string {
  const p = agentPort.trim();
  if (p === '' || p === '0') return excluded;
  const ports = excluded.split(',');
  if (ports.includes(p)) return excluded;
  return [...ports.map((s) => s.trim()).filter((s) => s !== ''), p].join(',');
}

/** The interception mode in force: the annotation, else the mesh's. */
export function interceptionMode(annotations: Readonly<Record<string, string>>, cfg: InjectionConfig): string {
  return annotations[ANNOTATION.interceptionMode] ?? cfg.interceptionMode;
}

/** The agent (status) port in force, as text: the annotation, else the mesh's. */
export function agentPortText(annotations: Readonly<Record<string, string>>, cfg: InjectionConfig): string {
  return annotations[ANNOTATION.statusPort] ?? String(cfg.agentPort);
}

/** `trellis iptables` argv (without the program name) for a pod with these annotations. */
export function captureArgs(annotations: Readonly<Record<string, string>>, cfg: InjectionConfig, proxyUser: { uid?: number; gid?: number } = {}): string[] {
  const a = (name: string, dflt: string) => annotations[name] ?? dflt;
  const excluded = excludeInboundPort(agentPortText(annotations, cfg), a(ANNOTATION.excludeInboundPorts, cfg.excludeInboundPorts));
  const args = [
    'iptables',
    '-p', '15001',
    '-z', '15006',
    '-u', String(proxyUser.uid ?? PROXY_UID),
    ...(proxyUser.gid !== undefined && proxyUser.gid !== PROXY_UID ? ['-g', String(proxyUser.gid)] : []),
    '-m', interceptionMode(annotations, cfg),
    '-i', a(ANNOTATION.includeOutboundIpRanges, cfg.includeIPRanges),
    '-x', a(ANNOTATION.excludeOutboundIpRanges, cfg.excludeIPRanges),
    '-b', a(ANNOTATION.includeInboundPorts, cfg.includeInboundPorts),
    '-d', excluded ? `${ENVOY_PROMETHEUS_PORT},${cfg.healthPort},${excluded}` : `${ENVOY_PROMETHEUS_PORT},${cfg.healthPort}`,
  ];
  if (ANNOTATION.includeOutboundPorts in annotations || cfg.includeOutboundPorts !== '') args.push('-q', a(ANNOTATION.includeOutboundPorts, cfg.includeOutboundPorts));
  if (ANNOTATION.excludeOutboundPorts in annotations || cfg.excludeOutboundPorts !== '') args.push('-o', a(ANNOTATION.excludeOutboundPorts, cfg.excludeOutboundPorts));
  const virt = annotations[ANNOTATION.rerouteVirtualInterfaces] ?? annotations[ANNOTATION.kubevirtInterfaces];
  if (virt !== undefined) args.push('-k', virt);
  if (annotations[ANNOTATION.excludeInterfaces] !== undefined) args.push('-c', annotations[ANNOTATION.excludeInterfaces]);
  const parsed = parseIptablesArgs(args.slice(1));
  if (parsed.errors.length > 0) {
    throw new TrellisError('INJECT_INVALID', `the capture flags derived from the pod's annotations are not valid for trellis iptables: ${parsed.errors.join('; ')}`);
  }
  return args;
}
