/** security.istio.io PeerAuthentication and AuthorizationPolicy. */
import { matchLabelsSelector, policyTargetRef, portKeyedMap, topLevel } from './common.js';
import { arr, enumOf, obj, req, str, strings, type ObjectSchema } from './schema.js';

/** PeerAuthentication mtls.mode values. */
export const mtlsModes = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;
const mtls = () => obj({ mode: enumOf(...mtlsModes) });

const peerAuthenticationSpec = obj(
  { selector: matchLabelsSelector(), mtls: mtls(), portLevelMtls: portKeyedMap(mtls()) },
  (v) =>
    v['portLevelMtls'] != null && v['selector'] == null
      ? [{ path: ['portLevelMtls'], message: 'portLevelMtls requires a workload selector' }]
      : [],
);

const source = obj({
  principals: strings(),
  notPrincipals: strings(),
  requestPrincipals: strings(),
  notRequestPrincipals: strings(),
  namespaces: strings(),
  notNamespaces: strings(),
  ipBlocks: strings(),
  notIpBlocks: strings(),
  remoteIpBlocks: strings(),
  notRemoteIpBlocks: strings(),
  serviceAccounts: strings(),
  notServiceAccounts: strings(),
});

const operation = obj({
  hosts: strings(),
  notHosts: strings(),
  ports: strings(),
  notPorts: strings(),
  methods: strings(),
  notMethods: strings(),
  paths: strings(),
  notPaths: strings(),
});

const rule = obj({
  from: arr(obj({ source: req(source) })),
  to: arr(obj({ operation: req(operation) })),
  when: arr(obj({ key: req(str()), values: strings(), notValues: strings() })),
});

const authorizationPolicySpec = obj(
  {
    selector: matchLabelsSelector(),
    targetRef: policyTargetRef(),
    targetRefs: arr(policyTargetRef()),
    action: enumOf('ALLOW', 'DENY', 'AUDIT', 'CUSTOM'),
    rules: arr(rule),
    provider: obj({ name: req(str()) }),
  },
  (v) => {
    const custom = v['action'] === 'CUSTOM';
    if (custom && v['provider'] == null) return [{ path: ['provider'], message: 'action CUSTOM requires a provider' }];
    if (!custom && v['provider'] != null) return [{ path: ['provider'], message: 'provider is only allowed with action CUSTOM' }];
    return [];
  },
);

export const peerAuthenticationSchema: ObjectSchema = topLevel({ spec: peerAuthenticationSpec });
export const authorizationPolicySchema: ObjectSchema = topLevel({ spec: authorizationPolicySpec });
