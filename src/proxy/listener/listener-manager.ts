/**
 * Binds the listeners LDS asks for and dispatches accepted connections:
 * original destination → (use_original_dst hand-off to the listener owning
 * that address) → protocol detection → filter chain → HTTP connection manager
 * or TCP proxy. Updating a listener keeps its socket and open connections;
 * a removed listener stops accepting and its connections drain. Internal
 * listeners (Listener.internal_listener) bind nothing: connectInternal()
 * hands them in-process connections from cluster endpoints that name them.
 */
import net, { type Socket } from 'node:net';
import type { SecretStore } from '../tls/secret-store.js';
import type { TlsPlan } from '../tls/tls-plan.js';
import { logger } from '../../log.js';
import { ConnectionManager, type HttpDeps } from '../codec/connection-manager.js';
import type { ConnContext } from './conn-context.js';
import type { HcmPlan } from '../codec/hcm-plan.js';
import { deniedTcp, proxyTcp, type TcpDeps } from '../tcp/tcp-proxy.js';
import { decide } from '../filters/rbac/rbac-filter.js';
import { networkInput } from '../filters/rbac/rbac-input.js';
import { addressIndex, chainFor, handOff, type AddressIndex } from './dispatch.js';
import { detect, type Detected } from './detect.js';
import type { ChainPlan, ListenerPlan } from './listener-plan.js';
import { captureUnavailable, normalize, originalDestination, type Destination } from './original-dst.js';
import { terminateTls } from './terminate-tls.js';
import type { InternalHandoff } from '../internal/filter-state.js';
import { applySetFilterState } from '../internal/set-filter-state.js';
import { connStateSource } from './internal-conn.js';
import { InternalListeners } from './internal-listeners.js';

const log = logger('listener');
const DETECT_AFTER_TLS_MS = 5_000;
const NO_DETECTION: Detected = { transport: 'raw_buffer', applicationProtocols: [], serverName: '', http: undefined };

interface Bound {
  plan: ListenerPlan;
  /** undefined for an internal listener. */
  server: net.Server | undefined;
  /** Open connections and what they carry (for draining). */
  sockets: Map<Socket, ConnContext>;
  /** The address actually bound (port 0 resolves to a real port). */
  local: Destination | undefined;
  error: string | undefined;
}

export interface ListenerStatus {
  name: string;
  address: string;
  port: number;
  error: string | undefined;
}

