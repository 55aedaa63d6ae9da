import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderServiceRules } from '../../../src/local/netns/service-rules.js';
import { serviceBackends } from '../../../src/local/up/endpoints.js';
import type { Service } from '../../../src/config/objects.js';
import type { EndpointPod } from '../../../src/local/up/endpoints.js';

test("kube-proxy's rules: one chain per service port, 1/n, 1/(n-1), ... then the last backend; hairpin marked for masquerade", () => {
  const text = renderServiceRules([{ name: 'shop/web:80', clusterIp: '10.96.0.5', port: 80, protocol: 'tcp', backends: [{ ip: '10.244.0.10', port: 8080 }, { ip: '10.244.0.11', port: 8080 }, { ip: '10.244.0.12', port: 8080 }] },
    { name: 'shop/none:80', clusterIp: '10.96.0.6', port: 80, protocol: 'tcp', backends: [] }]);
  const lines = text.split('\n');
  assert.equal(lines[0], '*nat');
  assert.equal(lines.at(-2), 'COMMIT');
  const svc = lines.filter((l) => l.startsWith('-A TRELLIS-SERVICES'));
  assert.equal(svc.length, 1, 'a service without backends gets no portal');
  assert.match(svc[0]!, /^-A TRELLIS-SERVICES -d 10\.96\.0\.5\/32 -p tcp -m tcp --dport 80 -m comment --comment "shop\/web:80" -j TRELLIS-SVC-[0-9A-F]{12}$/);
  const picks = lines.filter((l) => /^-A TRELLIS-SVC-/.test(l));
  assert.deepEqual(picks.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'last'), ['0.3333333333', '0.5000000000', 'last']);
  assert.equal(lines.filter((l) => /-j DNAT --to-destination 10\.244\.0\.1[012]:8080$/.test(l)).length, 3);
  assert.equal(lines.filter((l) => /-s 10\.244\.0\.10\/32 -j MARK --set-xmark 0x4000\/0x4000$/.test(l)).length, 1);
  assert.ok(lines.includes('-A TRELLIS-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE'));
  // Every chain jumped to is declared.
  for (const m of text.matchAll(/-j (TRELLIS-[A-Z0-9-]+)/g)) assert.ok(lines.includes(`:${m[1]} - [0:0]`), m[1]);
});

test('endpoints: ready pods of the namespace that the selector matches, named target ports resolved', () => {
  const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.5', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }, { port: 81 }] } };
  const pods: EndpointPod[] = [
    { namespace: 'shop', labels: { app: 'web' }, ip: '10.244.0.11', ready: true, ports: { http: 8080 } },
    { namespace: 'shop', labels: { app: 'web' }, ip: '10.244.0.10', ready: false, ports: { http: 8080 } },
    { namespace: 'other', labels: { app: 'web' }, ip: '10.244.0.12', ready: true, ports: { http: 8080 } },
    { namespace: 'shop', labels: { app: 'api' }, ip: '10.244.0.13', ready: true, ports: {} },
    { namespace: 'shop', labels: { app: 'web' }, ip: '10.244.0.9', ready: true, ports: {} },
  ];
  const b = serviceBackends([svc], pods);
  assert.deepEqual(b.map((x) => [x.port, x.backends]), [[80, [{ ip: '10.244.0.11', port: 8080 }]], [81, [{ ip: '10.244.0.11', port: 81 }, { ip: '10.244.0.9', port: 81 }]]]);
});
