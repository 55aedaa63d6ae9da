/** networking.istio.io ServiceEntry, WorkloadEntry and Sidecar. */
import { labelsSelector, portNumber, topLevel } from './common.js';
import { arr, enumOf, int, map, obj, opaque, req, str, stringMap, strings, type ObjectSchema } from './schema.js';

const workloadEntrySpec = obj({
  address: str(),
  ports: map(portNumber()),
  labels: stringMap(),
  network: str(),
  locality: str(),
  weight: int(0),
  serviceAccount: str(),
});

const serviceEntrySpec = obj({
  hosts: req(strings()),
  addresses: strings(),
  ports: arr(obj({ number: req(portNumber()), protocol: str(), name: req(str()), targetPort: portNumber() })),
  location: enumOf('MESH_EXTERNAL', 'MESH_INTERNAL'),
  resolution: enumOf('NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'),
  endpoints: arr(workloadEntrySpec),
  workloadSelector: labelsSelector(),
  exportTo: strings(),
  subjectAltNames: strings(),
});

const sidecarPort = obj({ number: portNumber(), protocol: str(), name: str(), targetPort: portNumber() });
const captureMode = enumOf('DEFAULT', 'IPTABLES', 'NONE');

const sidecarSpec = obj({
  workloadSelector: labelsSelector(),
  ingress: arr(
    obj({
      port: req(sidecarPort),
      bind: str(),
      captureMode,
      defaultEndpoint: str(),
      // ServerTLSSettings and ConnectionPoolSettings: accepted, not used by Trellis yet.
      tls: opaque(),
      connectionPool: opaque(),
    }),
  ),
  egress: arr(obj({ port: sidecarPort, bind: str(), captureMode, hosts: req(strings()) })),
  inboundConnectionPool: opaque(),
  outboundTrafficPolicy: obj({ mode: enumOf('REGISTRY_ONLY', 'ALLOW_ANY'), egressProxy: opaque() }),
});

export const serviceEntrySchema: ObjectSchema = topLevel({ spec: req(serviceEntrySpec) });
export const workloadEntrySchema: ObjectSchema = topLevel({ spec: req(workloadEntrySpec) });
// An empty Sidecar is meaningful (namespace-wide defaults), so spec may be absent.
export const sidecarSchema: ObjectSchema = topLevel({ spec: sidecarSpec });
