/**
 * Valid config the YAML fuzz target mutates: the example mesh, and documents
 * that reach the rest of the schema (tcp/tls routes, mirrors, regexes,
 * wildcard ServiceEntries, Lists, CRLF). With TRELLIS_FUZZ_SECONDS (npm run
 * fuzz) Istio's analyzer test data joins when present; `npm test` keeps to
 * what is in the repository, so its cases are the same everywhere.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { longFuzz } from './harness.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const istioCorpus = '/work/shared/conformance/istio-analyze';

const routing = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews, "*.eu.example.com"]
  http:
  - name: canary
    match:
    - uri: {regex: "(?i)^/api/(?P<v>v[0-9]+)/.*"}
      headers: {end-user: {exact: jason}}
    route:
    - destination: {host: reviews, subset: v2, port: {number: 9080}}
      weight: 80
    - destination: {host: ratings.default.svc.cluster.local}
      weight: 20
    mirror: {host: reviews, subset: v3}
    mirrors:
    - destination: {host: shadow.example.com}
      percentage: {value: 10}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 250ms, retryOn: 5xx}
    rewrite: {uriRegexRewrite: {match: "^/old/(.*)$", rewrite: "/new/\\\\1"}}
  tcp:
  - route:
    - destination: {host: db.data.svc.cluster.local, port: {number: 5432}}
  tls:
  - match: [{sniHosts: [api.eu.example.com]}]
    route:
    - destination: {host: api.eu.example.com}
`;

const mesh = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: reviews, namespace: default}
  spec:
    ports: [{port: 9080, name: http}]
    selector: {app: reviews}
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: reviews, namespace: default}
  spec:
    host: reviews
    trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
    subsets:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: eu, namespace: default}
spec:
  hosts: ["*.eu.example.com"]
  location: MESH_EXTERNAL
  resolution: NONE
  ports: [{number: 443, name: tls, protocol: TLS}]
`;

/** The Gateway API (issue 13): what the conversion into Istio config reads — listeners, attachments, filters, grants. */
const gatewayApi = `apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {team: a}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: web, port: 80, protocol: HTTP, hostname: "*.example.com", allowedRoutes: {namespaces: {from: All}}}
  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: web}]
  hostnames: [www.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api/}, headers: [{name: x-v, value: "2"}], method: GET}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{name: reviews, port: 9080, weight: 3}, {name: ratings, namespace: other, port: 9080, weight: 0}]
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: tls, namespace: default}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [api.example.com]
  rules: [{backendRefs: [{name: reviews, port: 9080}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-default, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
`;

/** Single valid documents, for "a valid document beside a broken one". */
export const validDocuments: readonly string[] = [
  routing,
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: ratings\n  namespace: default\nspec:\n  ports:\n  - port: 9080\n    name: http\n',
  'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec:\n  mtls: {mode: STRICT}\n',
];

function exampleFiles(): string[] {
  const dir = join(repo, 'examples/grpc-split');
  return readdirSync(dir).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
}

function istioFiles(): string[] {
  if (!longFuzz || !existsSync(istioCorpus)) return [];
  return readdirSync(istioCorpus).filter((f) => f.endsWith('.yaml')).sort().map((f) => readFileSync(join(istioCorpus, f), 'utf8'));
}

/** Whole valid files from the repository (several documents each), CRLF and a leading "---" included. */
export function repoSeedFiles(): string[] {
  return [routing, mesh, gatewayApi, ...validDocuments.slice(1), ...exampleFiles(), routing.replace(/\n/g, '\r\n'), `# leading comment\n---\n${mesh}`];
}

/** What the fuzz target mutates: the repository's seeds, and Istio's test data under `npm run fuzz`. */
export function seedFiles(): string[] {
  return [...repoSeedFiles(), ...istioFiles()];
}
