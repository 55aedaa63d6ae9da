/** Pods as network namespaces: the one-machine cluster used by `trellis up` and the tests. */
export { NetnsCluster, type ClusterOptions, type Pod, type ServicePort } from './cluster.js';
export { spawnInPod, runInPod, podCommand, type PodProcessOptions } from './exec.js';
export { removeStale, listOurNamespaces, runAlive } from './stale.js';
export { NETNS_PREFIX, newRunId, namespaceName } from './names.js';
export { connectIn, httpIn, tcpOpenIn, type HttpReply } from './connect.js';
export { renderServiceRules, type ServiceRule, type ServiceBackend } from './service-rules.js';
