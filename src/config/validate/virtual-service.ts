/** networking.istio.io VirtualService. */
import { destination, duration, exactlyOne, percent, portNumber, regexProblem, stringMatch, topLevel } from './common.js';
import { arr, bool, enumOf, int, map, obj, req, str, stringMap, strings, type Issue, type ObjectSchema } from './schema.js';

const headerOperations = obj({ set: stringMap(), add: stringMap(), remove: strings() });
const headers = obj({ request: headerOperations, response: headerOperations });

/** Weights: integers 0..100, summing to 100 when traffic is split over several destinations. */
function weightsSumTo100(routes: unknown[]): Issue[] {
  if (routes.length < 2) return [];
  const weights = routes.map((r) => (r as { weight?: unknown } | null)?.weight);
  // Out-of-range weights are reported on their own; a sum over them would only add noise.
  const valid = (w: unknown) => w === undefined || w === null || (Number.isInteger(w) && (w as number) >= 0 && (w as number) <= 100);
  if (!weights.every(valid)) return [];
  const sum = weights.reduce<number>((s, w) => s + ((w as number | null | undefined) ?? 0), 0);
  return sum === 100 ? [] : [{ path: [], message: `weights of ${routes.length} destinations must sum to 100 (got ${sum})` }];
}

const weight = () => int(0, 100);
const httpRouteDestination = obj({ destination: req(destination()), weight: weight(), headers });
const routeDestination = obj({ destination: req(destination()), weight: weight() });

const httpMatchRequest = obj({
  name: str(),
  uri: stringMatch(),
  scheme: stringMatch(),
  method: stringMatch(),
  authority: stringMatch(),
  headers: map(stringMatch()),
  withoutHeaders: map(stringMatch()),
  queryParams: map(stringMatch()),
  port: portNumber(),
  sourceLabels: stringMap(),
  sourceNamespace: str(),
  gateways: strings(),
  ignoreUriCase: bool(),
  statPrefix: str(),
});

const httpRetry = obj({
  attempts: int(0),
  perTryTimeout: duration(),
  retryOn: str(),
  retryRemoteLocalities: bool(),
  retryIgnorePreviousHosts: bool(),
  backoff: duration(),
});

const fault = obj({
  delay: obj(
    { fixedDelay: duration(), exponentialDelay: duration(), percentage: percent(), percent: int(0, 100) },
    exactlyOne(['fixedDelay', 'exponentialDelay']),
  ),
  abort: obj(
    { httpStatus: int(200, 599), grpcStatus: str(), http2Error: str(), percentage: percent() },
    exactlyOne(['httpStatus', 'grpcStatus', 'http2Error']),
  ),
});

const corsPolicy = obj({
  allowOrigin: strings(),
  allowOrigins: arr(stringMatch()),
  allowMethods: strings(),
  allowHeaders: strings(),
  exposeHeaders: strings(),
  maxAge: duration(),
  allowCredentials: bool(),
  unmatchedPreflights: enumOf('UNSPECIFIED', 'FORWARD', 'IGNORE'),
});

const httpRoute = obj(
  {
    name: str(),
    match: arr(httpMatchRequest),
    route: arr(httpRouteDestination, weightsSumTo100),
    redirect: obj({
      uri: str(),
      authority: str(),
      port: portNumber(),
      derivePort: enumOf('FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'),
      scheme: str(),
      redirectCode: int(300, 399),
    }),
    directResponse: obj({ status: req(int(200, 599)), body: obj({ string: str(), bytes: str() }, exactlyOne(['string', 'bytes'], false)) }),
    delegate: obj({ name: req(str()), namespace: str() }),
    rewrite: obj({ uri: str(), authority: str(), uriRegexRewrite: obj({ match: req(str({ check: regexProblem })), rewrite: req(str()) }) }),
    timeout: duration(),
    retries: httpRetry,
    fault,
    mirror: destination(),
    mirrors: arr(obj({ destination: req(destination()), percentage: percent() })),
    mirrorPercentage: percent(),
    mirrorPercent: int(0, 100),
    corsPolicy,
    headers,
  },
  (r) => {
    const actions = ['route', 'redirect', 'directResponse', 'delegate'].filter((f) => r[f] !== undefined && r[f] !== null);
    if (actions.length === 0) return [{ path: [], message: 'one of route, redirect, directResponse or delegate must be set' }];
    if (actions.length > 1) return [{ path: [actions[1]!], message: `${actions.join(' and ')} cannot be used together` }];
    return [];
  },
);

const l4Match = {
  destinationSubnets: strings(),
  port: portNumber(),
  sourceLabels: stringMap(),
  gateways: strings(),
  sourceNamespace: str(),
};

const tcpRoute = obj({ match: arr(obj(l4Match)), route: arr(routeDestination, weightsSumTo100) });
const tlsRoute = obj({
  match: req(arr(obj({ ...l4Match, sniHosts: req(strings()) }))),
  route: arr(routeDestination, weightsSumTo100),
});

export const virtualServiceSchema: ObjectSchema = topLevel({
  spec: req(
    obj({
      hosts: strings(),
      gateways: strings(),
      http: arr(httpRoute),
      tcp: arr(tcpRoute),
      tls: arr(tlsRoute),
      exportTo: strings(),
    }),
  ),
});

