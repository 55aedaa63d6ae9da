/** Config through the real loader and merge (so objects carry real field lines), then the model and the analysis. */
import { loadConfigText } from '../../../src/config/load-config.js';
import { acceptFile, mergeFiles } from '../../../src/controlplane/sources/file-merge.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { analyzeConfig } from '../../../src/controlplane/analyze/analyze.js';
import type { ConfigProblem } from '../../../src/config/config-problem.js';

/** Analysis findings for a set of files (name → YAML text); load problems must be none unless `allowInvalid`. */
export function analyzeFiles(files: Record<string, string>, allowInvalid = false): ConfigProblem[] {
  const names = Object.keys(files).sort();
  const merged = mergeFiles(names.map((f) => [f, acceptFile(undefined, loadConfigText(f, files[f]!))] as const));
  if (!allowInvalid && merged.problems.length > 0) throw new Error(`unexpected load problems: ${merged.problems.map((p) => p.reason).join('; ')}`);
  return analyzeConfig(merged.objects.values(), buildModel({ objects: merged.objects, problems: merged.problems, revision: 1 }));
}

/** 1-based line of the only occurrence of `needle` in `text`. */
export function lineOfText(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0 || text.indexOf(needle, at + 1) >= 0) throw new Error(`${JSON.stringify(needle)} must occur exactly once`);
  return text.slice(0, at).split('\n').length;
}

/** The Istio message part of a finding's reason ("Referenced host not found: ..."). */
export const messageOf = (p: ConfigProblem) => p.reason.slice(p.reason.indexOf('Referenced '));
