/**
 * Which proxy a proxy-config command reads: an explicit --admin HOST:PORT,
 * a saved config dump (--file, as istioctl's), or a POD whose admin address
 * the mesh's locator knows (`trellis up`'s state file).
 */
import { readFile } from 'node:fs/promises';
import { TrellisError } from '../../errors.js';
import { requestJson, type RequestOptions } from '../http.js';
import { findPod, podKey, type MeshLocator } from '../locator.js';

export interface ProxyTarget {
  /** How messages and `log` output name the proxy: "reviews-v1.default", the admin address, or the file. */
  label: string;
  admin?: string;
  /** The network namespace the admin address is in (see RequestOptions.netns). */
  netns?: string;
  file?: string;
}

export interface TargetFlags {
  pod?: string;
  admin?: string;
  file?: string;
  namespace?: string;
}

export async function resolveTarget(f: TargetFlags, mesh: () => Promise<MeshLocator>): Promise<ProxyTarget> {
  if (f.file !== undefined) return { label: f.file, file: f.file };
  if (f.admin !== undefined) return { label: f.pod ?? f.admin, admin: f.admin };
  if (f.pod === undefined) throw new TrellisError('CLI_USAGE', 'name a POD, or give --admin HOST:PORT or --file CONFIG_DUMP.json');
  const m = await mesh();
  const pod = findPod(await m.pods(), f.pod, m.source, f.namespace);
  if (pod.admin === undefined) {
    throw new TrellisError('ADMIN_UNKNOWN', `the admin address of ${podKey(pod)}'s proxy is not known (${m.source} knows the pod, not where its admin API listens): pass --admin HOST:PORT`);
  }
  return { label: podKey(pod), admin: pod.admin, ...(pod.netns ? { netns: pod.netns } : {}) };
}

/** The target's /config_dump JSON (a --file is the same JSON, saved). */
export async function loadConfigDump(t: ProxyTarget): Promise<unknown> {
  if (t.file !== undefined) return readJsonFile(t.file);
  return requestJson(t.admin!, '/config_dump', adminRequest(t));
}

/** The target's /clusters?format=json; a --file holds no such thing, so endpoints need a live proxy. */
export async function loadClusters(t: ProxyTarget): Promise<unknown> {
  if (t.admin === undefined) throw new TrellisError('CLI_USAGE', 'endpoints come from a running proxy\'s /clusters, not from a config dump file: name a POD or give --admin');
  return requestJson(t.admin, '/clusters?format=json', adminRequest(t));
}

/** How requests to the target's admin API are described and where their socket is made. */
export function adminRequest(t: ProxyTarget, method?: 'GET' | 'POST'): RequestOptions {
  return { what: `the proxy admin API of ${t.label}`, ...(t.netns ? { netns: t.netns } : {}), ...(method ? { method } : {}) };
}

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TrellisError('IO', `cannot read ${file}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TrellisError('CLI_USAGE', `${file} is not JSON (a config dump, as /config_dump returns it)`, { cause: err });
  }
}
