/**
 * What converting AuthorizationPolicies for ambient workloads left out: the
 * node proxy enforces L4 only, so HTTP attributes are dropped in the
 * stricter direction (translate/ambient/authorization.ts); each policy that
 * applies to an ambient workload and lost some says which and what it means.
 */
import type { AuthorizationPolicy } from '../../config/objects.js';
import type { MeshModel } from '../registry/model.js';
import { ambientView } from '../translate/ambient/ambient-view.js';
import type { Finding } from './finding.js';
import { Unsupported } from './messages.js';

export function ambientFindings(model: MeshModel): { object: AuthorizationPolicy; finding: Finding }[] {
  return ambientView(model).l7Losses.map(({ policy, l7, deny }) => ({
    object: policy,
    finding: {
      type: Unsupported,
      path: ['spec', 'rules'],
      message:
        `the node proxy of ambient workloads enforces L4 attributes only and leaves out ${l7.join(', ')}; ` +
        (deny
          ? 'this DENY policy\'s rules are enforced without them, so it denies more than written'
          : 'this ALLOW policy\'s rules that use them are dropped, so it allows less than written') +
        ' (a waypoint enforces HTTP attributes)',
    },
  }));
}
