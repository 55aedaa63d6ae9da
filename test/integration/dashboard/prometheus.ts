/**
 * Debian's Prometheus for the dashboard's cross-check: on 127.0.0.1 (a port
 * found free just before), scraping the given proxies' admin
 * /stats/prometheus every second, its data in a temporary directory that
 * stop() removes with the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export class Prometheus {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly address: string;
  readonly log: string[] = [];

  private constructor(child: ChildProcess, dir: string, address: string) {
    this.#child = child;
    this.#dir = dir;
    this.address = address;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.log.push(...d.split('\n').slice(0, 20)));
  }

  static async start(targets: readonly string[]): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-prometheus-'));
    const config = ['global: {scrape_interval: 1s, scrape_timeout: 900ms}', 'scrape_configs:', '- job_name: trellis-proxies', '  metrics_path: /stats/prometheus', `  static_configs: [{targets: ${JSON.stringify(targets)}}]`].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const address = `127.0.0.1:${await freePort()}`;
    const child = spawn(PROMETHEUS_BIN, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${address}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Prometheus(child, dir, address);
  }

  /** An instant query's vector (at `at` ms, else now): each series' labels and value. */
  async query(q: string, at?: number): Promise<{ metric: Record<string, string>; value: number }[]> {
    const time = at === undefined ? '' : `&time=${at / 1000}`;
    const r = await fetch(`http://${this.address}/api/v1/query?query=${encodeURIComponent(q)}${time}`);
    const j = (await r.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (j.status !== 'success') throw new Error(`prometheus: ${j.error ?? r.status}: ${q}`);
    return j.data!.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      const t = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
