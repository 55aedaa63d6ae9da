/**
 * The client side of the push fan-out benchmark, in its own process:
 * `node push-clients.js ADDRESS N sotw|delta NAMESPACES`. Connects N simulated
 * sidecars, prints {"synced":N,...} once all have received CDS, EDS, LDS and
 * RDS, then one {"round":k,...} line each time every proxy has received a new
 * RDS version (the benchmark edits a VirtualService between rounds).
 */
import { SimProxy } from './lib/sim-proxy.js';
import { TypeUrl } from '../src/xds/type-urls.js';

const [address, nStr, modeStr, nsStr] = process.argv.slice(2);
const n = Number(nStr);
const mode = modeStr === 'delta' ? 'delta' : 'sotw';
const namespaces = Number(nsStr ?? '4');
const wall = () => performance.timeOrigin + performance.now();

const proxies: SimProxy[] = [];
const needed = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration];
let synced = 0;
let round = 0;
let updated = new Set<SimProxy>();
let firstAt = 0;
const rdsVersion = new Map<SimProxy, string>();

for (let i = 0; i < n; i++) {
  const ns = `ns-${i % namespaces}`;
  const ip = `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  const p = new SimProxy(address!, `sidecar~${ip}~client-${i}.${ns}~${ns}.svc.cluster.local`, mode);
  let isSynced = false;
  p.onResponse = (typeUrl) => {
    if (!isSynced && needed.every((t) => p.receivedAt.has(t))) {
      isSynced = true;
      rdsVersion.set(p, p.versions.get(TypeUrl.RouteConfiguration)!);
      if (++synced === n) process.stdout.write(JSON.stringify({ synced, at: wall() }) + '\n');
      return;
    }
    if (isSynced && synced === n && typeUrl === TypeUrl.RouteConfiguration) {
      const v = p.versions.get(typeUrl)!;
      if (v === rdsVersion.get(p)) return;
      rdsVersion.set(p, v);
      if (updated.size === 0) firstAt = wall();
      updated.add(p);
      if (updated.size === n) {
        round++;
        process.stdout.write(JSON.stringify({ round, first: firstAt, last: wall() }) + '\n');
        updated = new Set();
      }
    }
  };
  proxies.push(p);
}
// Connect in small batches so the control plane sees a realistic ramp, not one burst.
for (let i = 0; i < proxies.length; i += 50) {
  for (const p of proxies.slice(i, i + 50)) p.start();
  await new Promise((r) => setTimeout(r, 20));
}
process.once('SIGTERM', () => {
  for (const p of proxies) p.close();
  process.exit(0);
});
