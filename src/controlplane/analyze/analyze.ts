/**
 * Analysis of the accepted configuration as a whole: what validating one
 * document at a time cannot see, i.e. references from one object to another
 * (istioctl analyze's job). Pure: the accepted objects and the model built
 * from them in, problems out — each at the line of the offending field, in
 * Istio's code and wording (and what Trellis does not implement, as
 * CONFIG_UNSUPPORTED).
 */
import type { AnyObject, AuthorizationPolicy, DestinationRule, RequestAuthentication, VirtualService } from '../../config/objects.js';
import { fieldLine } from '../../config/field-lines.js';
import { formatPath } from '../../config/validate/walk.js';
import type { MeshModel } from '../registry/model.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import { destinationHostFindings } from './destination-hosts.js';
import { destinationSubsetFindings } from './destination-subsets.js';
import { RuleSubsets } from './rule-subsets.js';
import { ServiceHosts } from './service-hosts.js';
import type { Finding } from './finding.js';
import { securityFindings } from './security-findings.js';
import { gatewaySecretFindings } from './gateway-secrets.js';
import { unsupportedFieldFindings } from './unsupported-fields.js';
import { gatewayApiMessages } from './gateway-api-findings.js';
import { ambientFindings } from './ambient-findings.js';
import { waypointFindings } from './waypoint-findings.js';
import { attachedToWaypoint } from '../translate/waypoint/served.js';

/** A finding placed: the object it is about, and where in which file. */
export interface AnalysisMessage extends Finding {
  readonly object: AnyObject;
  readonly file: string;
  readonly line: number;
}

export function placed(o: AnyObject, f: Finding): AnalysisMessage {
  return { ...f, object: o, file: o.origin?.file ?? '', line: fieldLine(o.origin, f.path) };
}

/** IST0101 for VirtualService destinations (hosts, ports, subsets) and gateways' credentialName Secrets; fields and AuthorizationPolicy / RequestAuthentication features that Trellis does not implement; what ambient workloads' L4 policies leave out. */
export function referenceFindings(objects: Iterable<AnyObject>, model: MeshModel): AnalysisMessage[] {
  const rules: DestinationRule[] = [];
  const virtualServices: VirtualService[] = [];
  const authz: (AuthorizationPolicy | RequestAuthentication)[] = [];
  const out: AnalysisMessage[] = [];
  const accepted = [...objects];
  for (const o of accepted) {
    for (const f of unsupportedFieldFindings(o)) out.push(placed(o, f));
    if (o.kind === 'DestinationRule') rules.push(o);
    else if (o.kind === 'VirtualService') virtualServices.push(o);
    else if (o.kind === 'AuthorizationPolicy' || o.kind === 'RequestAuthentication') authz.push(o);
  }
  const hosts = new ServiceHosts(model.services, model.domainSuffix);
  const subsets = new RuleSubsets(rules, model.domainSuffix);
  for (const vs of virtualServices) {
    for (const f of destinationHostFindings(vs, hosts)) out.push(placed(vs, f));
    for (const f of destinationSubsetFindings(vs, subsets, hosts)) out.push(placed(vs, f));
  }
  const waypoint = (p: AuthorizationPolicy) => attachedToWaypoint(model, p);
  for (const p of authz) for (const f of securityFindings(p, waypoint)) out.push(placed(p, f));
  for (const m of gatewayApiMessages(model)) out.push(placed(m.object, m.finding));
  for (const m of ambientFindings(model)) out.push(placed(m.object, m.finding));
  for (const m of waypointFindings(model, accepted)) out.push(placed(m.object, m.finding));
  for (const { gateway, finding } of gatewaySecretFindings(accepted)) out.push(placed(gateway, finding));
  return out;
}

export function analyzeConfig(objects: Iterable<AnyObject>, model: MeshModel): ConfigProblem[] {
  return referenceFindings(objects, model).map(problemOf).sort(byPlace);
}

/** "VirtualService ns/name: spec.http[0].route[0].destination.host: Referenced host not found: "x"", as validation words its problems. */
export function problemOf(m: AnalysisMessage): ConfigProblem {
  const o = m.object;
  const ns = o.metadata.namespace === undefined ? '' : `${o.metadata.namespace}/`;
  return {
    code: m.type.code,
    name: m.type.name,
    severity: m.type.severity,
    file: m.file,
    line: m.line,
    // A finding about a whole document (a kind Trellis never applies) names no field.
    reason: `${o.kind} ${ns}${o.metadata.name}: ${m.path.length > 0 ? `${formatPath(m.path)}: ` : ''}${m.message}`,
  };
}

/** By file, then line (the order of every other problem list). */
export function byPlace(a: { file: string; line: number }, b: { file: string; line: number }): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
}
