/**
 * HTTP upgrades as Envoy decides them (HttpConnectionManager.upgrade_configs,
 * RouteAction.upgrade_configs): which requests are upgrades, and whether the
 * route lets this one through. Pure: compiled when the HCM or the route
 * arrives, asked only for requests that carry an Upgrade header or CONNECT.
 */
import type { HttpConnectionManager_UpgradeConfig } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { RouteAction_UpgradeConfig } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import type { HeaderMap } from './h1/head.js';

/** Upgrade type (lower case; CONNECT is "connect") → enabled. */
export type UpgradeMap = ReadonlyMap<string, boolean>;

/** A route's upgrade_configs: enabled per type, and which types terminate CONNECT (connect_config). */
export interface RouteUpgrades {
  enabled: UpgradeMap;
  terminateConnect: boolean;
}

export const NO_UPGRADES: UpgradeMap = new Map();

/** The HCM's upgrade_configs. Custom upgrade filter chains are refused: running the default chain instead would ignore them. */
export function compileHcmUpgrades(configs: readonly HttpConnectionManager_UpgradeConfig[], path: string, errors: string[]): UpgradeMap {
  if (configs.length === 0) return NO_UPGRADES;
  const out = new Map<string, boolean>();
  configs.forEach((c, i) => {
    const p = `${path}.upgradeConfigs[${i}]`;
    const type = c.upgradeType.toLowerCase();
    if (!type) errors.push(`${p}.upgradeType: missing`);
    // Envoy refuses the HCM too ("multiple upgrade configs with the same name").
    else if (out.has(type)) errors.push(`${p}.upgradeType: ${JSON.stringify(c.upgradeType)} configured twice`);
    if (c.filters.length > 0) errors.push(`${p}.filters: custom upgrade filter chains are not supported`);
    out.set(type, c.enabled ?? true);
  });
  return out;
}

/** A route's upgrade_configs; connect_config only on CONNECT, and only its default form (no PROXY protocol, no POST). */
export function compileRouteUpgrades(configs: readonly RouteAction_UpgradeConfig[], path: string, errors: string[]): RouteUpgrades | undefined {
  if (configs.length === 0) return undefined;
  const enabled = new Map<string, boolean>();
  let terminateConnect = false;
  configs.forEach((c, i) => {
    const p = `${path}.upgradeConfigs[${i}]`;
    const type = c.upgradeType.toLowerCase();
    if (!type) errors.push(`${p}.upgradeType: missing`);
    else if (enabled.has(type)) errors.push(`${p}.upgradeType: ${JSON.stringify(c.upgradeType)} configured twice`);
    enabled.set(type, c.enabled ?? true);
    const cc = c.connectConfig;
    if (!cc) return;
    if (type !== 'connect') errors.push(`${p}.connectConfig: only for upgrade type CONNECT`);
    if (cc.proxyProtocolConfig) errors.push(`${p}.connectConfig.proxyProtocolConfig: not supported`);
    if (cc.allowPost) errors.push(`${p}.connectConfig.allowPost: not supported`);
    terminateConnect = true;
  });
  return { enabled, terminateConnect };
}

function hasToken(v: string | string[] | undefined, token: string): boolean {
  if (v === undefined) return false;
  const s = (Array.isArray(v) ? v.join(',') : v).toLowerCase();
  if (!s.includes(token)) return false;
  return s.split(',').some((t) => t.trim() === token);
}

/**
 * The upgrade a request asks for (lower case), or undefined: an Upgrade header
 * named in Connection (Envoy's Utility::isUpgrade — an Upgrade without it is a
 * hop-by-hop header and dropped), or the CONNECT method ("connect").
 */
export function requestedUpgrade(method: string | undefined, headers: HeaderMap): string | undefined {
  if (method === 'CONNECT') return 'connect';
  const u = headers.upgrade;
  if (typeof u !== 'string' || !hasToken(headers.connection, 'upgrade')) return undefined;
  return u.toLowerCase();
}

/**
 * Envoy's table: a route that names the type decides (enabled or not);
 * otherwise the HCM's config for the type, and no config means refused.
 */
export function upgradeAllowed(type: string, hcm: UpgradeMap, route: RouteUpgrades | undefined): boolean {
  const r = route?.enabled.get(type);
  if (r !== undefined) return r;
  return hcm.get(type) === true;
}
