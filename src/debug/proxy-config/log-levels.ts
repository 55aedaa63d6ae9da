/**
 * `proxy-config log --level`: istioctl's syntax, "[LOGGER:]LEVEL,..." (also
 * "LOGGER=LEVEL", and "ns::LOGGER:LEVEL" with the namespace ignored), a bare
 * LEVEL setting every logger. Levels are Envoy's; logger names are checked
 * against the proxy's own "active loggers" list before anything is changed.
 */
import { TrellisError } from '../../errors.js';

export const ENVOY_LEVELS = ['trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off'] as const;

/** The admin API's queries, in order: every-logger first (?level=), then one per logger. */
export function loggingQueries(spec: string, active: readonly string[]): string[] {
  let all: string | undefined;
  const one = new Map<string, string>();
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!item.includes(':') && !item.includes('=')) {
      all = level(item);
      continue;
    }
    const [name, lvl] = item.split('::').at(-1)!.split(/[:=]/, 2) as [string, string | undefined];
    if (name !== 'level' && !active.includes(name)) {
      throw new TrellisError('CLI_USAGE', `unrecognized logger name: ${name} (the proxy's loggers: ${active.join(', ')})`);
    }
    if (name === 'level') all = level(lvl ?? '');
    else one.set(name, level(lvl ?? ''));
  }
  if (all === undefined && one.size === 0) throw new TrellisError('CLI_USAGE', '--level: give LEVEL or LOGGER:LEVEL[,LOGGER:LEVEL...]');
  return [...(all ? [`level=${all}`] : []), ...[...one].map(([n, l]) => `${encodeURIComponent(n)}=${l}`)];
}

function level(s: string): string {
  const l = s.toLowerCase();
  if (!(ENVOY_LEVELS as readonly string[]).includes(l)) throw new TrellisError('CLI_USAGE', `unrecognized logging level: ${s} (one of ${ENVOY_LEVELS.join(', ')})`);
  return l;
}

/** Logger names from Envoy's "active loggers:\n  name: level\n..." answer. */
export function activeLoggerNames(body: string): string[] {
  return [...body.matchAll(/^\s+([^:\s]+):\s*\S+$/gm)].map((m) => m[1]!);
}
