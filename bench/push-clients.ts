/**
 * The client side of the push fan-out benchmark, in its own process:
 * `node push-clients.js ADDRESS N sotw|delta NAMESPACES`. Connects N simulated
 * sidecars at once (a control-plane restart: every proxy reconnects), prints
 * {"started":…} just before, {"progress":K,…} every twentieth of them and
 * {"synced":N,"at":…} once all have received CDS, EDS, LDS and RDS. Then it
 * follows the benchmark's commands on stdin, one JSON line each:
 *   {"mark":ID,"type":TYPE_URL} — from now, wait until every proxy has a new
 *     version of TYPE_URL, then print {"mark":ID,"first":…,"last":…};
 *   {"report":ID} — print {"report":ID,"types":{typeUrl: responses}} with the
 *     responses of each type received since the last mark.
 */
import { createInterface } from 'node:readline';
import { SimProxy } from './lib/sim-proxy.js';
import { TypeUrl } from '../src/xds/type-urls.js';

const [address, nStr, modeStr, nsStr] = process.argv.slice(2);
const n = Number(nStr);
const mode = modeStr === 'delta' ? 'delta' : 'sotw';
const namespaces = Number(nsStr ?? '4');
const wall = () => performance.timeOrigin + performance.now();
const print = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

const needed = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration];
const proxies: SimProxy[] = [];
let synced = 0;
/** The current mark: the type awaited, each proxy's version when it was set, and who has moved since. */
let mark: { id: number; type: string; before: Map<SimProxy, string | undefined>; updated: Set<SimProxy>; first: number } | undefined;

for (let i = 0; i < n; i++) {
  const ns = `ns-${i % namespaces}`;
  const ip = `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  const p = new SimProxy(address!, `sidecar~${ip}~client-${i}.${ns}~${ns}.svc.cluster.local`, mode);
  let isSynced = false;
  p.onResponse = (typeUrl) => {
    if (!isSynced && needed.every((t) => p.receivedAt.has(t))) {
      isSynced = true;
      if (++synced === n) print({ synced, at: wall() });
      else if (synced % Math.max(1, Math.floor(n / 20)) === 0) print({ progress: synced, at: wall() });
      return;
    }
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

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { mark?: number; type?: string; report?: number };
  if (cmd.mark !== undefined) {
    for (const p of proxies) p.responses.clear();
    mark = { id: cmd.mark, type: cmd.type!, before: new Map(proxies.map((p) => [p, p.versions.get(cmd.type!)])), updated: new Set(), first: 0 };
  } else if (cmd.report !== undefined) {
    const types: Record<string, number> = {};
    for (const p of proxies) for (const [t, c] of p.responses) types[t] = (types[t] ?? 0) + c;
    print({ report: cmd.report, types });
  }
});
process.once('SIGTERM', () => {
  for (const p of proxies) p.close();
  process.exit(0);
});
