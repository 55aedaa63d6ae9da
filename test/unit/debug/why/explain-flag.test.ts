/** trellis why's explanations: each flag with the config that caused it → one sentence and the next command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessLogEntry } from '../../../../src/debug/why/access-log-line.js';
import { explain, type ProxyFacts } from '../../../../src/debug/why/explain-flag.js';

const C = 'outbound|8080||backend.why.svc.cluster.local';
const entry = (o: Partial<AccessLogEntry>): AccessLogEntry => ({ responseCode: 503, flags: [], requestId: 'r', authority: 'backend:8080', method: 'GET', path: '/', ...o });
const pod = 'client-1.why';
const vs = '/apis/networking.istio.io/v1/namespaces/why/virtual-service/backend';

test('UH: the cluster, its healthy endpoints of all, the Service behind it; next: its endpoints', () => {
  const f: ProxyFacts = { pod, cluster: { name: C, endpoints: [], healthy: 0, services: [{ host: 'backend.why.svc.cluster.local', name: 'backend', namespace: 'why' }] } };
  const x = explain(entry({ flags: ['UH'], upstreamCluster: C, details: 'no_healthy_upstream' }), f);
  assert.equal(x.flag, 'UH');
  assert.equal(x.flagLong, 'NoHealthyUpstream');
  assert.match(x.sentence, /cluster outbound\|8080\|\|backend\.why\.svc\.cluster\.local \(built for Service why\/backend\) has 0 healthy endpoints of 0/);
  assert.equal(x.next, `trellis proxy-config endpoints ${pod} --cluster '${C}'`);
});

test('UO: the DestinationRule whose connectionPool set the limits; unset (2^32-1) limits are not named', () => {
  const f: ProxyFacts = { pod, cluster: { name: C, endpoints: [], healthy: 1, services: [], config: '/apis/networking.istio.io/v1/namespaces/why/destination-rule/limited', maxConnections: 1, maxPendingRequests: 1, maxRequests: 0xffffffff } };
  const x = explain(entry({ flags: ['UO'], upstreamCluster: C }), f);
  assert.match(x.sentence, /\(maxConnections 1, http1MaxPendingRequests 1\), set by DestinationRule why\/limited's trafficPolicy\.connectionPool/);
  assert.equal(x.next, `trellis proxy-config clusters ${pod} --fqdn 'backend.why.svc.cluster.local' -o json`);
});

test('NR: the virtual host the authority selects and its routes; without one, every virtual host', () => {
  const matched = explain(entry({ flags: ['NR'], responseCode: 404, path: '/other', authority: 'partial:8080' }), { pod, routeConfig: { name: '8080', virtualHosts: [], matched: { name: 'partial.why.svc.cluster.local:8080', routes: [{ name: '', match: '/api*' }] } } });
  assert.match(matched.sentence, /route configuration 8080 the authority partial:8080 selects virtual host partial\.why\.svc\.cluster\.local:8080, and none of its routes \(\/api\*\) matches GET \/other/);
  assert.equal(matched.next, `trellis proxy-config routes ${pod} --name 8080 -o json`);
  const none = explain(entry({ flags: ['NR'], responseCode: 404, authority: 'x.example' }), { pod, routeConfig: { name: '80', virtualHosts: [{ name: 'a:80', domains: ['a', 'a.ns'] }] } });
  assert.match(none.sentence, /no virtual host of route configuration 80 matches the authority x\.example; its virtual hosts are a:80 \[a, a\.ns\]/);
});

test('FI, UT, URX: the VirtualService of the route taken, its fault, timeout, retry policy', () => {
  const route = { name: '', config: vs, timeoutMs: 500, retry: { retryOn: '5xx', numRetries: 2 }, fault: { abortStatus: 418, abortPercent: 100, delayMs: 0 } };
  const fi = explain(entry({ flags: ['FI'], responseCode: 418, details: 'fault_filter_abort' }), { pod, route });
  assert.match(fi.sentence, /VirtualService why\/backend's fault abort 418 for 100% of requests \(route -\) answered 418/);
  const ut = explain(entry({ flags: ['UT'], responseCode: 504, upstreamCluster: C, details: 'upstream_response_timeout' }), { pod, route });
  assert.match(ut.sentence, /did not answer within the route timeout 500ms set by VirtualService why\/backend/);
  const urx = explain(entry({ flags: ['URX'], upstreamCluster: C, details: 'via_upstream' }), { pod, route });
  assert.equal(urx.flagLong, 'UpstreamRetryLimitExceeded');
  assert.match(urx.sentence, /last answer 503, via_upstream\) under 2 retries on 5xx from VirtualService why\/backend/);
});

test('UF: a refused connection by its errno, and retries exhausted beside it', () => {
  const x = explain(entry({ flags: ['UF', 'URX'], upstreamCluster: 'inbound|9999||', upstreamHost: '127.41.1.11:9999', details: 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}' }), { pod });
  assert.equal(x.flag, 'UF');
  assert.match(x.sentence, /connecting to 127\.41\.1\.11:9999 of inbound\|9999\|\|, the connection was refused .* Retries were exhausted too \(URX\)/);
  assert.equal(x.next, `trellis proxy-config endpoints ${pod} --cluster 'inbound|9999||'`);
});

test('RBAC: the AuthorizationPolicy and rule from the details; ALLOW policies that matched nothing', () => {
  const deny = explain(entry({ responseCode: 403, details: 'rbac_access_denied_matched_policy[ns[why]-policy[deny-denied]-rule[0]]' }), { pod: 'server-1.why' });
  assert.equal(deny.flag, '-');
  assert.match(deny.sentence, /AuthorizationPolicy why\/deny-denied \(DENY, rule 0\) matched/);
  assert.equal(deny.next, 'trellis describe pod server-1.why');
  const none = explain(entry({ responseCode: 403, details: 'rbac_access_denied_matched_policy[none]' }), { pod: 'server-1.why' });
  assert.match(none.sentence, /ALLOW policies apply .* none of their rules matched/);
});

test('DC and DPE: the client went away, the client sent a malformed request', () => {
  const dc = explain(entry({ flags: ['DC'], responseCode: 0, details: 'downstream_remote_disconnect', downstreamRemote: '127.0.0.1:5', durationMs: 291 }), { pod });
  assert.match(dc.sentence, /client \(127\.0\.0\.1:5\) closed its connection after 291ms, before the response was sent/);
  const dpe = explain(entry({ flags: ['DPE'], responseCode: 400, details: 'http1.codec_error' }), { pod });
  assert.equal(dpe.flagLong, 'DownstreamProtocolError');
  assert.match(dpe.sentence, /malformed HTTP request \(http1\.codec_error\); the proxy answered 400/);
});

test('an answer the upstream made itself, and a success, are said as such', () => {
  const up = explain(entry({ responseCode: 403, details: 'via_upstream', upstreamCluster: C, upstreamHost: '10.0.0.1:8080' }), { pod });
  assert.match(up.sentence, /answered 403 itself; this proxy passed it on \(the server's sidecar/);
  const ok = explain(entry({ responseCode: 200, details: 'via_upstream' }), { pod });
  assert.equal(ok.sentence, 'Nothing failed here: 200 via_upstream.');
  assert.equal(ok.next, undefined);
});
