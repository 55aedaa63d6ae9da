/**
 * Envoy's /logging on the admin API: POST with no query lists the active
 * loggers ("active loggers:\n  admin: info\n..."), ?level=L sets every
 * logger, ?NAME=L one, ?paths=NAME:L,... several; every answer lists the
 * loggers as they are afterwards. This is what `istioctl proxy-config log`
 * (and `trellis proxy-config log`) reads and writes.
 *
 * Loggers are Trellis' components (proxy, listener, cluster, xds, ...), not
 * Envoy's: a name that does not log here is refused rather than silently
 * accepted, so a typo cannot look like a change. Envoy's seven levels map to
 * Trellis' five: trace is debug, critical is error.
 */
import { componentLevels, setAllLevels, setComponentLevel, type Level } from '../../log.js';

const fromEnvoy: Readonly<Record<string, Level>> = {
  trace: 'debug', debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error', critical: 'error', off: 'off',
};
const toEnvoy: Readonly<Record<Level, string>> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error', off: 'off' };

export interface LoggingReply {
  status: number;
  body: string;
}

/** "active loggers:" and one "  name: level" line per logger, with Envoy's level names. */
export function activeLoggers(): string {
  return `active loggers:\n${componentLevels().map(([c, l]) => `  ${c}: ${toEnvoy[l]}\n`).join('')}`;
}

/** Applies a /logging query; nothing is changed unless every part of it is valid. */
export function handleLogging(query: URLSearchParams): LoggingReply {
  const changes: [string | undefined, Level][] = [];
  for (const [key, value] of query) {
    const pairs = key === 'paths' ? value.split(',').map((p) => p.split(':') as [string, string?]) : [[key, value] as [string, string?]];
    for (const [name, levelName] of pairs) {
      const level = levelName === undefined ? undefined : fromEnvoy[levelName.toLowerCase()];
      if (level === undefined) return { status: 400, body: `error: unknown logger level ${JSON.stringify(levelName ?? '')}; one of ${Object.keys(fromEnvoy).join(', ')}\n` };
      changes.push([name === 'level' ? undefined : name, level]);
    }
  }
  const known = new Set(componentLevels().map(([c]) => c));
  const unknown = changes.find(([name]) => name !== undefined && !known.has(name));
  if (unknown) return { status: 404, body: `error: unknown logger name ${JSON.stringify(unknown[0])}\n${activeLoggers()}` };
  // ?level= first, as Envoy applies it before per-logger settings in the same request.
  for (const [name, level] of changes) if (name === undefined) setAllLevels(level);
  for (const [name, level] of changes) if (name !== undefined) setComponentLevel(name, level);
  return { status: 200, body: activeLoggers() };
}
