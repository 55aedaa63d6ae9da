import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { servicePortProtocol } from '../../../src/controlplane/registry/protocol.js';
import { visibleServices, isExportedTo, egressFilter } from '../../../src/controlplane/registry/visibility.js';
import { bookinfo, modelOf } from './helpers.js';
import type { Sidecar } from '../../../src/config/objects.js';

describe('protocol selection', () => {
  const cases: [Parameters<typeof servicePortProtocol>[0], string][] = [
    [{ name: 'http' }, 'HTTP'],
    [{ name: 'http-web' }, 'HTTP'],
    [{ name: 'HTTP2' }, 'HTTP2'],
    [{ name: 'grpc-api' }, 'GRPC'],
    [{ name: 'grpc-web' }, 'HTTP'],
    [{ name: 'tcp-db' }, 'TCP'],
    [{ name: 'mongo' }, 'MONGO'],
    [{ name: 'redis-main' }, 'REDIS'],
    [{ name: 'https' }, 'HTTPS'],
    [{ name: 'web' }, 'UNKNOWN'],
    [{}, 'UNKNOWN'],
    [{ name: 'web', appProtocol: 'grpc' }, 'GRPC'],
    [{ name: 'http', appProtocol: 'tcp' }, 'TCP'],
    [{ name: 'x', appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    [{ name: 'http', protocol: 'UDP' }, 'UDP'],
  ];
  for (const [port, want] of cases) test(`${JSON.stringify(port)} → ${want}`, () => assert.equal(servicePortProtocol(port), want));
});

describe('services and endpoints', () => {
  const model = modelOf(bookinfo);

  test('hostnames, VIPs, sorted', () => {
    assert.deepEqual(model.services.map((s) => s.hostname), ['db.other.svc.cluster.local', 'ratings.default.svc.cluster.local', 'reviews.default.svc.cluster.local']);
    assert.equal(model.service('reviews.default.svc.cluster.local')?.vip, '10.96.0.20');
    assert.equal(model.service('ratings.default.svc.cluster.local')?.ports[0]?.protocol, 'GRPC');
  });

  test('endpoints from selected pods: readiness from conditions or phase, labels and service account from the pod', () => {
    const eps = model.endpoints('reviews.default.svc.cluster.local', 9080);
    assert.deepEqual(eps.map((e) => [e.address, e.port, e.ready]), [['10.0.0.1', 9080, true], ['10.0.0.2', 9080, true], ['10.0.0.3', 9080, false]]);
    assert.equal(eps[0]?.labels['version'], 'v1');
    assert.equal(eps[0]?.serviceAccount, 'reviews');
    assert.equal(eps[0]?.locality, 'eu/eu-a/');
    assert.equal(eps[0]?.workload, 'Pod/default/reviews-v1');
  });

  test('endpoints from an EndpointSlice: port from the slice, ready defaults true, pod labels by targetRef', () => {
    const eps = model.endpoints('ratings.default.svc.cluster.local', 9090);
    assert.deepEqual(eps.map((e) => [e.address, e.port, e.ready]), [['10.0.1.1', 19090, true], ['10.0.1.2', 19090, false], ['10.0.1.3', 19090, true]]);
    assert.equal(eps[0]?.labels['version'], 'v1');
    assert.equal(eps[0]?.serviceAccount, 'ratings');
    assert.equal(eps[1]?.locality, '/z1');
  });

  test('the same endpoint in two slices is listed once, ready if either says so', () => {
    const slice = (name: string, ready: boolean) => `
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: default, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{name: http, port: 9080}]
endpoints: [{addresses: [10.9.9.9], conditions: {ready: ${ready}}}, {addresses: [10.9.9.${name === 'a' ? 1 : 2}]}]`;
    const m = modelOf(bookinfo + slice('a', false) + slice('b', true));
    assert.deepEqual(m.endpoints('reviews.default.svc.cluster.local', 9080).map((e) => `${e.address}:${e.ready}`), ['10.9.9.1:true', '10.9.9.2:true', '10.9.9.9:true']);
  });

  test('a named targetPort resolves against the pod container ports', () => {
    assert.deepEqual(model.endpoints('db.other.svc.cluster.local', 5432).map((e) => e.port), [15432]);
  });

  test('an EndpointSlice wins over the selector: pods are not consulted', () => {
    const m = modelOf(bookinfo + `
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-x, namespace: default, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.9.9.9]}]
`);
    assert.deepEqual(m.endpoints('reviews.default.svc.cluster.local', 9080).map((e) => `${e.address}:${e.port}`), ['10.9.9.9:8080']);
  });

  test('workloads by IP and by name; services selecting a workload', () => {
    assert.equal(model.workloadByIp('10.0.0.2')?.name, 'reviews-v2');
    assert.equal(model.workload('other', 'db-0')?.address, '10.0.2.1');
    assert.deepEqual(model.servicesForWorkload('default', { app: 'reviews', version: 'v1' }).map((s) => s.name), ['reviews']);
    assert.deepEqual(model.servicesForWorkload('other', { app: 'reviews' }), []);
  });

  test('ExternalName services: DNS resolution, the external name as the only endpoint', () => {
    const m = modelOf(`
apiVersion: v1
kind: Service
metadata: {name: search, namespace: default}
spec: {type: ExternalName, externalName: search.example.com, ports: [{name: https, port: 443}]}
`);
    const svc = m.service('search.default.svc.cluster.local')!;
    assert.equal(svc.resolution, 'DNS');
    assert.equal(svc.vip, undefined);
    assert.deepEqual(m.endpoints(svc.hostname, 443).map((e) => `${e.address}:${e.port}`), ['search.example.com:443']);
  });

  test('ServiceEntry: one service per host, inline endpoints, workloadSelector over WorkloadEntries', () => {
    const m = modelOf(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec:
  hosts: [api.example.com, www.example.com]
  addresses: [240.0.0.1]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: STATIC
  endpoints: [{address: 1.2.3.4, ports: {tls: 8443}, locality: r/z/s, weight: 3}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: default}
spec:
  hosts: [vm.internal]
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: {labels: {app: vm}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: default}
spec: {address: 10.5.0.1, labels: {app: vm}, serviceAccount: vm-sa}
`);
    assert.deepEqual(m.services.map((s) => s.hostname), ['api.example.com', 'vm.internal', 'www.example.com']);
    const api = m.service('api.example.com')!;
    assert.equal(api.vip, '240.0.0.1');
    assert.equal(api.meshExternal, true);
    assert.equal(api.ports[0]?.protocol, 'TLS');
    assert.deepEqual(m.endpoints('www.example.com', 443).map((e) => [e.address, e.port, e.weight, e.locality]), [['1.2.3.4', 8443, 3, 'r/z/s']]);
    assert.equal(m.service('vm.internal')?.meshExternal, false);
    assert.deepEqual(m.endpoints('vm.internal', 80).map((e) => [e.address, e.port, e.serviceAccount]), [['10.5.0.1', 8080, 'vm-sa']]);
  });
});

describe('visibility', () => {
  test('exportTo', () => {
    assert.equal(isExportedTo(['*'], 'a', 'b'), true);
    assert.equal(isExportedTo(['.'], 'a', 'a'), true);
    assert.equal(isExportedTo(['.'], 'a', 'b'), false);
    assert.equal(isExportedTo(['b', 'c'], 'a', 'c'), true);
    assert.equal(isExportedTo(['~'], 'a', 'a'), false);
    assert.equal(isExportedTo(undefined, 'a', 'b'), true);
  });

  test('service exportTo annotation hides a service from other namespaces', () => {
    const m = modelOf(bookinfo.replace('metadata: {name: db, namespace: other}', "metadata: {name: db, namespace: other, annotations: {networking.istio.io/exportTo: '.'}}"));
    assert.deepEqual(visibleServices(m.services, 'default', undefined).map((s) => s.name), ['ratings', 'reviews']);
    assert.deepEqual(visibleServices(m.services, 'other', undefined).map((s) => s.name), ['db', 'ratings', 'reviews']);
  });

  const sidecar = (ns: string, hosts: string[]): Sidecar => ({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: ns }, spec: { egress: [{ hosts }] } });
  const svc = (namespace: string, hostname: string) => ({ hostname, namespace }) as Parameters<ReturnType<typeof egressFilter>>[0];
  const cases: [string[], string, string, boolean][] = [
    [['./*'], 'a', 'x.a.svc.cluster.local', true],
    [['./*'], 'b', 'x.b.svc.cluster.local', false],
    [['*/*'], 'b', 'x.b.svc.cluster.local', true],
    [['b/x.b.svc.cluster.local'], 'b', 'x.b.svc.cluster.local', true],
    [['b/x.b.svc.cluster.local'], 'b', 'y.b.svc.cluster.local', false],
    [['*/*.example.com'], 'c', 'api.example.com', true],
    [['*/*.example.com'], 'c', 'example.com', false],
    [['~/*'], 'a', 'x.a.svc.cluster.local', false],
  ];
  for (const [hosts, ns, host, want] of cases) {
    test(`Sidecar in a with egress ${hosts.join(',')} ${want ? 'admits' : 'rejects'} ${ns}/${host}`, () => {
      assert.equal(egressFilter(sidecar('a', hosts))(svc(ns, host)) === 'all', want);
    });
  }

  test('per-port egress: a listener with a port admits its hosts on that port only; one without a port, on all', () => {
    const m = modelOf(bookinfo);
    const perPort: Sidecar = {
      apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'default' },
      spec: { egress: [{ port: { number: 9080, protocol: 'HTTP', name: 'http' }, hosts: ['./*'] }, { hosts: ['other/*'] }] },
    };
    const seen = visibleServices(m.services, 'default', perPort);
    assert.deepEqual(seen.map((s) => `${s.name}:${s.ports.map((p) => p.port).join(',')}`), ['db:5432', 'reviews:9080']);
    // The same copy every time (translation memoises per service object); an untouched service is the model's own.
    assert.equal(visibleServices(m.services, 'default', perPort).find((s) => s.name === 'reviews'), seen.find((s) => s.name === 'reviews'));
    assert.equal(seen.find((s) => s.name === 'db'), m.services.find((s) => s.name === 'db'));
  });

  test('sidecarFor: workloadSelector first, then namespace default, then root namespace', () => {
    const m = modelOf(`
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: root, namespace: istio-system}
spec: {egress: [{hosts: ["*/*"]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ns-default, namespace: a}
spec: {egress: [{hosts: ["./*"]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: special, namespace: a}
spec: {workloadSelector: {labels: {app: x}}, egress: [{hosts: ["*/*"]}]}
`);
    assert.equal(m.sidecarFor('a', { app: 'x' })?.metadata.name, 'special');
    assert.equal(m.sidecarFor('a', { app: 'y' })?.metadata.name, 'ns-default');
    assert.equal(m.sidecarFor('b', {})?.metadata.name, 'root');
  });

  test('destinationRule: own namespace, then service namespace, then root; short hosts; exportTo', () => {
    const dr = (name: string, ns: string, host: string, exportTo?: string[]) => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec: {host: "${host}"${exportTo ? `, exportTo: ${JSON.stringify(exportTo)}` : ''}}`;
    const m = modelOf(bookinfo + dr('root', 'istio-system', '*.svc.cluster.local') + dr('svcns', 'default', 'reviews') + dr('mine', 'other', 'reviews.default.svc.cluster.local') + dr('private', 'default', 'ratings', ['.']));
    const host = 'reviews.default.svc.cluster.local';
    assert.equal(m.destinationRule(host, 'other')?.metadata.name, 'mine');
    assert.equal(m.destinationRule(host, 'default')?.metadata.name, 'svcns');
    assert.equal(m.destinationRule(host, 'third')?.metadata.name, 'svcns');
    assert.equal(m.destinationRule('ratings.default.svc.cluster.local', 'default')?.metadata.name, 'private');
    assert.equal(m.destinationRule('ratings.default.svc.cluster.local', 'third')?.metadata.name, 'root');
    assert.equal(m.destinationRule('db.other.svc.cluster.local', 'third')?.metadata.name, 'root');
  });
});
