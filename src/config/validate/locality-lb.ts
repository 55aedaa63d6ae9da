/**
 * DestinationRule localityLbSetting beyond its types: istiod's
 * ValidateLocalityLbSetting, so a setting istiod would reject is a config
 * problem here too instead of an odd traffic split.
 */
import { arr, bool, int, map, obj, str, strings, type Issue } from './schema.js';
import { isPlainObject } from './walk.js';

const topologyLabels = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

/** "region[/zone[/subzone]]", each part non-empty, at most one '*' and only as the last character. */
function localityProblem(locality: string): string | undefined {
  const stars = locality.split('*').length - 1;
  if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) return `locality ${JSON.stringify(locality)}: at most one wildcard '*', at the end`;
  const parts = locality.split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) return `locality ${JSON.stringify(locality)} must not contain empty region/zone/subzone info`;
  return undefined;
}

/** The check runs on values the type walk may have refused: anything not shaped right counts as absent. */
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const record = (x: unknown): Record<string, unknown> => (isPlainObject(x) ? x : {});

function check(v: Record<string, unknown>): Issue[] {
  const distribute = list(v['distribute']).map(record) as { from?: unknown; to?: unknown }[];
  const failover = list(v['failover']).map(record) as { from?: unknown; to?: unknown }[];
  const priority = list(v['failoverPriority']);
  if (distribute.length > 0 && failover.length > 0) return [{ path: ['failover'], message: 'can not simultaneously specify \'distribute\' and \'failover\'' }];
  const issues: Issue[] = [];
  if (failover.length > 0) {
    priority.forEach((l, i) => {
      if (typeof l === 'string' && topologyLabels.has(l)) issues.push({ path: ['failoverPriority', i], message: `can not simultaneously set 'failover' and topology label '${l}' in 'failoverPriority'` });
    });
  }
  distribute.forEach((d, i) => {
    if (typeof d.from === 'string') {
      const p = localityProblem(d.from);
      if (p) issues.push({ path: ['distribute', i, 'from'], message: p });
    }
    const to = Object.entries(record(d.to));
    for (const [loc, w] of to) {
      const p = localityProblem(loc);
      if (p) issues.push({ path: ['distribute', i, 'to', loc], message: p });
      if (typeof w === 'number' && w < 1) issues.push({ path: ['distribute', i, 'to', loc], message: 'locality weight must be in range [1, 100]' });
    }
    const total = to.reduce((sum, [, w]) => sum + (typeof w === 'number' ? w : 0), 0);
    if (to.length > 0 && total !== 100) issues.push({ path: ['distribute', i, 'to'], message: `total locality weight ${total} != 100` });
  });
  failover.forEach((f, i) => {
    const from = typeof f.from === 'string' ? f.from : '';
    const to = typeof f.to === 'string' ? f.to : '';
    if (from === to) issues.push({ path: ['failover', i], message: 'locality lb failover settings must specify different regions' });
    if (from.includes('/') || to.includes('/')) issues.push({ path: ['failover', i], message: 'locality lb failover only specify region' });
    if (from.includes('*') || to.includes('*')) issues.push({ path: ['failover', i], message: 'locality lb failover region should not contain \'*\' wildcard' });
  });
  return issues;
}

export const localityLbSetting = obj(
  {
    distribute: arr(obj({ from: str(), to: map(int(0, 100)) })),
    failover: arr(obj({ from: str(), to: str() })),
    failoverPriority: strings(),
    enabled: bool(),
  },
  check,
);
