/**
 * `trellis analyze` from the command line: istioctl analyze's lines (level,
 * code, object, file:line, message) each with a suggested fix, thresholds,
 * JSON, exit codes (1 on errors only, as istioctl), and the running mesh's
 * config directory when no DIR is given.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, run } from './mesh.js';

const service = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports:
    - {name: http, port: 9080}
`;
const routing = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: {host: reviewz}
`;
const policies = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: default}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: permissive, namespace: default}
spec: {mtls: {mode: PERMISSIVE}}
`;
const invalid = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: FASTEST}
`;

describe('trellis analyze', () => {
  let work: string;
  const dir = async (name: string, files: Record<string, string>) => {
    const d = join(work, name);
    await mkdir(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) await writeFile(join(d, f), text);
    return d;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'trellis-analyze-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('clean config: exit 0, nothing on stdout, a check mark on stderr', async () => {
    const r = await run(['analyze', await dir('clean', { 'service.yaml': service })]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^\u2714 No validation issues found when analyzing .*clean \(1 file\(s\), 1 object\(s\)\)\.$/m);
  });

  test('errors: istioctl\'s line per message with a fix; schema, references and policies; exit 1', async () => {
    const d = await dir('broken', { 'service.yaml': service, 'routing.yaml': routing, 'policies.yaml': policies, 'rules.yaml': invalid });
    const r = await run(['analyze', d]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    const ref = at('Error [IST0101] ');
    assert.equal(lines[ref], 'Error [IST0101] (VirtualService default/reviews routing.yaml:8) Referenced host not found: "reviewz"');
    assert.match(lines[ref + 1]!, /^ {2}Fix: create the Service or ServiceEntry the route names/);
    assert.match(lines[at('Error [IST0106] ')]!, /^Error \[IST0106\] \(rules\.yaml:7\) Schema validation error: DestinationRule default\/reviews: spec\.trafficPolicy\.loadBalancer\.simple: /);
    const warnings = lines.filter((l) => l.startsWith('Warning [TRL0001] '));
    assert.deepEqual(warnings.map((l) => l.slice(0, l.indexOf(')') + 1)), ['Warning [TRL0001] (PeerAuthentication default/strict policies.yaml:3)', 'Warning [TRL0001] (PeerAuthentication default/permissive policies.yaml:8)']);
    assert.equal(lines.filter((l) => /^(Error|Warning|Info) \[/.test(l)).length, lines.filter((l) => l.startsWith('  Fix: ')).length, 'a fix for every message');
  });

  test('thresholds: warnings alone exit 0, or 1 with --failure-threshold Warning; --output-threshold hides the rest', async () => {
    const d = await dir('warnings', { 'policies.yaml': policies });
    assert.equal((await run(['analyze', d])).code, 0);
    assert.equal((await run(['analyze', d, '--failure-threshold', 'Warning'])).code, 1);
    const quiet = await run(['analyze', fixtureDir, '--output-threshold', 'Warning']);
    assert.equal(quiet.stdout, '', 'the fixture has only an Info (IST0118)');
    assert.equal((await run(['analyze', d, '--failure-threshold', 'Fatal'])).code, 2);
  });

  test('-o json: istioctl\'s fields, the documentation link for Istio codes, the fix', async () => {
    const r = await run(['analyze', fixtureDir, '-o', 'json']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), [{
      code: 'IST0118',
      documentationUrl: 'https://istio.io/latest/docs/reference/config/analysis/ist0118/',
      level: 'Info',
      message: "Port name  (port: 5432, targetPort: 5432) doesn't follow the naming convention of Istio port.",
      origin: 'Service default/db',
      reference: 'services.yaml:35',
      fix: 'name the port for its protocol ("http", "http-web", "grpc", "tcp", "tls", ...), or set appProtocol; otherwise Istio has to guess it.',
    }]);
  });

  test('without DIR: the running mesh\'s config directory, else a usage error', async () => {
    const d = await dir('running', { 'routing.yaml': routing });
    const state = join(work, 'mesh.json');
    await writeFile(state, JSON.stringify({ pid: process.pid, configDir: d, controlPlane: { debug: '127.0.0.1:1', xds: '127.0.0.1:2' }, pods: [] }));
    const r = await run(['analyze'], { TRELLIS_STATE_FILE: state });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Referenced host not found: "reviewz"/);
    const none = await run(['analyze']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name the config directory to analyze/);
    assert.equal((await run(['analyze', join(work, 'absent')])).code, 1);
  });
});
