/**
 * The client side of the push benchmarks, in its own process:
 * `node push-clients.js ADDRESS N sotw|delta NAMESPACES [HOLD]`, HOLD a regular
 * expression of the clusters whose endpoints each proxy keeps. Connects N simulated
 * sidecars at once (a control-plane restart: every proxy reconnects), prints
 * {"started":…} just before, {"progress":K,…} every twentieth of them and
 * {"synced":N,"at":…} once all have received CDS, EDS, LDS and RDS. Then it
 * follows the benchmark's commands on stdin, one JSON line each:
 *   {"mark":ID,"type":TYPE_URL} — from now, wait until every proxy has a new
 *     version of TYPE_URL, then print {"mark":ID,"first":…,"last":…};
 *   {"report":ID} — print {"report":ID,"types":{typeUrl: responses}} with the
 *     responses of each type received since the last mark or report;
 *   {"converge":ID,"from":T,"expect":{cluster: endpoints},"ms":MS} — wait until
 *     every proxy holds the expected endpoints (or MS passed), then print
 *     {"converge":ID,"times":[ms after T, per converged proxy],"pending":K}.
 */
import { createInterface } from 'node:readline';
import { SimProxy } from './lib/sim-proxy.js';
import { Convergence } from './lib/convergence.js';
import { TypeUrl } from '../src/xds/type-urls.js';

const [address, nStr, modeStr, nsStr, holdStr] = process.argv.slice(2);
const n = Number(nStr);
const mode = modeStr === 'delta' ? 'delta' : 'sotw';
const namespaces = Number(nsStr ?? '4');
const hold = holdStr ? new RegExp(holdStr) : undefined;
/** BENCH_ON_DEMAND=K: every proxy uses on-demand clusters and calls K services (svc-0 and svc-1, whose changes the benchmark makes, among them). */
const onDemand = Number(process.env.BENCH_ON_DEMAND ?? 0);
const services = Number(process.env.BENCH_SERVICES ?? 40);
function calledClusters(i: number): string[] | undefined {
  if (onDemand <= 0) return undefined;
  const called = new Set([0, 1]);
  for (let j = 0; called.size < Math.min(onDemand, services); j++) called.add((i * 7 + j * 13) % services);
  return [...called].flatMap((s) => ['', 'v1', 'v2'].map((subset) => `outbound|9080|${subset}|svc-${s}.ns-${s % namespaces}.svc.cluster.local`));
}
const wall = () => performance.timeOrigin + performance.now();
const print = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

const needed = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration];
const proxies: SimProxy[] = [];
let synced = 0;
/** The current mark: the type awaited, each proxy's version when it was set, and who has moved since. */
let mark: { id: number; type: string; before: Map<SimProxy, string | undefined>; updated: Set<SimProxy>; first: number } | undefined;
let converging: { id: number; convergence: Convergence; timer: NodeJS.Timeout } | undefined;

for (let i = 0; i < n; i++) {
  const ns = `ns-${i % namespaces}`;
  const ip = `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  const p = new SimProxy(address!, `sidecar~${ip}~client-${i}.${ns}~${ns}.svc.cluster.local`, mode, hold && ((c) => hold.test(c)), calledClusters(i));
  let isSynced = false;
  p.onResponse = (typeUrl) => {
    if (!isSynced && needed.every((t) => p.receivedAt.has(t))) {
      isSynced = true;
      if (++synced === n) print({ synced, at: wall() });
      else if (synced % Math.max(1, Math.floor(n / 20)) === 0) print({ progress: synced, at: wall() });
      return;
    }
    if (converging && typeUrl === TypeUrl.ClusterLoadAssignment && converging.convergence.check(p)) converged();
    const m = mark;
    if (!m || typeUrl !== m.type || m.updated.has(p) || p.versions.get(typeUrl) === m.before.get(p)) return;
    if (m.updated.size === 0) m.first = wall();
    m.updated.add(p);
    if (m.updated.size === n) print({ mark: m.id, first: m.first, last: wall() });
  };
  proxies.push(p);
}
print({ started: wall() });
for (const p of proxies) p.start();

function converged(): void {
  const c = converging!;
  converging = undefined;
  clearTimeout(c.timer);
  print({ converge: c.id, ...c.convergence.result() });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { mark?: number; type?: string; report?: number; converge?: number; from?: number; expect?: Record<string, string>; ms?: number };
  if (cmd.mark !== undefined) {
    for (const p of proxies) p.responses.clear();
    mark = { id: cmd.mark, type: cmd.type!, before: new Map(proxies.map((p) => [p, p.versions.get(cmd.type!)])), updated: new Set(), first: 0 };
  } else if (cmd.report !== undefined) {
    const types: Record<string, number> = {};
    for (const p of proxies) for (const [t, c] of p.responses) types[t] = (types[t] ?? 0) + c;
    for (const p of proxies) p.responses.clear();
    print({ report: cmd.report, types });
  } else if (cmd.converge !== undefined) {
    const convergence = new Convergence(proxies, cmd.expect!, cmd.from!);
    converging = { id: cmd.converge, convergence, timer: setTimeout(converged, cmd.ms!) };
    if (convergence.done) converged();
  }
});
process.once('SIGTERM', () => {
  for (const p of proxies) p.close();
  process.exit(0);
});
