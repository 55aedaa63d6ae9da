import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrellisError } from '../errors.js';

interface InstallFlags {
  namespace: string;
  webhookFailurePolicy: string;
  image: string;
  replicas: string;
  caCert?: string;
  caDir?: string;
}

/** `trellis install` / `trellis uninstall`: print manifests for `kubectl apply -f -` / `kubectl delete -f -`. */
export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('print the manifests that install Trellis on a Kubernetes cluster (pipe to kubectl apply -f -)')
    .option('--namespace <ns>', 'the control plane\'s namespace', 'istio-system')
    .option('--webhook-failure-policy <Fail|Ignore>', 'what the API server does with a pod when the injection webhook cannot be reached', 'Fail')
    .option('--image <image>', 'the Trellis image (control plane, proxy and init container)', 'trellis:0.1.0')
    .option('--replicas <n>', 'control plane replicas', '2')
    .option('--ca-cert <file>', 'the mesh root (PEM) for the webhook\'s caBundle (else the leader sets it at run time)')
    .option('--ca-dir <dir>', 'take the caBundle from DIR/root-cert.pem')
    .action(async (f: InstallFlags) => {
      if (f.webhookFailurePolicy !== 'Fail' && f.webhookFailurePolicy !== 'Ignore') {
        throw new TrellisError('CLI_USAGE', `--webhook-failure-policy must be Fail or Ignore, not ${f.webhookFailurePolicy}`);
      }
      const replicas = Number(f.replicas);
      if (!Number.isInteger(replicas) || replicas < 1) throw new TrellisError('CLI_USAGE', `--replicas: not a positive integer: ${f.replicas}`);
      const caFile = f.caCert ?? (f.caDir !== undefined ? join(f.caDir, 'root-cert.pem') : undefined);
      const caBundlePem = caFile === undefined ? undefined : readCa(caFile);
      const [{ installManifests }, { renderYaml }] = await Promise.all([import('../install/manifests.js'), import('../install/render.js')]);
      process.stdout.write(renderYaml(installManifests({
        namespace: f.namespace, failurePolicy: f.webhookFailurePolicy, image: f.image, replicas, ...(caBundlePem ? { caBundlePem } : {}),
      })));
    });

  program
    .command('uninstall')
    .description('print what to delete to remove Trellis from a cluster (pipe to kubectl delete -f -)')
    .option('--namespace <ns>', 'the control plane\'s namespace', 'istio-system')
    .option('--purge', 'also the Istio CRDs (and every object of them), the namespace, the CA Secret and the leader Lease')
    .action(async (f: { namespace: string; purge?: boolean }) => {
      const [{ uninstallManifests }, { renderYaml }] = await Promise.all([import('../install/manifests.js'), import('../install/render.js')]);
      process.stdout.write(renderYaml(uninstallManifests({ namespace: f.namespace, purge: f.purge === true })));
    });
}

function readCa(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TrellisError('IO', `cannot read the CA certificate ${file}`, { cause: err });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new TrellisError('CLI_USAGE', `${file} holds no PEM certificate`);
  return pem;
}
