#!/usr/bin/env node
import { Command } from 'commander';
import { describeError } from '../errors.js';
import { registerControlplane } from './controlplane.js';
import { registerDemo } from './demo.js';
import { registerIptables } from './iptables.js';
import { registerProxy } from './proxy.js';
import { registerProxyStatus } from './proxy-status.js';
import { registerProxyConfig } from './proxy-config.js';
import { registerZtunnelConfig } from './ztunnel-config.js';
import { registerDescribe } from './describe.js';
import { registerTlsCheck } from './tls-check.js';
import { registerExplain } from './explain.js';
import { registerAnalyze } from './analyze.js';
import { registerToken } from './token.js';
import { registerUp } from './up.js';
import { registerDashboard } from './dashboard.js';
import { registerExec } from './exec.js';
import { registerGet } from './get.js';
import { registerLogs } from './logs.js';
import { registerTap } from './tap.js';
import { registerKubeInject } from './kube-inject.js';
import { registerCheckInject } from './check-inject.js';
import { registerWait } from './wait.js';
import { registerInstall } from './install.js';
import { registerWhy } from './why.js';
import { registerZtunnel } from './ztunnel.js';

const program = new Command();
program
  .name('trellis')
  .description('Trellis: an Istio-compatible service mesh (xDS control plane, sidecar proxy, interception)')
  .version('0.1.0');

registerControlplane(program);
registerDemo(program);
registerIptables(program);
registerProxy(program);
registerProxyStatus(program);
registerProxyConfig(program);
registerZtunnelConfig(program);
registerDescribe(program);
registerTlsCheck(program);
registerExplain(program);
registerAnalyze(program);
registerToken(program);
registerUp(program);
registerDashboard(program);
registerExec(program);
registerLogs(program);
registerTap(program);
registerGet(program);
registerKubeInject(program);
registerCheckInject(program);
registerWait(program);
registerInstall(program);
registerWhy(program);
registerZtunnel(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`trellis: ${describeError(err)}\n`);
  process.exit(1);
});
