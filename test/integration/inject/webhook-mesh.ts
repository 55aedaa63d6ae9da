/**
 * A real `trellis controlplane` with its CA and the injection webhook, on a
 * config directory holding the namespaces the webhook tests inject into
 * (their labels are what the decision reads). Everything lives in a temp
 * directory that stop() removes.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

export const NAMESPACES: Record<string, Record<string, string>> = {
  'mesh-on': { 'istio-injection': 'enabled' },
  'mesh-off': { 'istio-injection': 'disabled' },
  plain: {},
  'rev-default': { 'istio.io/rev': 'default' },
  'rev-canary': { 'istio.io/rev': 'canary' },
  'kube-system': { 'istio-injection': 'enabled' },
  'istio-system': { 'istio-injection': 'enabled' },
};

const CONFIG = `${Object.entries(NAMESPACES).map(([name, labels]) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels: {${Object.entries(labels).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}
`).join('---\n')}---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: mesh-on
spec:
  selector: { app: web }
  ports:
  - name: http
    port: 80
    targetPort: 8080
`;

export interface WebhookMesh {
  work: string;
  caDir: string;
  rootPem: string;
  webhook: string;
  ca: string;
  xds: string;
  cp: TrellisProcess;
  stop(): Promise<void>;
}

export async function startWebhookMesh(): Promise<WebhookMesh> {
  const work = await mkdtemp(join(tmpdir(), 'trellis-inject-'));
  const caDir = join(work, 'ca');
  await mkdir(join(work, 'config'));
  await writeFile(join(work, 'config', 'mesh.yaml'), CONFIG);
  const cp = new TrellisProcess(['controlplane', '--config-dir', join(work, 'config'), '--xds-port', '0', '--debug-port', '0',
    '--ca-port', '0', '--ca-dir', caDir, '--webhook-port', '0'], { TRELLIS_LOG: 'warn' });
  try {
    const ready = jsonLine<{ xds: string; ca?: string; webhook?: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined, 20_000))!;
    if (!ready.webhook || !ready.ca) throw new Error(`the start line names no webhook or CA: ${JSON.stringify(ready)}`);
    const rootPem = await readFile(join(caDir, 'root-cert.pem'), 'utf8');
    return {
      work, caDir, rootPem, webhook: ready.webhook, ca: ready.ca, xds: ready.xds, cp,
      async stop() {
        await cp.stop();
        await rm(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await cp.stop();
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}
