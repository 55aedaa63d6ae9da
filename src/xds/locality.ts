/**
 * Localities as Istio spells them: "region/zone/subzone" in the registry and
 * in DestinationRules, Istio's `istio-locality` label ("region.zone.subzone")
 * or the Kubernetes topology labels on pods and proxies. Shared by the
 * control plane (endpoints, the proxy's own locality) and the proxy (the
 * Node.locality it announces).
 */
export const RegionLabel = 'topology.kubernetes.io/region';
export const ZoneLabel = 'topology.kubernetes.io/zone';
export const SubzoneLabel = 'topology.istio.io/subzone';
export const LocalityLabel = 'istio-locality';

export interface LocalityParts {
  region: string;
  zone: string;
  subZone: string;
}

/** "region/zone/subzone" from Istio's istio-locality label ("r.z.s") or topology labels. */
export function localityFromLabels(labels: Readonly<Record<string, string>>): string | undefined {
  const l = labels[LocalityLabel];
  if (l) return l.split('.').join('/');
  const region = labels[RegionLabel];
  const zone = labels[ZoneLabel];
  const sub = labels[SubzoneLabel];
  if (!region && !zone && !sub) return undefined;
  return [region ?? '', zone ?? '', sub ?? ''].join('/');
}

/** istiod's SplitLocalityLabel: missing parts are empty. */
export function splitLocality(text: string | undefined): LocalityParts {
  const [region = '', zone = '', subZone = ''] = (text ?? '').split('/');
  return { region, zone, subZone };
}
