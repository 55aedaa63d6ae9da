/**
 * Real Istio YAML (istioctl analyze's test data) as a corpus of valid input:
 * every document of a supported kind must validate, except the documented
 * cases below, which are invalid on purpose or invalid for Kubernetes itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileProblems, loadConfigText } from '../../../src/config/load-config.js';

const corpus = '/work/shared/conformance/istio-analyze';

/** file → the reasons (substrings) of its expected problems, with why. */
const expected: Record<string, string[]> = {
  // MeshConfig / MeshNetworks documents, not Kubernetes objects.
  'common/meshconfig.yaml': ['apiVersion and kind must be set'],
  'common/meshnetworks.yaml': ['apiVersion and kind must be set'],
  'mesh-with-automtls.yaml': ['apiVersion and kind must be set'],
  'serviceentry-address-allocated-mesh-cfg.yaml': ['apiVersion and kind must be set'],
  'serviceentry-missing-addresses-protocol-mesh-cfg.yaml': ['apiVersion and kind must be set'],
  'telemetry-lightstep-meshconfig.yaml': ['apiVersion and kind must be set'],
  // An upper-case name and no spec: the API server would refuse it.
  'condition-analyzer.yaml': ['spec: required field is missing', 'metadata.name: "negative-condition-svcEntry" is not a valid DNS-1123 name'],
  // Service port protocol HTTP/HTTPS: Kubernetes accepts only TCP, UDP, SCTP (the analyzer tests bypass the API server).
  'deployment-multi-service-different-ns.yaml': ['protocol: must be one of TCP, UDP, SCTP (got "HTTP")'],
  'deployment-multi-service.yaml': Array<string>(5).fill('protocol: must be one of TCP, UDP, SCTP (got "HTTP")'),
  'virtualservice_route_rule_no_effects_ingress.yaml': ['protocol: must be one of TCP, UDP, SCTP (got "HTTP")'],
  'virtualservice_destinationhosts.yaml': [
    'protocol: must be one of TCP, UDP, SCTP (got "HTTP")',
    'protocol: must be one of TCP, UDP, SCTP (got "HTTPS")',
    // "test destination null": invalid on purpose, and Istio's webhook says "total destination weight 0 != 100".
    'weights of 2 destinations must sum to 100 (got 0)',
    'route[0].destination: required field is missing',
  ],
  // An http route with only a deprecated fault.delay.percent: Istio's webhook rejects it too.
  'deprecation.yaml': ['one of route, redirect, directResponse or delegate must be set', 'one of fixedDelay, exponentialDelay must be set'],
  // Gateway servers without a port: istiod's webhook says "port is required".
  'conflicting-gateways-invalid-port.yaml': Array<string>(2).fill('spec.servers[0].port: required field is missing'),
  // Two servers with the same port name: istiod's webhook refuses it ("port names in servers must be unique").
  'conflicting-gateways-multiple-ports.yaml': ['duplicate name tcp', 'duplicate name http'],
  // Gateways without servers, an upper-case name, SIMPLE TLS without certificates: istiod's webhook refuses them.
  'gateway-no-workload.yaml': ['gateway must have at least one server'],
  'virtualservice_gateways.yaml': Array<string>(2).fill('gateway must have at least one server'),
  'gateway-secrets.yaml': ['is not a valid DNS-1123 name', 'SIMPLE TLS requires a server certificate', 'SIMPLE TLS requires a private key'],
  'virtualservice_host_not_found_gateway.yaml': ['duplicate name http'],
  'virtualservice_host_not_found_gateway_beta.yaml': ['duplicate name http'],
  // A Telemetry with both a selector and a targetRef: Istio's CRD allows only one (the analyzer's test data bypasses it).
  'k8sgateway-selector.yaml': ['only one of targetRefs or workloadSelector can be set'],
  // A container without a name: the API server requires one.
  'sidecar-default-selector.yaml': ['spec.containers[0].name: required field is missing'],
};

function corpusFiles(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel))
    .sort()
    .flatMap((name) => {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (statSync(join(dir, r)).isDirectory()) return corpusFiles(dir, r);
      return /\.ya?ml$/.test(name) ? [r] : [];
    });
}

test('istio-analyze corpus: supported kinds validate, unknown kinds are only reported as such', { skip: !existsSync(corpus) && `${corpus} not present` }, () => {
  const files = corpusFiles(corpus);
  assert.ok(files.length > 50, `corpus has ${files.length} files`);
  let accepted = 0;
  for (const file of files) {
    const loaded = loadConfigText(file, readFileSync(join(corpus, file), 'utf8'));
    accepted += loaded.documents.filter((d) => d.object).length;
    const problems = fileProblems(loaded).filter((p) => !p.reason.startsWith('unknown kind '));
    assert.ok(problems.every((p) => !p.reason.includes('unknown field')), `${file}: ${problems.map((p) => p.reason).join('\n')}`);
    const want = expected[file] ?? [];
    assert.equal(problems.length, want.length, `${file}:\n${problems.map((p) => `${p.line}: ${p.reason}`).join('\n')}`);
    for (const w of want) assert.ok(problems.some((p) => p.reason.includes(w)), `${file}: expected a problem containing ${w}`);
  }
  // Hundreds of real objects were accepted, not just skipped.
  assert.ok(accepted > 300, `accepted ${accepted}`);
});

/** Istio kinds that were "unknown kind" before issue 13 and are known now (validated, reported unsupported where not applied). */
const knownIstioKinds = ['Telemetry', 'EnvoyFilter', 'ProxyConfig', 'WasmPlugin', 'QuotaSpec'];

test('istio-analyze corpus: Telemetry, EnvoyFilter, ProxyConfig, WasmPlugin and QuotaSpec are known kinds, every document of them accepted', { skip: !existsSync(corpus) && `${corpus} not present` }, () => {
  const accepted = new Map<string, number>();
  for (const file of corpusFiles(corpus)) {
    const loaded = loadConfigText(file, readFileSync(join(corpus, file), 'utf8'));
    const unknown = fileProblems(loaded).filter((p) => p.reason.startsWith('unknown kind ') && knownIstioKinds.some((k) => p.reason.startsWith(`unknown kind ${k} `)));
    assert.deepEqual(unknown, [], file);
    for (const d of loaded.documents) if (d.object && knownIstioKinds.includes(d.object.kind)) accepted.set(d.object.kind, (accepted.get(d.object.kind) ?? 0) + 1);
  }
  // The counts of documents in the corpus (one Telemetry is refused for a selector and a targetRef together).
  assert.deepEqual(Object.fromEntries([...accepted].sort()), { EnvoyFilter: 23, ProxyConfig: 3, QuotaSpec: 1, Telemetry: 16, WasmPlugin: 1 });
});

test('istio-analyze corpus: kind List items are expanded and validated', { skip: !existsSync(corpus) && `${corpus} not present` }, () => {
  const loaded = loadConfigText('analyze-list-type.yaml', readFileSync(join(corpus, 'analyze-list-type.yaml'), 'utf8'));
  // Istio Gateways are a read kind: the items of the List are objects of their own, at their own lines.
  assert.deepEqual(fileProblems(loaded), []);
  const gateways = loaded.documents.filter((d) => d.object?.kind === 'Gateway');
  assert.ok(gateways.length >= 3, `${gateways.length} Gateways`);
  assert.ok(gateways.slice(1).every((d) => d.origin.line > 17));
});