export class ListenerManager {
  readonly #bound = new Map<string, Bound>();
  /** Internal listeners: no socket, connections from connectInternal(). */
  readonly #internal = new InternalListeners({
    serve: (plan, socket, conn) => this.#start(plan, socket, conn),
    retire: (l) => this.#retireDrained({ ...l, server: undefined, local: undefined, error: undefined }),
    count: (stat) => this.#tcp.stats.inc(stat),
  });
  /** Retired listeners whose connections are still draining. */
  readonly #draining = new Set<Bound>();
  /** Every listener (bound or not) by "ip:port", for use_original_dst hand-off. */
  #byAddress: AddressIndex = new Map();
  readonly #managers = new WeakMap<HcmPlan, ConnectionManager>();
  readonly #http: HttpDeps;
  readonly #tcp: TcpDeps;
  readonly #drainMs: number;

  readonly #secrets: SecretStore | undefined;

  /** `secrets`: certificates for filter chains that terminate TLS (SDS). */
  constructor(http: HttpDeps, tcp: TcpDeps, drainMs: number, secrets?: SecretStore) {
    this.#http = http;
    this.#tcp = tcp;
    this.#drainMs = drainMs;
    this.#secrets = secrets;
  }

  /**
   * Applies the complete LDS set; resolves when new sockets are bound, with one message per listener that
   * could not be (Envoy NACKs such an update and keeps the listeners that did bind).
   */
  async apply(plans: readonly ListenerPlan[]): Promise<string[]> {
    const next = new Map(plans.map((p) => [p.name, p]));
    // The hand-off target for an address is the listener that owns it, never a use_original_dst listener itself.
    this.#byAddress = addressIndex(plans);
    for (const [name, b] of this.#bound) {
      const p = next.get(name);
      // A listener that failed to bind is retried on the next update.
      if (!p || !p.bindToPort || p.address !== b.plan.address || p.port !== b.plan.port || b.error) this.#retire(name, b);
    }
    this.#internal.apply(plans.filter((p) => p.internal));
    const binds: Promise<string | undefined>[] = [];
    const errors: string[] = [];
    for (const p of plans) {
      if (!p.bindToPort) continue;
      if (p.useOriginalDst && captureUnavailable !== undefined) {
        log.error('refusing capture listener: the original destination (SO_ORIGINAL_DST) is unavailable', { listener: p.name, reason: captureUnavailable });
        errors.push(`LDS ${p.name}: use_original_dst needs SO_ORIGINAL_DST, unavailable: ${captureUnavailable}`);
        continue;
      }
      const b = this.#bound.get(p.name);
      if (b) b.plan = p;
      else binds.push(this.#bind(p));
    }
    this.#drainChangedChains(plans);
    for (const e of await Promise.all(binds)) if (e) errors.push(e);
    return errors;
  }

  /**
   * A new in-process connection to the internal listener `name` (an upstream's envoy_internal_address):
   * the client end, or an Error when there is no such listener (the upstream's connect fails, UF).
   */
  connectInternal(name: string, h: InternalHandoff): Socket | Error {
    return this.#internal.connect(name, h);
  }

  /**
   * Envoy's filter-chain update: connections served by a chain that no longer
   * exists (its config changed or it was removed) are drained, so the new
   * chain — a new AuthorizationPolicy, mTLS mode, route config source —
   * reaches clients that keep their connections open, as sidecars' pools do.
   */
  #drainChangedChains(plans: readonly ListenerPlan[]): void {
    const live = new Set(plans.flatMap((p) => (p.defaultChain ? [...p.chains, p.defaultChain] : p.chains).map((c) => c.key)));
    const changed: Array<[Socket, ConnContext]> = [];
    for (const b of [...this.#bound.values(), ...this.#internal.all()]) {
      for (const e of b.sockets) if (e[1].chainKey !== undefined && !live.has(e[1].chainKey)) changed.push(e);
    }
    this.#drain(changed);
  }

  /**
   * The one drain (a changed filter chain, a removed listener, /drain_listeners, the proxy stopping):
   * each connection takes no new requests — its HTTP codec closes HTTP/1.1 between requests (the
   * response in progress says "connection: close") and sends HTTP/2's GOAWAY, letting open streams
   * finish — and whatever is still open at the drain deadline (TCP proxying too) is closed then.
   */
  #drain(conns: Iterable<[Socket, ConnContext]>, atDeadline?: () => void): void {
    const sockets: Socket[] = [];
    for (const [s, ctx] of conns) {
      if (ctx.draining) continue;
      ctx.draining = true;
      ctx.codec?.drain();
      sockets.push(s);
    }
    if (sockets.length === 0 && !atDeadline) return;
    setTimeout(() => {
      for (const s of sockets) s.destroy();
      atDeadline?.();
    }, this.#drainMs).unref();
  }

  /** Binds one listener; resolves with why it could not, if it could not. */
  #bind(plan: ListenerPlan): Promise<string | undefined> {
    const server = net.createServer({ allowHalfOpen: true });
    const b: Bound = { plan, server, sockets: new Map(), local: undefined, error: undefined };
    this.#bound.set(plan.name, b);
    server.on('connection', (s) => this.#onConnection(b, s));
    return new Promise((resolve) => {
      server.on('error', (err) => {
        if (b.local) {
          log.warn('listener error', { listener: plan.name, error: err.message });
          return;
        }
        b.error = err.message;
        log.error('listener bind failed', { listener: plan.name, address: `${plan.address}:${plan.port}`, error: err.message });
        resolve(`LDS ${plan.name}: cannot bind '${plan.address}:${plan.port}': ${err.message}`);
      });
      server.listen({ host: plan.address, port: plan.port, backlog: 1024 }, () => {
        const a = server.address() as net.AddressInfo;
        b.local = { address: normalize(a.address), port: a.port };
        log.info('listener bound', { listener: plan.name, address: `${a.address}:${a.port}` });
        resolve(undefined);
      });
    });
  }

  /** Stops accepting and drains the listener's connections. */
  #retire(name: string, b: Bound): void {
    this.#bound.delete(name);
    b.server?.close();
    this.#retireDrained(b);
  }

  #retireDrained(b: Bound): void {
    this.#draining.add(b);
    this.#drain(b.sockets, () => this.#draining.delete(b));
  }

  /** Drains every listener, waits for their connections to finish (at most drainMs), then closes the rest. */
  async drainAndClose(): Promise<void> {
    this.drainAll();
    const deadline = Date.now() + this.#drainMs;
    const open = () => [...this.#draining].reduce((n, b) => n + b.sockets.size, 0);
    while (open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const b of this.#draining) for (const s of b.sockets.keys()) s.destroy();
    this.#draining.clear();
  }

  #onConnection(b: Bound, socket: Socket): void {
    socket.setNoDelay(true);
    socket.once('close', () => b.sockets.delete(socket));
    socket.on('error', () => undefined);
    const dst = originalDestination(socket);
    this.#tcp.stats.inc(b.plan.statCx);
    const plan = handOff(this.#byAddress, b.plan, dst);
    const remoteIp = normalize(socket.remoteAddress ?? '');
    const conn: ConnContext = {
      originalDst: dst,
      local: `${dst.address}:${dst.port}`,
      remote: `${remoteIp}:${socket.remotePort ?? 0}`,
      remoteIp,
      inbound: plan.inbound,
      serverName: '',
      draining: false,
      protocol: undefined,
    };
    b.sockets.set(socket, conn);
    this.#start(plan, socket, conn);
  }

  /** Detection when the listener needs the first bytes, then the chain. */
  #start(plan: ListenerPlan, socket: Socket, conn: ConnContext): void {
    if (!plan.needsDetection) return this.#dispatch(plan, socket, NO_DETECTION, conn);
    void detect(socket, plan.detectTimeoutMs).then((d) => {
      if (d && !socket.destroyed) this.#dispatch(plan, socket, d, conn);
      else socket.destroy();
    });
  }

  #dispatch(plan: ListenerPlan, socket: Socket, d: Detected, conn: ConnContext): void {
    const { chain, serverName } = chainFor(plan, {
      dst: conn.originalDst,
      source: { address: conn.remoteIp, port: socket.remotePort ?? 0 },
      detected: d,
    });
    conn.serverName = serverName;
    conn.chainKey = chain?.key;
    const net = chain?.network;
    if (!chain || !net || net.kind === 'none') {
      this.#tcp.stats.inc(`listener.${plan.address}_${plan.port}.no_filter_chain_match`);
      log.debug('no filter chain matched; closing', { listener: plan.name, dst: conn.local, transport: d.transport, alpn: d.applicationProtocols });
      socket.destroy();
      return;
    }
    if (chain.tls) return this.#terminateTls(chain, chain.tls, socket, conn);
    this.#serve(chain, socket, d.http, conn);
  }

  /**
   * Hands a (plaintext or decrypted) connection to the chain's network filters: RBAC first, then the
   * TCP proxy or HTTP connection manager. A connection RBAC denies is closed before anything is read
   * from it or sent upstream.
   */
  #serve(chain: ChainPlan, socket: Socket, http: Detected['http'], conn: ConnContext): void {
    const network = chain.network;
    if (network.kind === 'none') return void socket.destroy();
    if (chain.setState.length > 0) conn.filterState = applySetFilterState(chain.setState, connStateSource(conn), conn.filterState);
    for (const r of chain.rbac) {
      const v = decide(r, networkInput(conn), this.#tcp.stats);
      if (v.allowed) continue;
      if (network.kind === 'tcp') deniedTcp(network.tcp, conn, v.detail);
      socket.destroy();
      return;
    }
    if (network.kind === 'tcp') {
      conn.protocol = 'tcp';
      return proxyTcp(socket, network.tcp, conn, this.#tcp);
    }
    const hcm = network.hcm;
    if (http !== undefined || hcm.codec !== 'auto') return this.#acceptHttp(hcm, socket, http ?? 'h1', conn);
    // Detection ended undecided (its deadline, for a chain chosen without the bytes): Envoy's AUTO codec
    // decides on the first bytes whenever they come, within the time a request head has anyway. Taking
    // HTTP/1.1 here answered a slow HTTP/2 client's preface with a 400 (seen under load as its "Protocol error").
    void detect(socket, hcm.requestHeadersTimeoutMs).then((d) => {
      if (d && !socket.destroyed) this.#acceptHttp(hcm, socket, d.http ?? 'h1', conn);
      else socket.destroy();
    });
  }

  #acceptHttp(hcm: HcmPlan, socket: Socket, proto: 'h1' | 'h2', conn: ConnContext): void {
    let cm = this.#managers.get(hcm);
    if (!cm) this.#managers.set(hcm, (cm = new ConnectionManager(hcm, this.#http)));
    conn.protocol = proto;
    cm.accept(socket, proto, conn);
    // The HTTP/2 session drains what detection unshifted by itself; HTTP/1 needs the stream flowing again.
    if (proto === 'h1' && hcm.codec !== 'http2') socket.resume();
  }

  /** TLS termination, then the decrypted stream goes where a plaintext one would. */
  #terminateTls(chain: ChainPlan, t: TlsPlan, socket: Socket, conn: ConnContext): void {
    terminateTls(socket, t, conn, { secrets: this.#secrets, stats: this.#tcp.stats, chain: chain.name }, (tls) => {
      const network = chain.network;
      if (network.kind !== 'http') return this.#serve(chain, tls, undefined, conn);
      const alpn = tls.alpnProtocol;
      if (alpn === 'h2' || network.hcm.codec === 'http2') return this.#serve(chain, tls, 'h2', conn);
      if (alpn === 'http/1.1' || alpn === 'http/1.0' || network.hcm.codec === 'http1') return this.#serve(chain, tls, 'h1', conn);
      // Istio's ALPN values (istio-peer-exchange, istio) say nothing about HTTP: look at the decrypted bytes.
      void detect(tls, DETECT_AFTER_TLS_MS).then((d) => {
        if (d && !tls.destroyed) this.#serve(chain, tls, d.http ?? 'h1', conn);
        else tls.destroy();
      });
    });
  }

  statuses(): ListenerStatus[] {
    return [...this.#bound.values()].map((b) => ({
      name: b.plan.name,
      address: b.local?.address ?? b.plan.address,
      port: b.local?.port ?? b.plan.port,
      error: b.error,
    }));
  }

  /** Stops accepting on every listener (Envoy's /drain_listeners). */
  drainAll(): void {
    for (const [name, b] of [...this.#bound]) this.#retire(name, b);
    this.#internal.apply([]);
  }

  async close(): Promise<void> {
    const all = [...this.#bound.values()];
    this.#bound.clear();
    for (const b of [...all, ...this.#draining]) {
      b.server?.close();
      for (const s of b.sockets.keys()) s.destroy();
    }
    for (const l of this.#internal.clear()) for (const s of l.sockets.keys()) s.destroy();
    this.#draining.clear();
  }
}
