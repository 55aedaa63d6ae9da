/**
 * FAKE node proxy — a test double of `trellis ztunnel`, which another
 * engineer is writing while this one is (issue 15's contract, item 3); not
 * a test. `trellis up` runs it in place of the real one (TRELLIS_UP_NODE_PROXY)
 * with the contract's flags. It serves ZDS with the real ZdsServer, and for
 * each pod listens on 15008 (marked 0x539, as the node proxy does) inside
 * the namespace whose fd it received, answering "fake-node-proxy NAME"; a
 * pod named "refused" it refuses.
 * What it gets is appended as JSON lines to $FAKE_NODE_PROXY_REPORT.
 */
import { appendFileSync, fstatSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { closeFd, listenInNetns } from '../../../src/native/netns-socket.js';
import { ZdsServer, type ZdsPod } from '../../../src/ztunnel/zds/index.js';

const report = (o: object) => appendFileSync(process.env.FAKE_NODE_PROXY_REPORT!, JSON.stringify(o) + '\n');

function flags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i]!.replace(/^--/, '')] = argv[i + 1] ?? '';
  return out;
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const token = readFileSync(f['token-file']!, 'utf8');
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as object;
  const servers = new Map<string, { server: Server; pod: ZdsPod }>();
  const zds = new ZdsServer(f['zds-socket']!, {
    add: async (pod) => {
      // How a test sees a node proxy's refusal reach the pod.
      if (pod.name === 'refused') throw new Error('the fake node proxy refuses this pod');
      const st = fstatSync(pod.netnsFd);
      const server = createServer((s) => s.on('error', () => undefined).end(`fake-node-proxy ${pod.name}\n`));
      await new Promise<void>((r) => server.listen({ fd: listenInNetns(pod.netnsFd, { host: '0.0.0.0', port: 15008, mark: 0x539 }) }, () => r()));
      servers.set(pod.uid, { server, pod });
      report({ event: 'add', uid: pod.uid, name: pod.name, namespace: pod.namespace, serviceAccount: pod.serviceAccount, netnsIno: st.ino, netnsDev: st.dev });
    },
    remove: async (uid) => {
      const s = servers.get(uid);
      servers.delete(uid);
      s?.server.close();
      if (s) closeFd(s.pod.netnsFd);
      report({ event: 'remove', uid });
    },
    snapshotSent: () => report({ event: 'snapshot' }),
  });
  await zds.listen();
  report({ event: 'start', pid: process.pid, flags: f, claims });
  process.on('SIGTERM', () => {
    void zds.close().then(() => {
      report({ event: 'exit' });
      process.exit(0);
    });
  });
}

void main().catch((err: unknown) => {
  report({ event: 'error', error: String(err) });
  process.exit(1);
});
