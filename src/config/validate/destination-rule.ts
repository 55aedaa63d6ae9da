/** networking.istio.io DestinationRule and its TrafficPolicy. */
import { duration, matchLabelsSelector, portSelector, topLevel } from './common.js';
import { arr, bool, enumOf, int, num, obj, req, str, stringMap, strings, type Issue, type ObjectSchema, type Schema } from './schema.js';
import { localityLbSetting } from './locality-lb.js';

const consistentHash = obj(
  {
    httpHeaderName: str(),
    httpCookie: obj({ name: req(str()), path: str(), ttl: duration(), attributes: arr(obj({ name: req(str()), value: str() })) }),
    useSourceIp: bool(),
    httpQueryParameterName: str(),
    ringHash: obj({ minimumRingSize: int(0) }),
    maglev: obj({ tableSize: int(0) }),
    minimumRingSize: int(0),
  },
  (v) => {
    const keys = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].filter((k) => v[k] !== undefined && v[k] !== null);
    return keys.length > 1 ? [{ path: [keys[1]!], message: `only one hash key may be set (also set: ${keys[0]})` }] : [];
  },
);

const loadBalancer = obj(
  {
    simple: enumOf('UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'),
    consistentHash,
    localityLbSetting,
    warmupDurationSecs: duration(),
    warmup: obj({ duration: req(duration()), minimumPercent: num(0, 100), aggression: num(1) }),
  },
  (v) => (v['simple'] != null && v['consistentHash'] != null ? [{ path: ['consistentHash'], message: 'simple and consistentHash cannot be used together' }] : []),
);

const connectionPool = obj({
  tcp: obj({
    maxConnections: int(0),
    connectTimeout: duration(),
    tcpKeepalive: obj({ probes: int(0), time: duration(), interval: duration() }),
    maxConnectionDuration: duration(),
    idleTimeout: duration(),
  }),
  http: obj({
    http1MaxPendingRequests: int(0),
    http2MaxRequests: int(0),
    maxRequestsPerConnection: int(0),
    maxRetries: int(0),
    idleTimeout: duration(),
    h2UpgradePolicy: enumOf('DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'),
    useClientProtocol: bool(),
    maxConcurrentStreams: int(0),
  }),
});

const outlierDetection = obj({
  splitExternalLocalOriginErrors: bool(),
  consecutiveLocalOriginFailures: int(0),
  consecutiveGatewayErrors: int(0),
  consecutive5xxErrors: int(0),
  consecutiveErrors: int(0),
  interval: duration(),
  baseEjectionTime: duration(),
  maxEjectionPercent: int(0, 100),
  minHealthPercent: int(0, 100),
});

/** ClientTLSSettings.mode; exported for tests and for the translators' exhaustiveness. */
export const tlsModes = ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const;

const clientTls = obj({
  mode: enumOf(...tlsModes),
  clientCertificate: str(),
  privateKey: str(),
  caCertificates: str(),
  credentialName: str(),
  subjectAltNames: strings(),
  sni: str(),
  insecureSkipVerify: bool(),
  caCrl: str(),
});

const policyFields: Record<string, Schema> = { loadBalancer, connectionPool, outlierDetection, tls: clientTls };

const trafficPolicy = obj({
  ...policyFields,
  portLevelSettings: arr(obj({ port: portSelector(), ...policyFields })),
  tunnel: obj({ protocol: str(), targetHost: req(str()), targetPort: req(int(1, 65535)) }),
  proxyProtocol: obj({ version: enumOf('V1', 'V2') }),
});

function uniqueSubsetNames(subsets: unknown[]): Issue[] {
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  subsets.forEach((s, i) => {
    const name = (s as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else issues.push({ path: [i, 'name'], message: `duplicate subset name ${JSON.stringify(name)} (first at subsets[${first}])` });
  });
  return issues;
}

export const destinationRuleSchema: ObjectSchema = topLevel({
  spec: req(
    obj({
      host: req(str()),
      trafficPolicy,
      subsets: arr(obj({ name: req(str()), labels: stringMap(), trafficPolicy }), uniqueSubsetNames),
      exportTo: strings(),
      workloadSelector: matchLabelsSelector(),
    }),
  ),
});
