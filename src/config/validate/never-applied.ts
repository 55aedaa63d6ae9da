/**
 * The Istio kinds Trellis knows but never applies — EnvoyFilter, WasmPlugin,
 * ProxyConfig, and Mixer's retired QuotaSpec — validated structurally (their
 * top-level fields and enums), so a typo is still reported; what they would
 * patch or load (Envoy config, Wasm modules) is accepted as it is.
 */
import { portNumber, topLevel } from './common.js';
import { arr, enumOf, int, map, obj, opaque, req, str, stringMap, type ObjectSchema } from './schema.js';
import { oneSelectorCheck } from './authz-checks.js';
import { targetRef, workloadSelector } from './security.js';

const applyTo = enumOf(
  'INVALID', 'LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'ROUTE_CONFIGURATION', 'VIRTUAL_HOST',
  'HTTP_ROUTE', 'CLUSTER', 'EXTENSION_CONFIG', 'BOOTSTRAP', 'LISTENER_FILTER',
);
const operation = enumOf('INVALID', 'MERGE', 'ADD', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST', 'REPLACE');

const configPatch = obj({
  applyTo,
  // Istio's own test data carries fields here its API lacks (match.app): never applied, so not policed.
  match: opaque(),
  patch: obj({ operation, value: opaque(), filterClass: enumOf('UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS') }),
});

const envoyFilterSpec = obj({
  workloadSelector: obj({ labels: stringMap() }),
  targetRefs: arr(targetRef()),
  configPatches: arr(configPatch),
  priority: int(),
  // Removed from the API in Istio 1.x, still in old manifests (Istio's deprecation analyzer reports them).
  workloadLabels: stringMap(),
  filters: opaque(),
});

const wasmPluginSpec = obj(
  {
    selector: workloadSelector(),
    targetRef: targetRef(),
    targetRefs: arr(targetRef()),
    url: req(str({ check: (s) => (s === '' ? 'url field needs to be set' : undefined) })),
    sha256: str(),
    imagePullPolicy: enumOf('UNSPECIFIED_POLICY', 'IfNotPresent', 'Always'),
    imagePullSecret: str(),
    verificationKey: str(),
    pluginConfig: opaque(),
    pluginName: str(),
    phase: enumOf('UNSPECIFIED_PHASE', 'AUTHN', 'AUTHZ', 'STATS'),
    priority: int(),
    failStrategy: enumOf('FAIL_CLOSE', 'FAIL_OPEN'),
    vmConfig: opaque(),
    match: arr(obj({ mode: enumOf('UNDEFINED', 'CLIENT', 'SERVER', 'CLIENT_AND_SERVER'), ports: arr(obj({ number: req(portNumber()) })) })),
    type: enumOf('UNSPECIFIED_PLUGIN_TYPE', 'HTTP', 'NETWORK'),
  },
  oneSelectorCheck,
);

const proxyConfigSpec = obj({
  selector: workloadSelector(),
  concurrency: int(0),
  environmentVariables: map(str()),
  image: obj({ imageType: str() }),
});

export const envoyFilterSchema: ObjectSchema = topLevel({ spec: envoyFilterSpec });
export const wasmPluginSchema: ObjectSchema = topLevel({ spec: req(wasmPluginSpec) });
export const proxyConfigSchema: ObjectSchema = topLevel({ spec: proxyConfigSpec });
/** Mixer's quota configuration, retired with Mixer in Istio 1.8: nothing reads it, so nothing of it is checked. */
export const quotaSpecSchema: ObjectSchema = topLevel({ spec: opaque() });
