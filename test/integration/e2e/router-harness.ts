/**
 * A real control plane on a config directory and a real `trellis proxy` as
 * an ingress gateway's router (node type `router`, the gateway pod's
 * labels), both on loopback with free ports: what the gateway end-to-end
 * tests start. The caller stops both in `after`; a start that fails half
 * way stops what it started before it throws.
 */
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

export interface RouterMesh {
  cp: TrellisProcess;
  proxy: TrellisProcess | undefined;
}

export async function startRouterMesh(configDir: string, labels: Record<string, string>, pod = 'istio-ingressgateway-7f9c', cpArgs: string[] = []): Promise<RouterMesh> {
  const mesh: RouterMesh = { cp: new TrellisProcess(['controlplane', '--config-dir', configDir, '--xds-port', '0', '--debug-port', '0', ...cpArgs]), proxy: undefined };
  try {
    const ready = jsonLine<{ xds: string }>(await mesh.cp.waitForLine((l) => jsonLine(l)?.xds !== undefined, 20_000))!;
    mesh.proxy = new TrellisProcess(
      ['proxy', '--xds-address', ready.xds, '--node-id', `router~127.0.0.1~${pod}.istio-system~istio-system.svc.cluster.local`, '--admin-port', '0', '--drain-seconds', '0'],
      { ISTIO_META_LABELS: JSON.stringify(labels) },
    );
    await mesh.proxy.waitForLine((l) => l.includes('admin listening'), 20_000);
    return mesh;
  } catch (err) {
    await mesh.proxy?.stop();
    await mesh.cp.stop();
    throw err;
  }
}

/** backend.shop.test:80 as a MESH_INTERNAL ServiceEntry in `namespace`, its one endpoint the test's server on 127.0.0.1:`port`. */
export function backendServiceEntry(namespace: string, port: number): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: backend, namespace: ${namespace}}
spec:
  hosts: [backend.shop.test]
  location: MESH_INTERNAL
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {http: ${port}}}]
`;
}
