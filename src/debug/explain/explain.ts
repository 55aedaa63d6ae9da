/**
 * `explainRequest`: the I/O around the pure walk — the source proxy's
 * /config_dump?include_eds and /clusters, then, once the walk knows the
 * endpoint, the config of the proxy of the pod at that address (from the
 * mesh locator) or the one given with `toAdmin`. The dashboard calls this.
 */
import { TrellisError } from '../../errors.js';
import { requestJson, type RequestOptions } from '../http.js';
import { findPod, podKey, type MeshLocator, type PodRef } from '../locator.js';
import { parseConfigDump } from '../proxy-config/dump.js';
import type { ClustersJson } from '../proxy-config/endpoints-table.js';
import { finishWalk, walkOutbound } from './explain-walk.js';
import type { Explanation, ProxySnapshot, RequestSpec } from './types.js';

export interface ExplainInput extends RequestSpec {
  /** The source pod (POD, POD.NS, deploy/NAME), found by `mesh`. */
  from?: string;
  /** Or the source proxy's admin address. */
  fromAdmin?: string;
  /** The destination proxy's admin address, when no locator knows the pod at the endpoint. */
  toAdmin?: string;
  namespace?: string;
  mesh?: () => Promise<MeshLocator>;
}

interface Target {
  label: string;
  admin: string;
  netns?: string;
  ip?: string;
}

export async function explainRequest(input: ExplainInput): Promise<Explanation> {
  let pods: readonly PodRef[] | undefined;
  const mesh = input.mesh;
  const podsOf = async () => (pods ??= mesh ? await (await mesh()).pods() : []);
  let source: Target;
  if (input.fromAdmin !== undefined) source = { label: input.from ?? input.fromAdmin, admin: input.fromAdmin };
  else {
    if (input.from === undefined || !mesh) throw new TrellisError('CLI_USAGE', 'name the source: --from POD (of a running mesh) or --from-admin HOST:PORT');
    const m = await mesh();
    source = targetOf(findPod(await podsOf(), input.from, m.source, input.namespace));
  }
  if (source.ip === undefined && input.fromAdmin !== undefined && mesh) {
    source.ip = (await podsOf().catch(() => [])).find((p) => p.admin === input.fromAdmin && p.netns === undefined)?.ip;
  }
  const outbound = walkOutbound(input, await snapshot(source));
  const ep = outbound.upstream?.endpoint;
  let destination: ProxySnapshot | undefined;
  if (ep) {
    const to = input.toAdmin !== undefined ? { label: input.toAdmin, admin: input.toAdmin, ip: ep.address }
      : await podAt(podsOf, ep.address).catch(() => undefined);
    if (to) destination = await snapshot(to);
  }
  return finishWalk(outbound, destination);
}

function targetOf(p: PodRef): Target {
  if (p.admin === undefined) throw new TrellisError('ADMIN_UNKNOWN', `${podKey(p)} has no sidecar whose admin address is known: pass --from-admin HOST:PORT`);
  return { label: podKey(p), admin: p.admin, ...(p.netns ? { netns: p.netns } : {}), ...(p.ip ? { ip: p.ip } : {}) };
}

async function podAt(pods: () => Promise<readonly PodRef[]>, ip: string): Promise<Target | undefined> {
  const p = (await pods()).find((x) => x.ip === ip && x.admin !== undefined);
  return p ? targetOf(p) : undefined;
}

async function snapshot(t: Target): Promise<ProxySnapshot> {
  const opts: RequestOptions = { what: `the proxy admin API of ${t.label}`, ...(t.netns ? { netns: t.netns } : {}) };
  const [dump, clusters] = await Promise.all([
    requestJson<unknown>(t.admin, '/config_dump?include_eds', opts),
    requestJson<ClustersJson>(t.admin, '/clusters?format=json', opts),
  ]);
  return { label: t.label, podIp: t.ip, dump: parseConfigDump(dump), clusters };
}
