/**
 * ISTIO_PROMETHEUS_ANNOTATIONS: where the app serves its own metrics, which
 * the agent appends to the proxy's on the status port (Istio's metrics
 * merge). The injector writes it from the pod's prometheus.io/* and
 * prometheus.istio.io/scrape-targets annotations (src/inject/pod-metadata.ts)
 * before pointing those annotations at the proxy; both sides share these
 * types. Pure.
 */

export interface ScrapeTarget {
  port: string;
  path: string;
}

/** As Istio's PrometheusScrapeConfiguration: strings as the annotations held them. */
export interface ScrapeConfig {
  scrape: string;
  path: string;
  port: string;
  targets?: ScrapeTarget[];
}

/** The app endpoints to scrape (port number and path), and why the value was ignored if it was. */
export function scrapeTargetsFrom(json: string | undefined): { targets: { port: number; path: string }[]; error?: string } {
  if (json === undefined || json.trim() === '') return { targets: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    return { targets: [], error: `ISTIO_PROMETHEUS_ANNOTATIONS is not JSON: ${(err as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { targets: [], error: 'ISTIO_PROMETHEUS_ANNOTATIONS is not an object' };
  const c = doc as Partial<ScrapeConfig>;
  const raw = Array.isArray(c.targets) && c.targets.length > 0 ? c.targets : c.port ? [{ port: c.port, path: c.path ?? '' }] : [];
  const targets: { port: number; path: string }[] = [];
  for (const t of raw) {
    const port = Number(t?.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { targets: [], error: `ISTIO_PROMETHEUS_ANNOTATIONS: bad port ${JSON.stringify(t?.port)}` };
    const path = typeof t.path === 'string' && t.path !== '' ? t.path : '/metrics';
    targets.push({ port, path: path.startsWith('/') ? path : `/${path}` });
  }
  return { targets };
}
