/**
 * Where the agent sends the questions its table does not answer: the pod's
 * own resolvers (resolv.conf's nameservers; the proxy's uid is exempt from
 * DNS capture, so these packets leave). A query is relayed as bytes over the
 * transport the app used — UDP (a truncated answer is relayed as it is, the
 * app retries over TCP) or TCP — to each server in turn until one answers,
 * each within a timeout, as a stub resolver tries them. Every UDP query has
 * its own socket (a fresh source port) and only an answer from the server,
 * with the query's id, is taken.
 */
import { createSocket } from 'node:dgram';
import { connect, isIP, isIPv6 } from 'node:net';
import { TrellisError, errorMessage } from '../../../errors.js';
import { messageId } from './wire.js';

export interface UpstreamServer {
  address: string;
  port: number;
}

/** glibc uses at most three nameservers; so does the agent. */
const MAX_SERVERS = 3;
const DEFAULT_TIMEOUT_MS = 2000;
const MAX_TCP_MESSAGE = 65_535;

/** "10.0.0.10", "10.0.0.10:5353", "[fd00::a]:53", "fd00::a" → a server; undefined when it is not one. */
export function parseServer(text: string): UpstreamServer | undefined {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const [address, port] = bracket ? [bracket[1]!, bracket[2]] : isIP(text) ? [text, undefined] : text.split(':') as [string, string | undefined];
  const n = port === undefined ? 53 : Number(port);
  if (isIP(address) === 0 || !Number.isInteger(n) || n < 1 || n > 65_535) return undefined;
  return { address, port: n };
}

export class Upstream {
  readonly servers: readonly UpstreamServer[];
  readonly #timeoutMs: number;

  constructor(servers: readonly UpstreamServer[], timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.servers = servers.slice(0, MAX_SERVERS);
    this.#timeoutMs = timeoutMs;
  }

  /** The first answer any server gives; DNS_UPSTREAM_FAILED (each server's failure in the message) when none does. */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    if (this.servers.length === 0) throw new TrellisError('DNS_UPSTREAM_FAILED', 'no upstream nameserver (resolv.conf lists none)');
    const failures: string[] = [];
    let last: unknown;
    for (const s of this.servers) {
      try {
        return await (transport === 'udp' ? this.#udp(query, s) : this.#tcp(query, s));
      } catch (err) {
        last = err;
        failures.push(`${s.address}:${s.port}: ${errorMessage(err)}`);
      }
    }
    throw new TrellisError('DNS_UPSTREAM_FAILED', `no upstream nameserver answered (${failures.join('; ')})`, { cause: last });
  }

  #udp(query: Buffer, s: UpstreamServer): Promise<Buffer> {
    const id = messageId(query);
    return new Promise((resolve, reject) => {
      const sock = createSocket(isIPv6(s.address) ? 'udp6' : 'udp4');
      let settled = false;
      const done = (err: Error | undefined, answer?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => done(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('message', (msg, rinfo) => {
        // Anything but the server's answer to this query is ignored (a late or spoofed packet).
        if (rinfo.address === s.address && rinfo.port === s.port && messageId(msg) === id) done(undefined, msg);
      });
      sock.send(query, s.port, s.address, (err) => {
        if (err) done(err);
      });
    });
  }

  #tcp(query: Buffer, s: UpstreamServer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: s.address, port: s.port });
      let buf = Buffer.alloc(0);
      let settled = false;
      const done = (err: Error | undefined, answer?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => done(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('close', () => done(new Error('connection closed before the answer')));
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        const len = buf.readUInt16BE(0);
        if (buf.length >= 2 + len) done(undefined, buf.subarray(2, 2 + len));
      });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(Math.min(query.length, MAX_TCP_MESSAGE));
      sock.write(Buffer.concat([len, query]));
    });
  }
}
