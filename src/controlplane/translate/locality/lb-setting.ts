/**
 * Which locality load balancing applies to a cluster: istiod's
 * GetEffectiveLbSetting (loadbalancer.go) with Trellis's mesh defaults, and
 * its CDS half (ApplyToCluster). Trellis has no MeshConfig: the mesh-wide
 * setting is Istio's default `localityLbSetting: {enabled: true}`, so a
 * DestinationRule with outlierDetection turns locality failover on by itself,
 * as it does under istiod.
 */
import { create } from '@bufbuild/protobuf';
import type { LocalityLbSetting } from '../../../config/objects.js';
import { Cluster_CommonLbConfigSchema, Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema, type Cluster } from '../../../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { PolicyParts } from '../destination-rule.js';

/** Locality load balancing for one cluster; absent when its endpoints do not depend on who asks. */
export interface LocalityLb {
  readonly setting: LocalityLbSetting;
  /** Outlier detection is configured: without it Envoy never leaves priority 0, so istiod assigns none. */
  readonly failover: boolean;
  /** Label names of failoverPriority ("name=value" keeps its name): what of the proxy's labels the answer depends on. */
  readonly priorityLabels: readonly string[];
}

const meshDefault: LocalityLbSetting = { enabled: true };

const some = (list: readonly unknown[] | undefined): boolean => list !== undefined && list.length > 0;

/** The DestinationRule's setting, else the mesh's; undefined when disabled (istiod's nil). */
export function effectiveSetting(policy: PolicyParts): LocalityLbSetting | undefined {
  const s = policy.loadBalancer?.localityLbSetting ?? meshDefault;
  return s.enabled === false ? undefined : s;
}

/**
 * What EDS must do per proxy: `distribute` always reweights; failover
 * (priorities by locality, or by failoverPriority labels) only with outlier
 * detection. Undefined when neither applies: the ClusterLoadAssignment is
 * the same for every proxy and stays shared.
 */
export function localityLb(policy: PolicyParts): LocalityLb | undefined {
  const setting = effectiveSetting(policy);
  if (!setting) return undefined;
  const failover = policy.outlierDetection !== undefined;
  if (!some(setting.distribute) && !failover) return undefined;
  // istiod's FailoverPriorityLabels: only without distribute.
  const priorityLabels = !some(setting.distribute) && failover ? (setting.failoverPriority ?? []).map((l) => l.split('=')[0]!) : [];
  return { setting, failover, priorityLabels };
}

/**
 * istiod's LocalityLBSettings.ApplyToCluster: locality_weighted_lb_config
 * when the rule distributes, or fails over with explicit failover or
 * failoverPriority and outlier detection (the outlier detection must be on
 * the cluster already). Nothing for the mesh default: it would change how
 * least-request and others balance.
 */
export function applyLocalityWeightedConfig(c: Cluster, policy: PolicyParts): void {
  const s = effectiveSetting(policy);
  if (!s) return;
  const failover = c.outlierDetection !== undefined;
  if (!some(s.distribute) && !(failover && (some(s.failover) || some(s.failoverPriority)))) return;
  c.commonLbConfig ??= create(Cluster_CommonLbConfigSchema, {});
  c.commonLbConfig.localityConfigSpecifier = { case: 'localityWeightedLbConfig', value: create(Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema, {}) };
}
