/**
 * A real DNS server for tests: dnsmasq on 127.0.0.1 and a free port,
 * answering only from a hosts file the test writes (--no-resolv --no-hosts:
 * nothing is ever asked of another server). setRecords rewrites the file and
 * SIGHUPs dnsmasq, which re-reads it and clears its cache. stop() kills it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { promises as dns } from 'node:dns';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { runInPod } from '../../src/local/netns/index.js';

export interface Dnsmasq {
  port: number;
  /** "127.0.0.1:PORT", as CaresDnsResolverConfig's resolvers and node:dns take it. */
  server: string;
  /** Replaces every record: name → addresses (IPv4 and IPv6, in the order given); resolves once dnsmasq serves them. */
  setRecords(records: Record<string, string[]>): Promise<void>;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Where dnsmasq serves, when not on a free loopback port of this namespace. */
export interface DnsmasqPlace {
  /** A network namespace of the test's (`ip netns exec`): dnsmasq runs there, and readiness is checked from there. */
  netns: string;
  address: string;
  port: number;
  /** Domains answered from the hosts file only (NXDOMAIN for other names under them), e.g. a search list's. */
  localDomains?: string[];
}

/**
 * `ttl`: the TTL dnsmasq gives its hosts-file records (--local-ttl). On a free loopback port: another
 * test may take the port between the probe and dnsmasq's bind (its TCP side too), so a few new ports are tried.
 */
export async function startDnsmasq(records: Record<string, string[]>, ttl = 1, place?: DnsmasqPlace): Promise<Dnsmasq> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(records, ttl, place);
    } catch (e) {
      if (place || attempt >= 4 || !String(e).includes('Address already in use')) throw e;
    }
  }
}

async function startOnce(records: Record<string, string[]>, ttl: number, place: DnsmasqPlace | undefined): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-dnsmasq-'));
  // dnsmasq drops to "nobody" and must still read the hosts file on SIGHUP.
  chmodSync(dir, 0o755);
  const hosts = join(dir, 'hosts');
  const write = (r: Record<string, string[]>) => {
    writeFileSync(hosts, Object.entries(r).flatMap(([name, addrs]) => addrs.map((a) => `${a} ${name}\n`)).join(''));
    chmodSync(hosts, 0o644);
  };
  write(records);
  const port = place?.port ?? await freeUdpPort();
  const address = place?.address ?? '127.0.0.1';
  const args = [
    '--no-daemon', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, `--local-ttl=${ttl}`,
    `--listen-address=${address}`, '--bind-interfaces', `--port=${port}`, '--pid-file=', '--cache-size=0', '--log-facility=-',
    ...(place?.localDomains ?? []).map((d) => `--local=/${d}/`),
  ];
  const proc: ChildProcess = place ? spawn('ip', ['netns', 'exec', place.netns, 'dnsmasq', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const server = `${address}:${port}`;
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);
  const resolve4 = place ? (name: string) => resolveIn(place.netns, server, name) : (name: string) => resolver.resolve4(name);
  const serves = async (r: Record<string, string[]>) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        const ok = await Promise.all(Object.entries(r).map(async ([name, addrs]) => {
          const v4 = addrs.filter((a) => !a.includes(':'));
          if (v4.length === 0) return true;
          const got = await resolve4(name);
          return got.slice().sort().join() === v4.slice().sort().join();
        }));
        if (ok.every(Boolean)) return;
      } catch {
        // not yet
      }
      if (proc.exitCode !== null) throw new Error(`dnsmasq exited: ${err}`);
      if (Date.now() > deadline) throw new Error(`dnsmasq does not serve the records: ${err}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await serves(records);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    server,
    async setRecords(r) {
      write(r);
      proc.kill('SIGHUP');
      await serves(r);
    },
    stop,
  };
}

/** resolve4 asked from inside a network namespace (a node one-liner there: the server is only reachable from it). */
async function resolveIn(netns: string, server: string, name: string): Promise<string[]> {
  const script = 'const r=new (require("node:dns").promises.Resolver)({timeout:200,tries:1});r.setServers([process.argv[1]]);r.resolve4(process.argv[2]).then((a)=>console.log(JSON.stringify(a)),()=>console.log("[]"))';
  const r = await runInPod(netns, process.execPath, ['-e', script, server, name], { timeoutMs: 5000 });
  return JSON.parse(r.stdout.trim() || '[]') as string[];
}
