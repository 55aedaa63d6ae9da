/**
 * Istio's annotation checks (pkg/kube/inject/validate.go): a pod whose
 * injection annotations are malformed is refused, with every problem named,
 * rather than injected with capture rules nobody asked for.
 */
import { isIP } from 'node:net';
import { parse } from 'yaml';
import { parseCidr } from '../iptables/cidr.js';
import { ANNOTATION } from './names.js';
import { parseQuantity } from './quantity.js';

type Check = (value: string) => string | undefined;

const GO_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool, which Istio uses for boolean annotations. */
export function parseGoBool(v: string): boolean | undefined {
  if (!GO_BOOLS.has(v)) return undefined;
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v);
}

function port(p: string): string | undefined {
  const s = p.trim();
  return /^\d+$/.test(s) && Number(s) <= 65535 ? undefined : `failed parsing port '${p}'`;
}

/** A comma-separated port list (empty allowed), as Istio's parsePorts. */
export function portListError(v: string): string | undefined {
  if (v.trim() === '') return undefined;
  for (const p of v.trim().split(',')) {
    const e = port(p);
    if (e) return e;
  }
  return undefined;
}

/** A comma-separated CIDR list (empty allowed), as Istio's validateCIDRList (netip.ParsePrefix: no spaces, a prefix length). */
export function cidrListError(v: string): string | undefined {
  if (v === '') return undefined;
  for (const c of v.split(',')) {
    const slash = c.indexOf('/');
    if (slash < 0 || isIP(c.slice(0, slash)) === 0 || !parseCidr(c)) return `failed parsing cidr '${c}'`;
  }
  return undefined;
}

function interfacesError(v: string): string | undefined {
  for (const name of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (name.length > 15 || /[\s/]/.test(name) || name === '.' || name === '..') return `invalid interface name '${name}'`;
  }
  return undefined;
}

const uint32: Check = (v) => (/^\d+$/.test(v) && Number(v) <= 0xffffffff ? undefined : 'not an unsigned 32-bit integer');
const bool: Check = (v) => (parseGoBool(v) === undefined ? 'not a boolean' : undefined);
const quantity: Check = (v) => (/\p{Cc}/u.test(v) ? 'value contains control characters' : parseQuantity(v) === undefined ? 'not a resource quantity' : undefined);

const CHECKS: Record<string, Check> = {
  [ANNOTATION.interceptionMode]: (v) => (['REDIRECT', 'TPROXY', 'NONE'].includes(v) ? undefined : `interceptionMode invalid, use REDIRECT,TPROXY,NONE: ${v}`),
  [ANNOTATION.statusPort]: (v) => (port(v) ? `statusPort invalid: ${port(v)}` : undefined),
  [ANNOTATION.readinessInitialDelay]: uint32,
  [ANNOTATION.readinessPeriod]: uint32,
  [ANNOTATION.readinessFailureThreshold]: uint32,
  [ANNOTATION.includeOutboundIpRanges]: (v) => (v === '*' ? undefined : prefixed('includeIPRanges', cidrListError(v))),
  [ANNOTATION.excludeOutboundIpRanges]: (v) => prefixed('excludeIPRanges', cidrListError(v)),
  [ANNOTATION.includeInboundPorts]: (v) => (v === '*' ? undefined : prefixed('includeInboundPorts', portListError(v))),
  [ANNOTATION.excludeInboundPorts]: (v) => prefixed('excludeInboundPorts', portListError(v)),
  [ANNOTATION.excludeOutboundPorts]: (v) => prefixed('excludeOutboundPorts', portListError(v)),
  [ANNOTATION.excludeInterfaces]: interfacesError,
  [ANNOTATION.kubevirtInterfaces]: interfacesError,
  [ANNOTATION.rerouteVirtualInterfaces]: interfacesError,
  [ANNOTATION.prometheusMerge]: bool,
  [ANNOTATION.proxyConfig]: (v) => {
    try {
      const doc: unknown = parse(v);
      return doc === null || (typeof doc === 'object' && !Array.isArray(doc)) ? undefined : 'not a ProxyConfig mapping';
    } catch (err) {
      return `failed to convert to apply proxy config: ${(err as Error).message.split('\n')[0]}`;
    }
  },
  [ANNOTATION.proxyCpu]: quantity,
  [ANNOTATION.proxyMemory]: quantity,
  [ANNOTATION.proxyCpuLimit]: quantity,
  [ANNOTATION.proxyMemoryLimit]: quantity,
};

function prefixed(what: string, e: string | undefined): string | undefined {
  return e === undefined ? undefined : `${what} invalid: ${e}`;
}

/** Every malformed injection annotation, in Istio's words ("invalid value 'x' for annotation 'name': reason"); empty when all are fine. */
export function annotationErrors(annotations: Readonly<Record<string, string>> | undefined): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(annotations ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const e = CHECKS[name]?.(value);
    if (e !== undefined) out.push(`invalid value '${value}' for annotation '${name}': ${e}`);
  }
  return out;
}
