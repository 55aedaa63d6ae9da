/**
 * istiod's /debug/configz: every accepted config object, as the API server
 * would show it, with where it was read from. The debugging CLI (describe,
 * tls-check) rebuilds the mesh model from this, so it judges the config the
 * control plane actually serves, not a copy on disk that may have drifted.
 */
import type { AnyObject } from '../../config/objects.js';

/** One object of /debug/configz: the object itself, its origin reduced to file and line. */
export type ConfigzEntry = Omit<AnyObject, 'origin'> & { origin?: { file: string; line: number } };

/**
 * Sorted by kind, namespace, name; the per-field line table (large, internal) is left out, and so are
 * Secrets: private keys are served only to the gateways allowed them, never on a debug port (istiod's
 * configz lists no Secrets either).
 */
export function configz(objects: Iterable<AnyObject>): ConfigzEntry[] {
  const out: ConfigzEntry[] = [];
  for (const o of objects) {
    if (o.kind === 'Secret') continue;
    const { origin, ...rest } = o;
    out.push(origin === undefined ? rest : { ...rest, origin: { file: origin.file, line: origin.line } });
  }
  const key = (o: ConfigzEntry) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
