import { clip, escapeControls } from './clip.js';
import { env } from './env.js';

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'off';
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

/** Per-component levels, changeable at run time (the proxy's /logging uses this). */
const levels = new Map<string, Level>();
let defaultLevel: Level = 'info';
/** Every component that has a logger in this process: what /logging lists, as Envoy lists its loggers. */
const components = new Set<string>();

/** Every component's level now, by name. */
export function componentLevels(): [string, Level][] {
  return [...components].sort().map((c) => [c, levels.get(c) ?? defaultLevel]);
}

/** One component's level; false when no such component logs in this process (nothing is changed then). */
export function setComponentLevel(component: string, level: Level): boolean {
  if (!components.has(component)) return false;
  levels.set(component, level);
  return true;
}

/** Every component to one level, earlier per-component settings included (Envoy's /logging?level=). */
export function setAllLevels(level: Level): void {
  defaultLevel = level;
  levels.clear();
}

export function setLogLevels(spec: string): void {
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [a, b] = part.split('=');
    if (b === undefined) {
      if (isLevel(a)) defaultLevel = a;
    } else if (isLevel(b)) {
      levels.set(a, b);
    }
  }
}

function isLevel(s: string | undefined): s is Level {
  return s !== undefined && s in rank;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: Level): boolean;
}

/**
 * What one message or field may quote. Messages and fields often carry what a
 * peer or a file supplied (type URLs, node ids, NACK details, YAML errors):
 * bounding them here, where every line is written, means no call site can
 * forget to.
 */
export const LOG_TEXT_MAX = 1024;

/**
 * Longest line, whatever a call passes: escapes can make a field up to six
 * times longer than the text it quotes (\u0085), and a call may pass many.
 */
export const LOG_LINE_MAX = 8192;

/** A field value as written: JSON, at most LOG_TEXT_MAX characters of it (plus the size marker), no control characters. */
function fieldText(v: unknown): string {
  // Clip strings before quoting, so a long one is still a valid JSON string.
  if (typeof v === 'string') return escapeControls(JSON.stringify(clip(v, LOG_TEXT_MAX)));
  let s: string;
  try {
    s = JSON.stringify(v) ?? 'undefined';
  } catch {
    // BigInt and cycles: a log call must never throw.
    s = String(v);
  }
  return escapeControls(clip(s, LOG_TEXT_MAX));
}

/** Logs are one line each on stderr: time, level, component, message, key=value fields. */
export function logger(component: string): Logger {
  components.add(component);
  const enabled = (level: Level) => rank[level] >= rank[levels.get(component) ?? defaultLevel];
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (!enabled(level)) return;
    let line = `${new Date().toISOString()} ${level} ${component} ${escapeControls(clip(msg, LOG_TEXT_MAX))}`;
    if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${fieldText(v)}`;
    process.stderr.write(clip(line, LOG_LINE_MAX) + '\n');
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    enabled,
  };
}

setLogLevels(env.log);
