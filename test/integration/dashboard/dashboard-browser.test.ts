/**
 * The dashboard in a real browser (Debian's chromium, headless, driven by
 * playwright-core) against one `trellis up` mesh in loopback mode with a
 * steady load sent through the client's sidecar: the edges are there with
 * the load's rate (±10 %) and the fault's error share, Debian's Prometheus
 * scraping the same proxies and running Kiali's queries agrees with
 * /api/model, the mTLS lock opens when STRICT becomes DISABLE, a push the
 * proxies reject shows as NACK with its error, a click on an edge shows its
 * explain command — and a synthetic mesh of 300 workloads renders in under
 * 2 s. Screenshots go to os.tmpdir()/trellis-dashboard-screenshots (named
 * in the test output).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DashboardModel } from '../../../src/dashboard/model.js';
import { startDashboardServer, type DashboardServer } from '../../../src/dashboard/server.js';
import { trellisBin } from '../../helpers/trellis-process.js';
import { FIXTURES, UpRun, fixtureCopy } from '../up/up-run.js';
import { Load } from './load.js';
import { PROMETHEUS_BIN, Prometheus } from './prometheus.js';
import { syntheticModel } from './synthetic-mesh.js';

const CHROMIUM = '/usr/bin/chromium';
const STATIC_DIR = fileURLToPath(new URL('../../../bundle/dashboard/', import.meta.url));
const SHOTS = join(tmpdir(), 'trellis-dashboard-screenshots');
const RPS = 20;
const FAULT_PCT = 25;
const WINDOW_MS = 10_000;
const CLIENT_TO_WEB = 'workload:dash/client>service:web.dash.svc.cluster.local';
const WEB_INBOUND = 'service:web.dash.svc.cluster.local>workload:dash/web';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux';
  if (!existsSync(CHROMIUM)) return `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (!existsSync(PROMETHEUS_BIN)) return `needs Debian's prometheus at ${PROMETHEUS_BIN} (apt-get install prometheus)`;
  if (!existsSync(join(STATIC_DIR, 'app.js'))) return 'needs the built dashboard page (node scripts/bundle.mjs)';
  return false;
}

const skip = skipReason();
/** One chromium for the file (its start is ~2 s of the budget), launched when first needed, closed at the end. */
let launched: Promise<Browser> | undefined;
const browserOnce = () => (launched ??= chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }));
after(async () => {
  await (await launched?.catch(() => undefined))?.close();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `ok` holds (bounded by count and time); the last value when it never does, for the message. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  for (let i = 0; i < 200 && !ok(v) && Date.now() < deadline; i++) {
    await sleep(250);
    v = await read();
  }
  return v;
}

describe('trellis dashboard on trellis up, in headless chromium', { skip, timeout: 150_000 }, () => {
  let dir: string;
  let up: UpRun;
  let url: string;
  let load: Load;
  let prom: Prometheus | undefined;
  let page: Page;

  const edgeAttr = (edge: string, attr: string) => page.locator(`[data-edge="${edge}"]`).getAttribute(attr, { timeout: 2000 }).catch(() => null);
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const apiModel = async () => (await (await fetch(new URL('api/model', url))).json()) as DashboardModel;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = fixtureCopy('up-dash');
    cpSync(join(FIXTURES, 'up-mesh', 'app.mjs'), join(dir, 'app.mjs'));
    up = new UpRun(dir, { args: ['--loopback'] });
    const browser = browserOnce();
    url = (await up.waitFor(/^✓ dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/, 30_000))[1]!;
    await up.waitFor(/^✓ all proxies SYNCED/, 60_000);
    await up.allReady();
    // The client's own view of the web Service: its sidecar listens there (loopback mode).
    const env = up.cli(['exec', '-n', 'dash', 'deploy/client', '--', 'sh', '-c', 'echo $WEB_SERVICE_HOST:$WEB_SERVICE_PORT']);
    assert.equal(env.code, 0, env.stderr);
    load = new Load(`http://${env.stdout.trim()}/`, RPS);
    const state = JSON.parse(readFileSync(up.stateFile, 'utf8')) as { pods: { admin?: string }[] };
    prom = await Prometheus.start(state.pods.flatMap((p) => (p.admin ? [p.admin] : [])));
    page = await (await browser).newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url);
  });

  after(async () => {
    load?.stop();
    await page?.close();
    await prom?.stop();
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('edges with the load generator\'s rate (±10 %) and the fault\'s error share, on 127.0.0.1 only', async (t) => {
    t.diagnostic(`screenshots in ${SHOTS}`);
    assert.match(url, /^http:\/\/127\.0\.0\.1:/);
    // A full window of load first: the dashboard's rates are over the last 10 s.
    await sleep(Math.max(0, load.startedAt + WINDOW_MS + 1500 - Date.now()));
    await page.waitForSelector(`[data-edge="${CLIENT_TO_WEB}"]`, { timeout: 10_000 });
    for (const e of [WEB_INBOUND, 'workload:dash/web>service:backend.dash.svc.cluster.local', 'service:backend.dash.svc.cluster.local>workload:dash/backend']) {
      assert.ok(await page.locator(`[data-edge="${e}"]`).count(), `edge ${e} drawn`);
    }
    const rps = Number(await edgeAttr(CLIENT_TO_WEB, 'data-rps'));
    const errorPct = Number(await edgeAttr(CLIENT_TO_WEB, 'data-error-pct'));
    const sent = load.recent(WINDOW_MS);
    assert.ok(Math.abs(rps - sent.rps) <= 0.1 * sent.rps, `dashboard ${rps.toFixed(2)} rps, load generator ${sent.rps.toFixed(2)} rps`);
    // The abort is random per request: the dashboard shows what happened (the generator's count), which is near the configured share.
    assert.ok(Math.abs(errorPct - sent.errorPct) <= 5, `dashboard ${errorPct.toFixed(1)} % errors, load generator saw ${sent.errorPct.toFixed(1)} %`);
    assert.ok(Math.abs(errorPct - FAULT_PCT) <= 10, `dashboard ${errorPct.toFixed(1)} % errors, fault ${FAULT_PCT} %`);
    assert.equal(await edgeAttr(CLIENT_TO_WEB, 'data-flags'), 'FI');
    // Behind the fault only the requests that passed reach web: no errors there.
    assert.equal(Number(await edgeAttr(WEB_INBOUND, 'data-error-pct')), 0);
    await shot('1-topology-under-load');
  });

  test('Prometheus scraping the same proxies, with Kiali\'s queries, gives the dashboard\'s numbers', async () => {
    const by = 'source_workload_namespace, source_workload, destination_service';
    const sel = `reporter="source",source_workload="client",destination_service="web.dash.svc.cluster.local"`;
    const rateQ = `sum(rate(istio_requests_total{${sel}}[10s])) by (${by})`;
    const errQ = `sum(rate(istio_requests_total{${sel},response_code=~"5.."}[10s])) by (${by}) / sum(rate(istio_requests_total{${sel}}[10s])) by (${by})`;
    // A full window of scrapes first (rate() over a shorter history extrapolates low); Kiali's 1m range is 10s here,
    // the dashboard's window.
    const scrapes = await until(() => prom!.query(`min(count_over_time(istio_requests_total{${sel}}[10s]))`), (r) => (r[0]?.value ?? 0) >= 10, 15_000);
    assert.ok((scrapes[0]?.value ?? 0) >= 10, `Prometheus scraped 10 s of the edge (log: ${prom!.log.join(' ')})`);
    // The same moment for both: the dashboard's model, then Prometheus evaluated at the model's time.
    const model = await apiModel();
    const at = Date.parse(model.generatedAt);
    const edge = model.edges.find((e) => e.id === CLIENT_TO_WEB)!;
    const [rate] = await prom!.query(rateQ, at);
    const [err] = await prom!.query(errQ, at);
    assert.ok(Math.abs(rate!.value - edge.rps) <= 0.1 * edge.rps, `Prometheus ${rate!.value.toFixed(2)} rps, dashboard ${edge.rps.toFixed(2)} rps`);
    assert.ok(Math.abs(100 * err!.value - edge.errorPct) <= 6, `Prometheus ${(100 * err!.value).toFixed(1)} % errors, dashboard ${edge.errorPct.toFixed(1)} %`);
    const [inbound] = await prom!.query(`sum(rate(istio_requests_total{reporter="destination",destination_workload="web"}[10s])) by (destination_workload_namespace, destination_workload, destination_service)`, at);
    const webIn = model.edges.find((e) => e.id === WEB_INBOUND)!;
    // What passes the fault is thinned at random: windows a second apart differ by more than the steady load's do.
    assert.ok(Math.abs(inbound!.value - webIn.rps) <= 0.15 * webIn.rps, `Prometheus ${inbound!.value.toFixed(2)} rps into web, dashboard ${webIn.rps.toFixed(2)} rps`);
  });

  test('certificates and the explain of a clicked edge', async () => {
    await page.waitForSelector('[data-spiffe="spiffe://cluster.local/ns/dash/sa/client"]', { timeout: 10_000 });
    assert.match((await page.textContent('[data-cmd="certs"]')) ?? '', /^trellis proxy-config secret POD$/);
    // The edge's label, as a user clicks it: its line can be flat (a zero-height box Playwright calls invisible), and
    // without force Playwright re-finds the element when the page's poll redraws the graph mid-click.
    await page.locator(`[data-edge="${CLIENT_TO_WEB}"] text`).first().click({ timeout: 10_000 });
    const command = await page.textContent('#explain-command', { timeout: 5000 });
    assert.match(command ?? '', /^trellis explain --from client-[a-z0-9]+-[a-z0-9]{5}\.dash http:\/\/web\.dash\.svc\.cluster\.local:8000\/$/);
    // The walk itself, by explainRequest over the pods' live config: the client sidecar's route to web's cluster.
    await page.locator('#explain-result', { hasText: /expected at the source: .*upstream cluster outbound\|8000\|\|web\.dash\.svc\.cluster\.local/ }).waitFor({ timeout: 10_000 });
    await shot('2-explain-and-certs');
  });

  test('trellis dashboard finds the running mesh by its state file and serves the same model; a bad --port is a usage error', async () => {
    assert.equal(up.cli(['dashboard', '--port', 'x']).code, 2);
    const child = spawn(process.execPath, [trellisBin, 'dashboard', '--port', '0'], { env: up.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const own = /^dashboard at (http:\/\/127\.0\.0\.1:\d+\/) \(state file /.exec(line)?.[1];
      assert.ok(own, line);
      const ask = async () => (await (await fetch(new URL('api/model', own))).json()) as DashboardModel;
      const m = await until(ask, (x) => x.proxies.length === 3 && x.edges.some((e) => e.id === CLIENT_TO_WEB && e.rps > 0), 10_000);
      assert.deepEqual(m.proxies.map((p) => p.state), ['SYNCED', 'SYNCED', 'SYNCED']);
      assert.equal(m.edges.find((e) => e.id === CLIENT_TO_WEB)!.explain?.url, 'http://web.dash.svc.cluster.local:8000/', 'ports from the run\'s services');
    } finally {
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    }
  });

  test('the mTLS lock opens when the PeerAuthentication goes from STRICT to DISABLE', async () => {
    assert.equal(await edgeAttr(WEB_INBOUND, 'data-mtls'), 'mtls');
    const principals = (await apiModel()).edges.find((e) => e.id === WEB_INBOUND)!.principals;
    assert.deepEqual(principals, ['spiffe://cluster.local/ns/dash/sa/client']);
    assert.match((await page.locator(`[data-edge="${WEB_INBOUND}"] text`).textContent()) ?? '', /mTLS 100% ?from dash\/client$/);
    writeFileSync(join(dir, 'policy.yaml'), readFileSync(join(dir, 'policy.yaml'), 'utf8').replace('STRICT', 'DISABLE'));
    // Plaintext once the whole window is: the push, then one window.
    const word = await until(() => edgeAttr(WEB_INBOUND, 'data-mtls'), (w) => w === 'plaintext', WINDOW_MS + 10_000);
    assert.equal(word, 'plaintext');
    await shot('3-mtls-disabled');
  });

  test('a push the proxies reject shows as NACK with its error, and the change\'s progress', async () => {
    writeFileSync(join(dir, 'bad-retry.yaml'), [
      'apiVersion: networking.istio.io/v1', 'kind: VirtualService', 'metadata: {name: backend, namespace: dash}', 'spec:',
      '  hosts: [backend.dash.svc.cluster.local]', '  http:', '  - retries: {attempts: 2, retryOn: "not-a-condition"}',
      '    route: [{destination: {host: backend.dash.svc.cluster.local}}]', '',
    ].join('\n'));
    await page.waitForSelector('td.state-NACK', { timeout: 15_000 });
    const row = await page.locator('tr', { has: page.locator('td.state-NACK') }).first().textContent();
    assert.match(row ?? '', /RDS: .*retryOn: unknown condition "not-a-condition"/);
    const progress = page.locator('#changes td.progress').first();
    assert.match((await progress.textContent()) ?? '', /^\d+\/3 proxies$/);
    assert.ok(Number(await progress.getAttribute('data-reached')) < 3, 'the rejected push has not reached every proxy');
    assert.match((await page.textContent('[data-cmd="proxies"]')) ?? '', /^trellis proxy-status$/);
    await shot('4-nack');
  });
});

describe('the dashboard page with a synthetic mesh of 300 workloads', { skip, timeout: 30_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;

  before(async () => {
    const model = syntheticModel(300);
    [server, browser] = await Promise.all([
      startDashboardServer({ port: 0, staticDir: STATIC_DIR, model: () => ({ ...model, generatedAt: new Date().toISOString() }) }),
      browserOnce(),
    ]);
  });

  after(async () => {
    await server?.close();
  });

  test('renders in under 2 s', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const edges = syntheticModel(300).edges.length;
    const t0 = performance.now();
    await page.goto(server.url);
    await page.waitForSelector(`svg[data-edge-count="${edges}"]`, { timeout: 5000 });
    const wall = performance.now() - t0;
    // The page's own clock: from the start of its navigation to the graph drawn (the renderer process's start is chromium's, not the page's).
    const drawn = await page.evaluate(() => Number((globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset['drawnAt']));
    t.diagnostic(`300 workloads: drawn ${Math.round(drawn)} ms after navigation start, ${Math.round(wall)} ms wall`);
    assert.equal(await page.locator('[data-node^="workload:"]').count(), 300);
    assert.ok(drawn < 2000, `drawn ${Math.round(drawn)} ms after the navigation started (${Math.round(wall)} ms for the test, with chromium's renderer start)`);
  });
});
