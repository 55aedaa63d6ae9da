/** Reads a .cpuprofile (V8 CPU profile JSON) into a self-time table, and --trace-gc output into allocated megabytes. */
import { readFileSync } from 'node:fs';
import { formatTable } from '../lib/machine.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the process a sampled function belongs to. */
function component(fn: string, url: string): string {
  if (url.includes('/src/proxy/')) return 'trellis proxy code';
  if (url.includes('/dist/bundle/')) return 'trellis (bundled: proxy, xDS, protobuf)';
  if (url.includes('/src/') || url.includes('@bufbuild')) return 'trellis other (xDS, protobuf)';
  if (url.includes('undici')) return url.startsWith('wasm') ? 'undici llhttp (wasm)' : 'undici';
  if (url.startsWith('wasm')) return 'undici llhttp (wasm)';
  if (url.startsWith('node:')) return 'node internals (JS)';
  if (fn === '(idle)') return 'idle (epoll wait)';
  if (fn === '(garbage collector)') return 'GC';
  if (/^write(v|Latin1String|Utf8String|Buffer)$/.test(fn)) return 'socket writes (native + syscall)';
  return 'other native';
}

/** Self time per key (component, function) of a profile as a table sorted by time, in percent of all samples. */
function selfTimeTable(file: string, keyOf: (f: ProfileNode['callFrame']) => string, header: string, n = Infinity): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const acc = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i] ?? 0;
    if (!node) continue;
    total += dt;
    const k = keyOf(node.callFrame);
    acc.set(k, (acc.get(k) ?? 0) + dt);
  }
  const rows = [...acc].sort((a, b) => b[1] - a[1]).slice(0, n);
  return formatTable(['self %', header], rows.map(([k, v]) => [((100 * v) / total).toFixed(1), k]));
}

/**
 * Time spent in (or under) functions whose "name url" matches each pattern,
 * in seconds and percent of all samples. The patterns overlap when the
 * functions call each other; "(idle)" and "(garbage collector)" count as
 * functions.
 */
export function inclusiveTable(file: string, patterns: Readonly<Record<string, RegExp>>): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const acc = new Map(Object.keys(patterns).map((k) => [k, 0]));
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const names: string[] = [];
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) names.push(frameText(byId.get(id)?.callFrame));
    for (const [k, re] of Object.entries(patterns)) if (names.some((n) => re.test(n))) acc.set(k, acc.get(k)! + dt);
  }
  const rows = [...acc].map(([k, v]) => [(v / 1e6).toFixed(2), ((100 * v) / total).toFixed(1), k]);
  return formatTable(['s', '%', 'in or under'], [...rows, [(total / 1e6).toFixed(2), '100.0', 'all samples']]);
}

function frameText(cf: ProfileNode['callFrame'] | undefined): string {
  return cf ? `${cf.functionName} ${cf.url}` : '';
}

/** Self time by component, as a markdown table. */
export function byComponent(file: string): string {
  return selfTimeTable(file, (cf) => component(cf.functionName, cf.url), 'component');
}

/** The `n` functions with the most self time, as a markdown table (percent of all samples). */
export function topSelf(file: string, n: number): string {
  return selfTimeTable(file, (cf) => {
    const url = cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
    const name = (cf.functionName || '(anonymous)').slice(0, 60);
    return `${name} ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
  }, 'function (file:line)', n);
}

/**
 * Megabytes allocated so far according to --trace-gc lines
 * ("Scavenge 5.1 (7.2) -> 4.3 (8.2) MB"): the growth from one collection's
 * end to the next one's start, summed.
 */
export function allocatedMiB(traceGc: string): number {
  const re = /(?:Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/g;
  let sum = 0;
  let prevAfter: number | undefined;
  for (const m of traceGc.matchAll(re)) {
    const before = Number(m[1]);
    const after = Number(m[2]);
    if (prevAfter !== undefined && before > prevAfter) sum += before - prevAfter;
    prevAfter = after;
  }
  return sum;
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** A sampling heap profile (GC'd objects included) as bytes allocated per request by allocation site. */
export function allocationSites(file: string, requests: number, n: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode) => {
    if (node.selfSize > 0) {
      const cf = node.callFrame;
      const url = cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
      const key = `${(cf.functionName || '(anonymous)').slice(0, 60)} ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
      bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const c of node.children) walk(c);
  };
  walk(p.head);
  const rows = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, n);
  return `Sampled allocation: ${(total / requests).toFixed(0)} bytes/request in total.\n\n` +
    formatTable(['bytes/request', 'allocated in (function file:line)'], rows.map(([k, v]) => [(v / requests).toFixed(0), k]));
}
