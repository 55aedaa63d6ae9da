/**
 * Child process for the push fan-out test: opens N ADS streams (one gRPC
 * channel each, like N proxies), subscribes CDS, EDS, LDS, RDS, and ACKs
 * every response. Reports {ready} on IPC when all initial responses arrived.
 * argv: port count mode(sotw|delta)
 */
import { TestAdsClient, nodeId, type DeltaStream, type SotwStream } from '../../helpers/ads-client.js';
import { CDS, EDS, LDS, RDS } from './fake-generator.js';

if (!process.send) {
  process.stderr.write('fanout-client-process: start me with fork() from fanout.test\n');
  process.exit(2);
}
const [portArg, countArg, mode] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const clients: TestAdsClient[] = [];
let initial = 0;
const expectedInitial = count * 4;

function onInitial(): void {
  if (++initial === expectedInitial) process.send?.({ ready: true });
}

function sotw(s: SotwStream): void {
  const seen = new Set<string>();
  s.call.on('data', (res) => {
    const names = res.typeUrl === RDS ? ['9080'] : res.typeUrl === EDS ? ['outbound|9080||reviews'] : [];
    s.ack(res, names);
    if (!seen.has(res.typeUrl)) {
      seen.add(res.typeUrl);
      onInitial();
    }
  });
  s.request(CDS);
  s.request(EDS, ['outbound|9080||reviews']);
  s.request(LDS);
  s.request(RDS, ['9080']);
}

function delta(s: DeltaStream): void {
  const seen = new Set<string>();
  s.call.on('data', (res) => {
    s.ack(res);
    if (!seen.has(res.typeUrl)) {
      seen.add(res.typeUrl);
      onInitial();
    }
  });
  s.request(CDS);
  s.request(EDS, { resourceNamesSubscribe: ['outbound|9080||reviews'] });
  s.request(LDS);
  s.request(RDS, { resourceNamesSubscribe: ['9080'] });
}

for (let i = 0; i < count; i++) {
  const c = new TestAdsClient(port);
  clients.push(c);
  const id = nodeId(`p${i}`, 'default');
  if (mode === 'delta') delta(c.delta(id));
  else sotw(c.sotw(id));
}

process.on('message', (m: { exit?: boolean }) => {
  if (m.exit) {
    for (const c of clients) c.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
