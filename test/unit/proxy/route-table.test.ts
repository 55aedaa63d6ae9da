import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { compileRouteConfig, type RouteTable } from '../../../src/proxy/router/route-table.js';
import type { RequestView } from '../../../src/proxy/router/route-match.js';
import { rewritePath } from '../../../src/proxy/router/upstream-headers.js';

const route = (name: string, match: Record<string, unknown>, cluster = name) => ({
  name,
  match,
  action: { case: 'route' as const, value: { clusterSpecifier: { case: 'cluster' as const, value: cluster } } },
});
const prefix = (p: string) => ({ pathSpecifier: { case: 'prefix' as const, value: p } });

function table(virtualHosts: unknown[]): RouteTable {
  const r = compileRouteConfig(create(RouteConfigurationSchema, { name: 'rc', virtualHosts } as never));
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.table;
}

const view = (path: string, headers: Record<string, string> = {}, query = ''): RequestView => ({ path, query, headers });

describe('route table: virtual host domains (Envoy order)', () => {
  const t = table([
    { name: 'exact', domains: ['api.example.com'], routes: [route('exact', prefix('/'))] },
    { name: 'suffix-long', domains: ['*.api.example.com'], routes: [route('suffix-long', prefix('/'))] },
    { name: 'suffix', domains: ['*.example.com'], routes: [route('suffix', prefix('/'))] },
    { name: 'prefix', domains: ['api.*'], routes: [route('prefix', prefix('/'))] },
    { name: 'any', domains: ['*'], routes: [route('any', prefix('/'))] },
  ]);
  const cases: Array<[string, string]> = [
    ['api.example.com', 'exact'],
    ['API.Example.com', 'exact'],
    ['v1.api.example.com', 'suffix-long'],
    ['www.example.com', 'suffix'],
    ['api.other.org', 'prefix'],
    ['other.org', 'any'],
    ['api.example.com:8080', 'prefix'],
  ];
  for (const [authority, want] of cases) {
    test(`${authority} → ${want}`, () => assert.equal(t.virtualHost(authority)?.name, want));
  }
});

describe('route table: matches', () => {
  const t = table([{
    name: 'vh',
    domains: ['*'],
    routes: [
      route('exact', { pathSpecifier: { case: 'path', value: '/exact' } }),
      route('regex', { pathSpecifier: { case: 'safeRegex', value: { regex: '/r/[a-z]+' } } }),
      route('re2-spelling', { pathSpecifier: { case: 'safeRegex', value: { regex: '(?i)/re2/(?P<id>[a-z]+)' } } }),
      route('hdr-present', { ...prefix('/h'), headers: [{ name: 'X-Flag', headerMatchSpecifier: { case: 'presentMatch', value: true } }] }),
      route('hdr-invert', { ...prefix('/h'), headers: [{ name: 'x-env', headerMatchSpecifier: { case: 'exactMatch', value: 'prod' }, invertMatch: true }] }),
      route('query', { ...prefix('/q'), queryParameters: [{ name: 'v', queryParameterMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: '2' } } } }] }),
      route('ci', { pathSpecifier: { case: 'prefix', value: '/CASE' }, caseSensitive: false }),
      route('fallback', prefix('/')),
    ],
  }]);
  const r = (v: RequestView) => t.route('any', v)?.name;
  test('path exact vs prefix', () => {
    assert.equal(r(view('/exact')), 'exact');
    assert.equal(r(view('/exact/more')), 'fallback');
  });
  test('safe_regex is anchored', () => {
    assert.equal(r(view('/r/abc')), 'regex');
    assert.equal(r(view('/r/abc1')), 'fallback');
  });
  test('RE2 spellings JS lacks (leading inline flags, (?P<name>) are accepted, as istiod sends them', () => {
    assert.equal(r(view('/RE2/Abc')), 're2-spelling');
  });
  test('headers: present and inverted exact', () => {
    assert.equal(r(view('/h', { 'x-flag': '' })), 'hdr-present');
    assert.equal(r(view('/h', { 'x-env': 'prod' })), 'fallback');
    assert.equal(r(view('/h', { 'x-env': 'dev' })), 'hdr-invert');
  });
  test('query parameter', () => {
    assert.equal(r(view('/q', {}, 'v=2&x=1')), 'query');
    assert.equal(r(view('/q', {}, 'v=3')), 'fallback');
  });
  test('case-insensitive prefix', () => assert.equal(r(view('/case/x')), 'ci'));
});

