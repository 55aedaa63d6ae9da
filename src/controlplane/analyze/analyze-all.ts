/**
 * Every analyzer `trellis analyze` runs: the control plane's reference checks
 * (IST0101) plus the ones only worth running on demand — VirtualServices
 * shadowing each other (IST0109), ports without a protocol (IST0118,
 * IST0150), conflicting PeerAuthentications (TRL0001, TRL0002). Pure.
 */
import type { AnyObject, PeerAuthentication, Pod, Service, VirtualService } from '../../config/objects.js';
import type { MeshModel } from '../registry/model.js';
import { byPlace, placed, referenceFindings, type AnalysisMessage } from './analyze.js';
import { meshGatewayHostFindings } from './mesh-gateway-hosts.js';
import { peerAuthenticationFindings } from './peer-authentications.js';
import { portNameFindings } from './port-names.js';

/**
 * Kubernetes' own namespaces, which istioctl analyze leaves out of what it
 * reads (the injector's IgnoredNamespaces): nothing of the mesh lives there.
 */
const IGNORED_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export function isAnalyzed(o: AnyObject): boolean {
  return !IGNORED_NAMESPACES.has(o.kind === 'Namespace' ? o.metadata.name : (o.metadata.namespace ?? 'default'));
}

/** `objects` should be those isAnalyzed() keeps (the model too is built from those). */
export function analyzeAll(objects: readonly AnyObject[], model: MeshModel): AnalysisMessage[] {
  const out = referenceFindings(objects, model);
  const of = <K extends AnyObject['kind']>(kind: K) => objects.filter((o) => o.kind === kind);
  for (const s of of('Service') as Service[]) for (const f of portNameFindings(s)) out.push(placed(s, f));
  for (const { vs, finding } of meshGatewayHostFindings(of('VirtualService') as VirtualService[], model.domainSuffix)) out.push(placed(vs, finding));
  for (const { policy, finding } of peerAuthenticationFindings(of('PeerAuthentication') as PeerAuthentication[], of('Pod') as Pod[], model.rootNamespace)) out.push(placed(policy, finding));
  return out.sort((a, b) => byPlace(a, b) || a.type.code.localeCompare(b.type.code));
}
