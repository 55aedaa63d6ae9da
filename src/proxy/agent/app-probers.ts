/**
 * ISTIO_KUBE_APP_PROBERS: the app containers' original probes, which the
 * injector rewrote to go through the proxy's status port
 * (/app-health/CONTAINER/readyz|livez|startupz and
 * /app-lifecycle/CONTAINER/prestopz|poststartz). The injector writes it
 * (src/inject/app-probes.ts), the agent reads it here; both sides share
 * these types. Validation collects every problem with its path, and a bad
 * entry is dropped, not the whole set. Pure.
 */

export interface HttpGetProbe {
  path?: string;
  port: number;
  host?: string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

/** One original probe: exactly one action, and the probe's timeout. */
export interface AppProber {
  httpGet?: HttpGetProbe;
  tcpSocket?: { port: number; host?: string };
  grpc?: { port: number; service?: string };
  timeoutSeconds?: number;
}

const PATH = /^\/app-(?:health\/[^/]+\/(?:readyz|livez|startupz)|lifecycle\/[^/]+\/(?:prestopz|poststartz))$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;

function proberError(p: unknown): string | undefined {
  if (!isObject(p)) return 'not an object';
  const actions = (['httpGet', 'tcpSocket', 'grpc'] as const).filter((a) => p[a] !== undefined);
  if (actions.length !== 1) return 'exactly one of httpGet, tcpSocket, grpc is needed';
  const action = p[actions[0]!];
  if (!isObject(action)) return `${actions[0]} is not an object`;
  if (!isPort(action.port)) return `${actions[0]}.port must be a port number (named ports are resolved by the injector)`;
  if (action.host !== undefined && typeof action.host !== 'string') return `${actions[0]}.host must be a string`;
  if (actions[0] === 'httpGet') {
    if (action.path !== undefined && typeof action.path !== 'string') return 'httpGet.path must be a string';
    if (action.scheme !== undefined && action.scheme !== 'HTTP' && action.scheme !== 'HTTPS') return 'httpGet.scheme must be HTTP or HTTPS';
    const headers = action.httpHeaders;
    if (headers !== undefined && !(Array.isArray(headers) && headers.every((h) => isObject(h) && typeof h.name === 'string' && typeof h.value === 'string'))) {
      return 'httpGet.httpHeaders must be a list of {name, value}';
    }
  }
  if (p.timeoutSeconds !== undefined && !(typeof p.timeoutSeconds === 'number' && p.timeoutSeconds >= 0)) return 'timeoutSeconds must be a non-negative number';
  return undefined;
}

/** The probers by path, and every entry that was dropped and why. */
export function parseAppProbers(json: string | undefined): { probers: Map<string, AppProber>; errors: string[] } {
  const probers = new Map<string, AppProber>();
  if (json === undefined || json.trim() === '') return { probers, errors: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    return { probers, errors: [`ISTIO_KUBE_APP_PROBERS is not JSON: ${(err as Error).message}`] };
  }
  if (!isObject(doc)) return { probers, errors: ['ISTIO_KUBE_APP_PROBERS is not a JSON object of path → probe'] };
  const errors: string[] = [];
  for (const [path, p] of Object.entries(doc)) {
    const e = PATH.test(path) ? proberError(p) : 'not an /app-health/CONTAINER/(readyz|livez|startupz) or /app-lifecycle/CONTAINER/(prestopz|poststartz) path';
    if (e) errors.push(`ISTIO_KUBE_APP_PROBERS[${JSON.stringify(path)}]: ${e}`);
    else probers.set(path, p as AppProber);
  }
  return { probers, errors };
}
