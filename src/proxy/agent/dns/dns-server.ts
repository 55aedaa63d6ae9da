/**
 * The agent's DNS proxy (istio-agent's, enabled by ISTIO_META_DNS_CAPTURE):
 * UDP and TCP on 127.0.0.1:15053, where the capture rules redirect the app's
 * port-53 traffic. A/AAAA questions for names in the control plane's table
 * (NDS, lookup-table.ts) are answered here; every other question goes to
 * the pod's resolvers (upstream.ts) and their answer is relayed unchanged.
 * Bounded: at most MAX_IN_FLIGHT forwarded queries at once (more are
 * answered SERVFAIL), TCP connections idle for 10 s are closed.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { errorMessage } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { LookupTable, type NameInfo, type ProxyDns } from './lookup-table.js';
import type { Upstream } from './upstream.js';
import { Rcode, UDP_PLAIN_LIMIT, encodeAnswer, encodeBareError, messageId, parseQuery, type DnsQuery } from './wire.js';

const MAX_IN_FLIGHT = 256;
const TCP_IDLE_MS = 10_000;
/** Bytes a TCP client may have buffered without a complete message: one maximal message and its length. */
const TCP_MAX_BUFFERED = 65_537;

export interface DnsServerOptions {
  address: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port: number;
  upstream: Upstream;
  proxy: ProxyDns;
  log: Logger;
}

/** Counters for the admin API and tests. */
export interface DnsStats {
  queries: number;
  answered: number;
  forwarded: number;
  upstreamFailures: number;
  malformed: number;
}

export class DnsServer {
  readonly #opts: DnsServerOptions;
  #table: LookupTable;
  #udp: UdpSocket | undefined;
  #tcp: Server | undefined;
  readonly #conns = new Set<Socket>();
  #inFlight = 0;
  readonly stats: DnsStats = { queries: 0, answered: 0, forwarded: 0, upstreamFailures: 0, malformed: 0 };

  constructor(opts: DnsServerOptions) {
    this.#opts = opts;
    this.#table = new LookupTable({}, opts.proxy);
  }

  /** Replaces the table (a new NDS update); queries in progress finish with the old one. */
  setTable(table: Readonly<Record<string, NameInfo>>): void {
    this.#table = new LookupTable(table, this.#opts.proxy);
    this.#opts.log.debug('name table updated', { names: this.#table.size });
  }

  /** Binds UDP, then TCP on the same port; resolves with that port. */
  /**
   * Binds UDP and TCP on the same port. With port 0 (tests, `--dns-port 0`) the UDP socket picks the port and
   * TCP may find it taken by another process: then both are tried again on a new port, a few times.
   */
  async start(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#bind();
      } catch (err) {
        await this.close();
        if (this.#opts.port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
      }
    }
  }

  async #bind(): Promise<number> {
    const udp = createSocket('udp4');
    this.#udp = udp;
    udp.on('message', (msg, rinfo) => void this.#onUdp(msg, rinfo.address, rinfo.port));
    udp.on('error', (err) => this.#opts.log.warn('DNS UDP socket error', { error: errorMessage(err) }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.#opts.port, this.#opts.address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const port = udp.address().port;
    const tcp = createServer((sock) => this.#onTcp(sock));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, this.#opts.address, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.#tcp = tcp;
    return port;
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    const tcp = this.#tcp;
    this.#tcp = undefined;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  async #onUdp(msg: Buffer, address: string, port: number): Promise<void> {
    const answer = await this.#answer(msg, 'udp');
    if (answer) this.#udp?.send(answer, port, address);
  }

  #onTcp(sock: Socket): void {
    this.#conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => this.#conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > TCP_MAX_BUFFERED) {
        sock.destroy();
        return;
      }
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.#answer(Buffer.from(msg), 'tcp').then((answer) => {
          if (!answer || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(answer.length);
          sock.write(Buffer.concat([len, answer]));
        });
      }
    });
  }

  /** The bytes to send back, or undefined to send nothing (a message without even an id). */
  async #answer(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    this.stats.queries++;
    let q: DnsQuery;
    try {
      q = parseQuery(msg);
    } catch (err) {
      this.stats.malformed++;
      this.#opts.log.debug('malformed DNS message', { error: errorMessage(err) });
      const id = messageId(msg);
      return id === undefined ? undefined : encodeBareError(id, Rcode.FORMERR);
    }
    const local = this.#table.lookup(q.name, q.type);
    if (local.found) {
      this.stats.answered++;
      try {
        return encodeAnswer(q, Rcode.NOERROR, local.answers, { authoritative: true, udpLimit: transport === 'udp' ? UDP_PLAIN_LIMIT : undefined });
      } catch (err) {
        // The table is validated on arrival; a record that still cannot be written fails this answer, not the server.
        this.#opts.log.warn('cannot encode DNS answer', { name: q.name, error: errorMessage(err) });
        return encodeAnswer(q, Rcode.SERVFAIL, [], { authoritative: false });
      }
    }
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.stats.upstreamFailures++;
      return encodeAnswer(q, Rcode.SERVFAIL, [], { authoritative: false });
    }
    this.#inFlight++;
    this.stats.forwarded++;
    try {
      return await this.#opts.upstream.forward(msg, transport);
    } catch (err) {
      this.stats.upstreamFailures++;
      this.#opts.log.debug('DNS forward failed', { name: q.name, error: errorMessage(err) });
      return encodeAnswer(q, Rcode.SERVFAIL, [], { authoritative: false });
    } finally {
      this.#inFlight--;
    }
  }
}

/**
 * istio-agent's DNS counters in Prometheus text, for the agent's merged
 * /stats/prometheus (the status port): every query, those forwarded, and
 * those no upstream answered (SERVFAIL, including the in-flight cap's).
 */
export function dnsMetricsText(s: DnsStats): string {
  const counter = (name: string, help: string, v: number) => `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${v}\n`;
  return counter('istio_agent_dns_requests_total', 'Total number of DNS requests.', s.queries)
    + counter('istio_agent_dns_upstream_requests_total', 'Total number of DNS requests forwarded to upstream.', s.forwarded)
    + counter('istio_agent_dns_upstream_failures_total', 'Total number of DNS requests no upstream answered.', s.upstreamFailures);
}
