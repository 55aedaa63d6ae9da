/**
 * The proxy's agent-port flags (--health-port, --status-port, --agent-bind)
 * and the environment the injector sets for them, as the Proxy's agent
 * options. Bad probe or scrape settings are logged and dropped one by one:
 * a pod whose proxy refused to start over one malformed probe would lose
 * all of its traffic.
 */
import { env } from '../env.js';
import { logger } from '../log.js';
import type { ProxyOptions } from '../proxy/proxy.js';
import { parseAppProbers } from '../proxy/agent/app-probers.js';
import { scrapeTargetsFrom } from '../proxy/agent/app-metrics-config.js';
import { parsePort } from './flags.js';

export interface AgentFlags {
  healthPort?: string;
  statusPort?: string;
  agentBind: string;
}

export function agentSettings(f: AgentFlags): ProxyOptions['agent'] {
  if (f.healthPort === undefined && f.statusPort === undefined) return undefined;
  const log = logger('agent');
  const probers = parseAppProbers(env.appProbers);
  for (const e of probers.errors) log.error('app probe ignored', { reason: e });
  const metrics = scrapeTargetsFrom(env.prometheusAnnotations);
  if (metrics.error) log.error('app metrics not merged', { reason: metrics.error });
  return {
    ...(f.healthPort === undefined ? {} : { healthPort: parsePort('--health-port', f.healthPort) }),
    ...(f.statusPort === undefined ? {} : { statusPort: parsePort('--status-port', f.statusPort) }),
    bind: f.agentBind,
    appAddress: env.instanceIp ?? '127.0.0.1',
    probers: probers.probers,
    appMetrics: metrics.targets,
  };
}
