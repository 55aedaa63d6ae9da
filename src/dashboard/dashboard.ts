/**
 * A dashboard: the collector and the server together, for `trellis
 * dashboard` (which polls the mesh while someone looks) and `trellis up`
 * (whose status poller feeds the collector what it reads anyway). Listens
 * on 127.0.0.1:port; with `anyPortIfTaken` (trellis up, whose runs may
 * overlap) a taken port falls back to one the system picks, and the URL
 * says which.
 */
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServiceLike } from '../local/up/kube-table.js';
import type { MeshLocator } from '../debug/locator.js';
import { Collector, type ServiceInfo } from './collector.js';
import { MeshPoller } from './mesh-poller.js';
import { startDashboardServer, type DashboardServer } from './server.js';

/** Kiali's port: `istioctl dashboard kiali` opens it there too. */
export const DEFAULT_DASHBOARD_PORT = 20001;
export const DEFAULT_WINDOW_MS = 10_000;
const INTERVAL_MS = 1000;

export interface DashboardOptions {
  /** The mesh: its pods and control plane (for polling) and what explain is asked about. */
  locator: MeshLocator;
  /** Poll the mesh while someone looks (`trellis dashboard`), with these Services; without it the caller feeds `collector`. */
  poll?: { services(): Promise<readonly ServiceInfo[]> };
  port: number;
  staticDir: string;
  windowMs?: number;
  anyPortIfTaken?: boolean;
}

export interface Dashboard extends DashboardServer {
  collector: Collector;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const collector = new Collector(o.locator.source, o.windowMs ?? DEFAULT_WINDOW_MS);
  const poller = o.poll ? new MeshPoller({ locator: o.locator, services: o.poll.services }, collector, INTERVAL_MS) : undefined;
  const serve = (port: number) => startDashboardServer({ port, staticDir: o.staticDir, model: () => collector.model(), ...(poller ? { touch: () => poller.touch() } : {}), mesh: o.locator });
  let server: DashboardServer;
  try {
    server = await serve(o.port);
  } catch (err) {
    if (!o.anyPortIfTaken || !/EADDRINUSE/.test(String((err as Error).message))) throw err;
    server = await serve(0);
  }
  return {
    ...server,
    collector,
    close: async () => {
      poller?.close();
      await server.close();
    },
  };
}

/** The page's files: the bundle's dashboard/ folder, beside the CLI's main script. */
export function dashboardStaticDir(mainScript: string): string {
  return join(dirname(realpathSync(mainScript)), 'dashboard');
}

/** What the dashboard needs of Kubernetes Services: host, ports, cluster IP. */
export function serviceInfo(s: ServiceLike): ServiceInfo {
  const host = `${s.metadata.name}.${s.metadata.namespace ?? 'default'}.svc.cluster.local`;
  const ip = s.spec.clusterIP;
  return { host, ports: (s.spec.ports ?? []).map((p) => p.port), ...(ip && ip !== 'None' ? { clusterIP: ip } : {}) };
}
