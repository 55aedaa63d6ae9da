/** What the proxy's agent reads from the injector: ISTIO_KUBE_APP_PROBERS and ISTIO_PROMETHEUS_ANNOTATIONS, each entry checked on its own. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppProbers } from '../../../src/proxy/agent/app-probers.js';
import { scrapeTargetsFrom } from '../../../src/proxy/agent/app-metrics-config.js';
import { joinMetrics } from '../../../src/proxy/agent/merge-metrics.js';
import { appProbersJson } from '../../../src/inject/app-probes.js';

test('the injector\'s ISTIO_KUBE_APP_PROBERS is read back whole by the agent', () => {
  const json = appProbersJson({
    containers: [{
      name: 'web', ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/r', port: 'http' } }, livenessProbe: { tcpSocket: { port: 9 } }, startupProbe: { grpc: { port: 7 } },
      lifecycle: { preStop: { httpGet: { path: '/stop', port: 8080 } } },
    }],
  }, 15020)!;
  const { probers, errors } = parseAppProbers(json);
  assert.deepEqual(errors, []);
  assert.deepEqual([...probers.keys()].sort(), ['/app-health/web/livez', '/app-health/web/readyz', '/app-health/web/startupz', '/app-lifecycle/web/prestopz']);
  assert.deepEqual(probers.get('/app-health/web/readyz'), { httpGet: { path: '/r', port: 8080 } });
});

test('bad entries are dropped one by one, with their path', () => {
  const { probers, errors } = parseAppProbers(JSON.stringify({
    '/app-health/a/readyz': { httpGet: { port: 80 } },
    '/app-health/b/readyz': { httpGet: { port: 'http' } },
    '/app-health/c/readyz': { httpGet: { port: 80 }, tcpSocket: { port: 80 } },
    '/elsewhere': { tcpSocket: { port: 80 } },
  }));
  assert.deepEqual([...probers.keys()], ['/app-health/a/readyz']);
  assert.equal(errors.length, 3);
  assert.match(errors.join('\n'), /"\/app-health\/b\/readyz".*port number/);
  assert.deepEqual(parseAppProbers('not json').probers.size, 0);
  assert.deepEqual(parseAppProbers(undefined), { probers: new Map(), errors: [] });
});

test('scrape targets: the list when given, else port and path; /metrics when the path is empty; a bad port drops the setting', () => {
  assert.deepEqual(scrapeTargetsFrom(JSON.stringify({ scrape: 'true', port: '9102', path: '' })).targets, [{ port: 9102, path: '/metrics' }]);
  assert.deepEqual(scrapeTargetsFrom(JSON.stringify({ scrape: '', port: '1', path: 'a', targets: [{ port: '1', path: '/a' }, { port: '2', path: '/b' }] })).targets,
    [{ port: 1, path: '/a' }, { port: 2, path: '/b' }]);
  assert.deepEqual(scrapeTargetsFrom(JSON.stringify({ scrape: 'true', path: '/m', port: '' })).targets, []);
  assert.match(scrapeTargetsFrom(JSON.stringify({ port: '70000' })).error ?? '', /bad port/);
});

test('merged metrics: each part ends in a newline, OpenMetrics EOF markers removed', () => {
  assert.equal(joinMetrics(['a 1\n', 'b 2', '# EOF\n', 'c 3\n# EOF\n']), 'a 1\nb 2\nc 3\n');
});
