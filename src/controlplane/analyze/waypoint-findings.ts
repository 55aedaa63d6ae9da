/**
 * istio.io/use-waypoint labels that do not simply bind (translate/ambient/
 * waypoints.ts), on the object carrying the label: a waypoint that does not
 * exist (IST0101) or is not ready — both fail closed: the reference is sent
 * and the node proxy refuses the traffic — and one that refuses the
 * attachment or that kind of traffic (no waypoint is used).
 */
import type { AnyObject } from '../../config/objects.js';
import type { MeshModel } from '../registry/model.js';
import { ambientView } from '../translate/ambient/ambient-view.js';
import { USE_WAYPOINT } from '../translate/ambient/waypoints.js';
import type { Finding } from './finding.js';
import { WaypointNotBound, referencedResourceNotFound } from './messages.js';

const refused = '; its traffic is refused (the node proxy fails closed) until the waypoint is ready';

export function waypointFindings(model: MeshModel, objects: readonly AnyObject[]): { object: AnyObject; finding: Finding }[] {
  const problems = ambientView(model).waypointProblems;
  if (problems.length === 0) return [];
  const byKey = new Map(objects.map((o) => [`${o.kind}/${o.kind === 'Namespace' ? '' : o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o]));
  const out: { object: AnyObject; finding: Finding }[] = [];
  for (const { object: ref, problem } of problems) {
    const object = byKey.get(`${ref.kind}/${ref.namespace ?? ''}/${ref.name}`);
    if (!object) continue;
    const path = ['metadata', 'labels', USE_WAYPOINT];
    if (problem.reason === 'WaypointNotFound') {
      const nf = referencedResourceNotFound('waypoint', problem.waypoint);
      out.push({ object, finding: { type: nf.type, path, message: `${nf.message} (${problem.message})${refused}` } });
    } else if (problem.reason === 'WaypointIsNotReady') {
      out.push({ object, finding: { type: WaypointNotBound, path, message: `${problem.reason}: ${problem.message}${refused}` } });
    } else {
      out.push({ object, finding: { type: { ...WaypointNotBound, severity: 'Warning' }, path, message: `${problem.reason}: ${problem.message}; its traffic goes through no waypoint` } });
    }
  }
  return out;
}
