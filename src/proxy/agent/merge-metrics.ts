/**
 * Istio's metrics merge: the proxy's Prometheus text followed by each app
 * endpoint's, so that one scrape of the status port (what the pod's
 * prometheus.io annotations point at after injection) gets both. An app
 * that does not answer costs its own metrics only: the proxy's are always
 * returned, and the failure is counted.
 */
import http from 'node:http';

const SCRAPE_TIMEOUT_MS = 5_000;
/** An app's metrics beyond this are cut off rather than held in memory. */
const MAX_APP_METRICS = 16 * 1024 * 1024;

export interface AppTarget {
  port: number;
  path: string;
}

/** OpenMetrics ends with "# EOF"; in the middle of a concatenation it would end the scrape early. */
export function joinMetrics(parts: readonly string[]): string {
  return parts
    .map((p) => p.replace(/^# EOF\s*$/m, ''))
    .map((p) => (p === '' || p.endsWith('\n') ? p : `${p}\n`))
    .join('');
}

export function scrapeApp(host: string, t: AppTarget, accept: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port: t.port, path: t.path, timeout: SCRAPE_TIMEOUT_MS, agent: false, headers: accept ? { accept } : {} }, (res) => {
      if ((res.statusCode ?? 500) >= 300) {
        res.resume();
        reject(new Error(`${t.port}${t.path}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_APP_METRICS) req.destroy(new Error(`${t.port}${t.path}: more than ${MAX_APP_METRICS} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${t.port}${t.path}: no answer within ${SCRAPE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}
