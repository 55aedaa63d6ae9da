/**
 * kubectl's table output for pods and services, from the objects as the API
 * server stores them: the same columns, the same STATUS and AGE rules
 * (printers in k8s.io/kubernetes/pkg/printers/internalversion, duration's
 * HumanDuration) and tabwriter-style alignment (three spaces). Pure.
 */
import type { PodObject } from './pod-objects.js';

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/** Rows aligned as kubectl's tabwriter does: each column as wide as its widest cell, three spaces between. */
export function alignTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

interface ContainerStatusLike {
  name: string;
  ready: boolean;
  restartCount: number;
  state: { running?: unknown; waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number } };
}

/** kubectl's STATUS column (printPod): the phase, overridden by the most telling container state. */
export function podStatusReason(p: PodObject): string {
  const status = p.status as { phase?: string; reason?: string; containerStatuses?: ContainerStatusLike[]; initContainerStatuses?: ContainerStatusLike[]; conditions?: { type: string; status: string }[] };
  let reason = status.reason ?? status.phase ?? 'Unknown';
  const inits = status.initContainerStatuses ?? [];
  const initTotal = inits.length;
  let initializing = false;
  inits.forEach((c, i) => {
    if (initializing || c.state.terminated?.exitCode === 0) return;
    initializing = true;
    if (c.state.terminated) reason = `Init:${c.state.terminated.reason ?? `ExitCode:${c.state.terminated.exitCode}`}`;
    else if (c.state.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${initTotal}`;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      if (c.state.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state.terminated) reason = `ExitCode:${c.state.terminated.exitCode ?? 0}`;
      else if (c.ready && c.state.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if ((p.metadata as { deletionTimestamp?: string }).deletionTimestamp) reason = 'Terminating';
  return reason;
}

export function podRow(p: PodObject, now: number, wide: boolean): string[] {
  const m = p.metadata as { name: string; creationTimestamp?: string };
  const s = p.status as { podIP?: string; containerStatuses?: ContainerStatusLike[] };
  const cs = s.containerStatuses ?? [];
  const row = [m.name, `${cs.filter((c) => c.ready).length}/${cs.length}`, podStatusReason(p), String(cs.reduce((n, c) => n + c.restartCount, 0)), humanDuration(now - Date.parse(m.creationTimestamp ?? new Date(now).toISOString()))];
  if (wide) row.push(s.podIP ?? '<none>', String((p.spec as { nodeName?: string }).nodeName ?? '<none>'), '<none>', '<none>');
  return row;
}

export const podHeader = (wide: boolean) => ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : [])];

export interface ServiceLike {
  metadata: { name: string; namespace?: string; creationTimestamp?: string };
  spec: { type?: string; clusterIP?: string; externalName?: string; externalIPs?: string[]; selector?: Record<string, string>; ports?: { port: number; nodePort?: number; protocol?: string }[] };
}

export function serviceRow(s: ServiceLike, now: number, wide: boolean): string[] {
  const type = s.spec.type ?? 'ClusterIP';
  const ports = (s.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
  const external = type === 'ExternalName' ? s.spec.externalName ?? '<none>' : s.spec.externalIPs?.length ? s.spec.externalIPs.join(',') : type === 'LoadBalancer' ? '<pending>' : '<none>';
  const row = [s.metadata.name, type, s.spec.clusterIP ?? '<none>', external, ports, humanDuration(now - Date.parse(s.metadata.creationTimestamp ?? new Date(now).toISOString()))];
  if (wide) row.push(s.spec.selector ? Object.entries(s.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>');
  return row;
}

export const serviceHeader = (wide: boolean) => ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', ...(wide ? ['SELECTOR'] : [])];
