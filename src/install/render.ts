/** Manifests as one multi-document YAML stream, as kubectl reads it. */
import { stringify } from 'yaml';
import type { Manifest } from './manifest.js';

export function renderYaml(manifests: readonly Manifest[]): string {
  // No anchors/aliases: shared objects (a schema used by every CRD version) are written out in full, as kubectl expects.
  return manifests.map((m) => `---\n${stringify(m, { aliasDuplicateObjects: false, lineWidth: 0 })}`).join('');
}
