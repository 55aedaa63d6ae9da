/** Envoy's upgrade rules, pure: which requests are upgrades, the HCM/route table, and what config is refused (NACK). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { HttpConnectionManager_UpgradeConfigSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouteAction_UpgradeConfigSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { compileHcmUpgrades, compileRouteUpgrades, requestedUpgrade, upgradeAllowed } from '../../../src/proxy/codec/upgrade-policy.js';

const hcmCfg = (upgradeType: string, o: { enabled?: boolean; filters?: boolean } = {}) =>
  create(HttpConnectionManager_UpgradeConfigSchema, { upgradeType, enabled: o.enabled, filters: o.filters ? [{ name: 'envoy.filters.http.router' }] : [] });
const routeCfg = (upgradeType: string, o: { enabled?: boolean; connect?: { allowPost?: boolean } } = {}) =>
  create(RouteAction_UpgradeConfigSchema, { upgradeType, enabled: o.enabled, connectConfig: o.connect });

describe('requestedUpgrade', () => {
  test('an Upgrade named in Connection (any case, among other tokens), or CONNECT', () => {
    assert.equal(requestedUpgrade('GET', { connection: 'Upgrade', upgrade: 'WebSocket' }), 'websocket');
    assert.equal(requestedUpgrade('GET', { connection: 'keep-alive, upgrade', upgrade: 'websocket' }), 'websocket');
    assert.equal(requestedUpgrade('CONNECT', { host: 'a:443' }), 'connect');
  });
  test('an Upgrade without Connection: upgrade is no upgrade (Envoy drops it as hop-by-hop)', () => {
    assert.equal(requestedUpgrade('GET', { upgrade: 'websocket' }), undefined);
    assert.equal(requestedUpgrade('GET', { connection: 'close', upgrade: 'websocket' }), undefined);
    assert.equal(requestedUpgrade('GET', { connection: 'upgraded', upgrade: 'websocket' }), undefined);
    assert.equal(requestedUpgrade('GET', { connection: 'upgrade' }), undefined);
  });
});

describe('upgradeAllowed: Envoy\'s HCM × route table', () => {
  const errors: string[] = [];
  const hcmOn = compileHcmUpgrades([hcmCfg('WebSocket')], 'hcm', errors);
  const hcmOff = compileHcmUpgrades([hcmCfg('websocket', { enabled: false })], 'hcm', errors);
  const none = compileHcmUpgrades([], 'hcm', errors);
  const routeOn = compileRouteUpgrades([routeCfg('websocket')], 'r', errors);
  const routeOff = compileRouteUpgrades([routeCfg('websocket', { enabled: false })], 'r', errors);
  test('compiles without errors', () => assert.deepEqual(errors, []));
  test('HCM enabled (the default): the route decides when it names the type', () => {
    assert.equal(upgradeAllowed('websocket', hcmOn, undefined), true);
    assert.equal(upgradeAllowed('websocket', hcmOn, routeOn), true);
    assert.equal(upgradeAllowed('websocket', hcmOn, routeOff), false);
  });
  test('HCM disabled or without the type: only a route enabling it lets it through', () => {
    assert.equal(upgradeAllowed('websocket', hcmOff, undefined), false);
    assert.equal(upgradeAllowed('websocket', hcmOff, routeOn), true);
    assert.equal(upgradeAllowed('websocket', none, undefined), false);
    assert.equal(upgradeAllowed('websocket', none, routeOn), true);
  });
  test('other types and CONNECT are refused unless configured', () => {
    assert.equal(upgradeAllowed('h2c', hcmOn, routeOn), false);
    assert.equal(upgradeAllowed('connect', hcmOn, undefined), false);
    assert.equal(upgradeAllowed('connect', compileHcmUpgrades([hcmCfg('CONNECT')], 'h', []), undefined), true);
  });
});

describe('what cannot be honoured is NACKed with its path', () => {
  test('HCM: custom upgrade filter chains, a type twice, an empty type', () => {
    const errors: string[] = [];
    compileHcmUpgrades([hcmCfg('websocket', { filters: true }), hcmCfg('WEBSOCKET'), hcmCfg('')], 'hcm', errors);
    assert.deepEqual(errors, [
      'hcm.upgradeConfigs[0].filters: custom upgrade filter chains are not supported',
      'hcm.upgradeConfigs[1].upgradeType: "WEBSOCKET" configured twice',
      'hcm.upgradeConfigs[2].upgradeType: missing',
    ]);
  });
  test('route: connect_config on another type, or with allow_post', () => {
    const errors: string[] = [];
    compileRouteUpgrades([routeCfg('websocket', { connect: {} }), routeCfg('CONNECT', { connect: { allowPost: true } })], 'r', errors);
    assert.deepEqual(errors, ['r.upgradeConfigs[0].connectConfig: only for upgrade type CONNECT', 'r.upgradeConfigs[1].connectConfig.allowPost: not supported']);
  });
  test('route: CONNECT with connect_config terminates', () => {
    const errors: string[] = [];
    assert.equal(compileRouteUpgrades([routeCfg('CONNECT', { connect: {} })], 'r', errors)?.terminateConnect, true);
    assert.equal(compileRouteUpgrades([routeCfg('CONNECT')], 'r', errors)?.terminateConnect, false);
    assert.deepEqual(errors, []);
  });
});
