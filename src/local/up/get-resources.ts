/** `trellis get pods|services`: the running mesh's objects as kubectl prints them (table, wide, or a JSON List). */
import { TrellisError } from '../../errors.js';
import { alignTable, podHeader, podRow, serviceHeader, serviceRow } from './kube-table.js';
import { findRunningMesh, readPods, readServices } from './running-mesh.js';

export interface GetOptions {
  /** undefined: all namespaces. */
  namespace: string | undefined;
  output: string | undefined;
}

const KINDS: Record<string, 'pods' | 'services'> = { pods: 'pods', pod: 'pods', po: 'pods', services: 'services', service: 'services', svc: 'services' };

export function getResources(kindArg: string, o: GetOptions): string {
  const kind = KINDS[kindArg.toLowerCase()];
  if (!kind) throw new TrellisError('CLI_USAGE', `unknown resource type ${JSON.stringify(kindArg)}: pods or services`);
  if (o.output !== undefined && o.output !== 'wide' && o.output !== 'json') throw new TrellisError('CLI_USAGE', `-o ${o.output}: wide or json`);
  const mesh = findRunningMesh();
  const now = Date.now();
  const nsOf = (x: { metadata: Record<string, unknown> | { namespace?: string } }) => String((x.metadata as { namespace?: string }).namespace ?? 'default');
  const name = (x: { metadata: Record<string, unknown> | { name?: string } }) => String((x.metadata as { name?: string }).name);
  const order = (a: { metadata: object }, b: { metadata: object }) => `${nsOf(a as never)}/${name(a as never)}`.localeCompare(`${nsOf(b as never)}/${name(b as never)}`);
  const items = (kind === 'pods' ? readPods(mesh) : readServices(mesh)).filter((x) => o.namespace === undefined || nsOf(x as never) === o.namespace).sort(order);
  if (o.output === 'json') return JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4) + '\n';
  if (items.length === 0) return '';

  const wide = o.output === 'wide';
  const all = o.namespace === undefined;
  const header = kind === 'pods' ? podHeader(wide) : serviceHeader(wide);
  const rows = items.map((x) => {
    const row = kind === 'pods' ? podRow(x as never, now, wide) : serviceRow(x as never, now, wide);
    return all ? [nsOf(x as never), ...row] : row;
  });
  return alignTable([all ? ['NAMESPACE', ...header] : header, ...rows]);
}