describe('route table: validation collects every error with its path', () => {
  test('invalid regexes, missing action, zero weights', () => {
    const r = compileRouteConfig(create(RouteConfigurationSchema, {
      name: 'bad',
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [
            route('r0', { pathSpecifier: { case: 'safeRegex', value: { regex: '(' } } }),
            { name: 'r1', match: prefix('/') },
            { name: 'r2', match: { ...prefix('/'), headers: [{ name: 'x', headerMatchSpecifier: { case: 'safeRegexMatch', value: { regex: '[' } } }] }, action: { case: 'route', value: { clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'a', weight: 0 }] } } } } },
          ],
        },
        { name: 'nodomains', domains: [], routes: [] },
      ],
    } as never));
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.errors;
    assert.match(errors[0], /^virtualHosts\[0\]\.routes\[0\]\.match\.safeRegex\.regex: invalid regex "\(":/);
    assert.ok(errors.includes('virtualHosts[0].routes[1].action: unsupported or missing (unset)'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('virtualHosts[0].routes[2].match.headers[0].safeRegexMatch.regex: invalid regex')));
    assert.ok(errors.includes('virtualHosts[0].routes[2].route.weightedClusters: total weight is 0'));
    assert.ok(errors.includes('virtualHosts[1].domains: empty'));
  });
  test('backreferences and lookaround are not RE2: refused, as Envoy refuses them', () => {
    for (const regex of ['/(a+)\\1', '/(?=a)a+', '/(?<!b)a']) {
      const r = compileRouteConfig(create(RouteConfigurationSchema, { name: 'rc', virtualHosts: [{ name: 'vh', domains: ['*'], routes: [route('x', { pathSpecifier: { case: 'safeRegex', value: { regex } } })] }] } as never));
      assert.equal(r.ok, false, regex);
      assert.match(r.ok ? '' : r.errors[0]!, /safeRegex\.regex: invalid regex .* is not RE2 syntax/);
    }
  });
});

describe('route table: what Gateway API routes use (issue 13)', () => {
  const t = table([{
    name: 'vh',
    domains: ['*'],
    routes: [
      { name: 'seg', match: { pathSpecifier: { case: 'pathSeparatedPrefix', value: '/api' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' }, prefixRewrite: '/v2', clusterNotFoundResponseCode: 2 } } },
      { name: 'moved', match: prefix('/old'), action: { case: 'redirect', value: { hostRedirect: 'new.example', portRedirect: 8443, schemeRewriteSpecifier: { case: 'schemeRedirect', value: 'https' } } } },
      route('plain', prefix('/')),
    ],
  }]);

  test('path_separated_prefix matches whole segments, and prefix_rewrite replaces what it matched', () => {
    assert.equal(t.route('any', view('/api'))?.name, 'seg');
    assert.equal(t.route('any', view('/api/x'))?.name, 'seg');
    assert.equal(t.route('any', view('/apix'))?.name, 'plain');
    const a = t.route('any', view('/api/x'))!.action;
    assert.ok(a.kind === 'forward');
    assert.equal(rewritePath('/api/x?q=1', a, {}), '/v2/x?q=1');
  });

  test('cluster_not_found_response_code is compiled (INTERNAL_SERVER_ERROR → 500; unset → 503)', () => {
    const seg = t.route('any', view('/api'))!.action;
    const plain = t.route('any', view('/other'))!.action;
    assert.ok(seg.kind === 'forward' && plain.kind === 'forward');
    assert.equal(seg.clusterNotFoundStatus, 500);
    assert.equal(plain.clusterNotFoundStatus, 503);
  });

  test('port_redirect is compiled with the redirect', () => {
    assert.deepEqual(t.route('any', view('/old'))!.action, { kind: 'redirect', status: 301, host: 'new.example', path: '', scheme: 'https', port: 8443 });
  });
});
