/**
 * A small cluster inside one machine, like a kind node without containers:
 * a "node" network namespace with a bridge and no route anywhere else, and
 * one namespace per pod attached to it by a veth pair. Pods have /32
 * addresses and route the pod and service ranges via the bridge, so all
 * pod-to-pod traffic crosses the node's IP layer (where services are
 * DNAT-ed, as kube-proxy would) and keeps its source address.
 *
 * Ownership: the NetnsCluster owns everything it creates and removes it in
 * teardown(); nothing outside the namespaces it created is touched, and no
 * route leads out of them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { TrellisError } from '../../errors.js';
import { logger } from '../../log.js';
import { checkPodName, ifName, namespaceName, newRunId } from './names.js';
import { sh } from './sh.js';
import { run } from '../../iptables/exec.js';
import { renderServiceRules, type ServiceRule } from './service-rules.js';
import { deleteNamespace, removeRunMarker, removeStale, writeRunMarker } from './stale.js';

const log = logger('netns');

export interface ClusterOptions {
  /** Default: a random 6-hex-character id. */
  runId?: string;
  /** The pod range, a /24: the node takes .1, pods .10 onwards. Default 10.244.0.0/24. */
  podCidr?: string;
  /** Service cluster IPs, routed from pods to the node. Default 10.96.0.0/16. */
  serviceCidr?: string;
  /** Remove namespaces of crashed runs first (default true). */
  removeStale?: boolean;
}

export interface Pod {
  name: string;
  /** The network namespace, for `ip netns exec`. */
  netns: string;
  ip: string;
}

export interface ServicePort {
  clusterIp: string;
  port: number;
  /** Where the node sends the service's connections (one backend, as a kube-proxy rule would). */
  target: { ip: string; port: number };
}

export class NetnsCluster {
  readonly runId: string;
  readonly nodeNetns: string;
  readonly gateway: string;
  readonly serviceCidr: string;
  readonly #prefix: string;
  readonly #pods = new Map<string, Pod>();
  #created: string[] = [];
  #nextHost = 10;
  /** Host numbers of removed pods, handed out again before new ones (a /24 has 245 pod addresses). */
  readonly #freeHosts: number[] = [];

  private constructor(runId: string, podCidr: string, serviceCidr: string) {
    const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(podCidr);
    if (!m) throw new TrellisError('CONFIG_INVALID', `podCidr ${podCidr}: expected a /24 like 10.244.0.0/24`);
    this.runId = runId;
    this.#prefix = m[1] as string;
    this.gateway = `${this.#prefix}.1`;
    this.serviceCidr = serviceCidr;
    this.nodeNetns = namespaceName(runId, 'node');
  }

  /** Creates the node namespace and its bridge. Needs root. */
  static async create(opts: ClusterOptions = {}): Promise<NetnsCluster> {
    if (opts.removeStale !== false) await removeStale();
    const c = new NetnsCluster(opts.runId ?? newRunId(), opts.podCidr ?? '10.244.0.0/24', opts.serviceCidr ?? '10.96.0.0/16');
    writeRunMarker(c.runId);
    try {
      await c.#setupNode();
    } catch (err) {
      await c.teardown();
      throw err;
    }
    return c;
  }

