/** security.istio.io PeerAuthentication and AuthorizationPolicy, with Istio's validation rules (authz-checks.ts). */
import { portKeyedMap, topLevel } from './common.js';
import { arr, enumOf, obj, req, str, stringMap, type ObjectSchema, type Schema } from './schema.js';
import {
  authorizationPolicyCheck,
  conditionCheck,
  ipProblem,
  nonEmptyValue,
  operationCheck,
  pathProblem,
  peerAuthenticationCheck,
  portProblem,
  ruleCheck,
  selectorLabelsCheck,
  serviceAccountProblem,
  sourceCheck,
  targetRefCheck,
  trustDomainProblem,
} from './authz-checks.js';

/** PeerAuthentication mtls.mode values. */
export const mtlsModes = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;
const mtls = () => obj({ mode: enumOf(...mtlsModes) });

export const workloadSelector = () =>
  obj({ matchLabels: stringMap() }, (v) => selectorLabelsCheck((v['matchLabels'] ?? {}) as Record<string, unknown>).map((i) => ({ ...i, path: ['matchLabels', ...i.path] })));

const peerAuthenticationSpec = obj({ selector: workloadSelector(), mtls: mtls(), portLevelMtls: portKeyedMap(mtls()) }, peerAuthenticationCheck);

/** A list of strings, each checked (an empty string is never a value Istio accepts here). */
const values = (check: (s: string) => string | undefined = nonEmptyValue): Schema => arr(str({ check }));

const source = obj(
  {
    principals: values(),
    notPrincipals: values(),
    requestPrincipals: values(),
    notRequestPrincipals: values(),
    namespaces: values(),
    notNamespaces: values(),
    ipBlocks: values(ipProblem),
    notIpBlocks: values(ipProblem),
    remoteIpBlocks: values(ipProblem),
    notRemoteIpBlocks: values(ipProblem),
    serviceAccounts: values(serviceAccountProblem),
    notServiceAccounts: values(serviceAccountProblem),
    trustDomains: values(trustDomainProblem),
    notTrustDomains: values(trustDomainProblem),
  },
  sourceCheck,
);

const operation = obj(
  {
    hosts: values(),
    notHosts: values(),
    ports: values(portProblem),
    notPorts: values(portProblem),
    methods: values(),
    notMethods: values(),
    paths: values(pathProblem),
    notPaths: values(pathProblem),
  },
  operationCheck,
);

const rule = obj(
  {
    from: arr(obj({ source: req(source) })),
    to: arr(obj({ operation: req(operation) })),
    when: arr(obj({ key: req(str()), values: arr(str()), notValues: arr(str()) }, conditionCheck)),
  },
  ruleCheck,
);

export const targetRef = () => obj({ group: str(), kind: req(str()), name: req(str({ check: nonEmptyValue })), namespace: str() }, targetRefCheck);

const authorizationPolicySpec = obj(
  {
    selector: workloadSelector(),
    targetRef: targetRef(),
    targetRefs: arr(targetRef()),
    action: enumOf('ALLOW', 'DENY', 'AUDIT', 'CUSTOM'),
    rules: arr(rule),
    provider: obj({ name: req(str({ check: nonEmptyValue })) }),
  },
  authorizationPolicyCheck,
);

export const peerAuthenticationSchema: ObjectSchema = topLevel({ spec: peerAuthenticationSpec });
export const authorizationPolicySchema: ObjectSchema = topLevel({ spec: authorizationPolicySpec });