  async #setupNode(): Promise<void> {
    const ns = this.nodeNetns;
    await sh('ip', 'netns', 'add', ns);
    this.#created.push(ns);
    await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    await sh('ip', '-n', ns, 'link', 'add', ifName('br0'), 'type', 'bridge');
    await sh('ip', '-n', ns, 'addr', 'add', `${this.gateway}/24`, 'dev', 'br0');
    await sh('ip', '-n', ns, 'link', 'set', 'br0', 'up');
    // The node routes between pods (all pod traffic comes via the gateway); it has no uplink.
    // Written through /proc (per network namespace) rather than sysctl(8), which minimal images lack.
    const sysctls = ['ip_forward=1', 'conf/all/send_redirects=0', 'conf/br0/send_redirects=0']
      .map((kv) => kv.split('='))
      .map(([k, v]) => `echo ${v} > /proc/sys/net/ipv4/${k}`);
    await sh('ip', 'netns', 'exec', ns, 'sh', '-c', sysctls.join(' && '));
  }

  pods(): Pod[] {
    return [...this.#pods.values()];
  }

  pod(name: string): Pod {
    const p = this.#pods.get(name);
    if (!p) throw new TrellisError('CONFIG_INVALID', `no pod ${name} in run ${this.runId}`);
    return p;
  }

  /** Adds a pod namespace with eth0 (a /32 from the pod range) and routes to pods and services via the node. */
  async addPod(name: string): Promise<Pod> {
    checkPodName(name);
    if (this.#pods.has(name) || name === 'node') throw new TrellisError('CONFIG_INVALID', `pod ${name} exists`);
    const index = this.#freeHosts.shift() ?? this.#nextHost++;
    if (index > 254) throw new TrellisError('CONFIG_INVALID', 'pod range exhausted');
    const pod: Pod = { name, netns: namespaceName(this.runId, name), ip: `${this.#prefix}.${index}` };
    const veth = ifName(`vp${index}`);
    await sh('ip', 'netns', 'add', pod.netns);
    this.#created.push(pod.netns);
    this.#pods.set(name, pod);
    // One `ip -batch` per namespace instead of a process per command: pods are created many at a time.
    await batch(this.nodeNetns, [
      `link add ${veth} type veth peer name eth0 netns ${pod.netns}`,
      `link set ${veth} master br0 up`,
    ]);
    await batch(pod.netns, [
      'link set lo up',
      `addr add ${pod.ip}/32 dev eth0`,
      'link set eth0 up',
      `route add ${this.gateway} dev eth0 scope link`,
      `route add ${this.#prefix}.0/24 via ${this.gateway} dev eth0`,
      `route add ${this.serviceCidr} via ${this.gateway} dev eth0`,
    ]);
    this.writeHosts(name, {});
    log.debug('pod added', { pod: name, netns: pod.netns, ip: pod.ip });
    return pod;
  }

  /**
   * /etc/netns/<ns>/hosts, which `ip netns exec` shows as /etc/hosts inside
   * the pod: localhost, the pod's own name, and the given name → IP entries.
   */
  writeHosts(podName: string, entries: Record<string, string>): void {
    const pod = this.pod(podName);
    const dir = `/etc/netns/${pod.netns}`;
    mkdirSync(dir, { recursive: true });
    const lines = ['127.0.0.1 localhost', '::1 localhost', `${pod.ip} ${pod.name}`];
    for (const [host, ip] of Object.entries(entries).sort(([a], [b]) => a.localeCompare(b))) lines.push(`${ip} ${host}`);
    writeFileSync(`${dir}/hosts`, lines.join('\n') + '\n');
  }

  /**
   * /etc/netns/<ns>/resolv.conf, which `ip netns exec` shows as
   * /etc/resolv.conf inside the pod (as the kubelet writes a pod's): its
   * nameservers and search list.
   */
  writeResolvConf(podName: string, conf: { nameservers: readonly string[]; search: readonly string[] }): void {
    const pod = this.pod(podName);
    const dir = `/etc/netns/${pod.netns}`;
    mkdirSync(dir, { recursive: true });
    const lines = [...conf.nameservers.map((n) => `nameserver ${n}`), ...(conf.search.length > 0 ? [`search ${conf.search.join(' ')}`] : []), 'options ndots:5'];
    writeFileSync(`${dir}/resolv.conf`, lines.join('\n') + '\n');
  }

  /**
   * Removes a pod's namespace (its processes are killed first; its veth
   * goes with it) and frees its address. Unknown names are ignored.
   */
  async removePod(name: string): Promise<void> {
    const pod = this.#pods.get(name);
    if (!pod) return;
    this.#pods.delete(name);
    await deleteNamespace(pod.netns);
    this.#created = this.#created.filter((n) => n !== pod.netns);
    this.#freeHosts.push(Number(pod.ip.split('.')[3]));
  }

  /**
   * Replaces the node's service rules (kube-proxy's part) with these: each
   * service port balanced over its backends per connection. Atomic: the
   * node's nat table is rewritten in one iptables-restore.
   */
  async setServices(rules: readonly ServiceRule[]): Promise<void> {
    const r = await run('ip', ['netns', 'exec', this.nodeNetns, 'iptables-restore'], renderServiceRules(rules));
    if (r.code !== 0) throw new TrellisError('IO', `service rules in ${this.nodeNetns}: iptables-restore exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }

  /** Routes a service port on the node to one backend (a DNAT in the node namespace's own nat table). */
  async addService(svc: ServicePort): Promise<void> {
    await sh('ip', 'netns', 'exec', this.nodeNetns, 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', `${svc.clusterIp}/32`, '-p', 'tcp',
      '--dport', String(svc.port), '-j', 'DNAT', '--to-destination', `${svc.target.ip}:${svc.target.port}`);
  }

  /**
   * Tears the cluster down on SIGINT/SIGTERM, then exits (130/143). Returns
   * a function that removes the handlers (call it after a normal teardown).
   */
  teardownOnSignals(): () => void {
    const handler = (signal: NodeJS.Signals) => {
      void this.teardown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  }

  /** Removes every namespace, veth, /etc/netns entry and marker this run created. Safe to call twice. */
  async teardown(): Promise<void> {
    const created = this.#created.reverse();
    this.#created = [];
    for (const ns of created) await deleteNamespace(ns);
    removeRunMarker(this.runId);
    this.#pods.clear();
  }
}

/** Runs `ip -n NS -batch -` with these commands (each line as `ip` would take it, without "ip"). */
async function batch(netns: string, commands: readonly string[]): Promise<void> {
  const r = await run('ip', ['-n', netns, '-batch', '-'], commands.join('\n') + '\n');
  if (r.code !== 0) throw new TrellisError('IO', `ip -n ${netns} -batch: exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
}
