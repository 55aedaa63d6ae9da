/**
 * The control plane's analysis findings: the latest ones, merged with the
 * source's problems for /debug/config_problems and trellis_config_problems,
 * each logged once when it appears (as the directory source logs its own).
 */
import type { AnyObject } from '../../config/objects.js';
import type { Logger } from '../../log.js';
import type { MeshModel } from '../registry/model.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import { analyzeConfig, byPlace } from './analyze.js';
import { errorMessage } from '../../errors.js';

export class ConfigAnalysis {
  readonly #log: Logger;
  #findings: readonly ConfigProblem[] = [];
  #logged = new Set<string>();
  #merged: { source: readonly ConfigProblem[]; all: readonly ConfigProblem[] } | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Analyses the objects a model was just built from; findings that were not there before are logged. */
  update(objects: Iterable<AnyObject>, model: MeshModel): void {
    let findings: ConfigProblem[];
    try {
      findings = analyzeConfig(objects, model);
    } catch (err) {
      // A report must never stand between the config and the proxies: a bug here costs the findings, not the push.
      this.#log.error('config analysis failed; no findings this time', { error: errorMessage(err) });
      findings = [];
    }
    const current = new Set<string>();
    for (const p of findings) {
      const id = `${p.code}|${p.file}|${p.line}|${p.reason}`;
      current.add(id);
      if (!this.#logged.has(id)) this.#log.warn(p.reason, { code: p.code, file: p.file, line: p.line });
    }
    this.#logged = current;
    this.#findings = findings;
    this.#merged = undefined;
  }

  /** The source's problems and the findings together, by file then line. */
  with(source: readonly ConfigProblem[]): readonly ConfigProblem[] {
    if (this.#merged?.source !== source) this.#merged = { source, all: [...source, ...this.#findings].sort(byPlace) };
    return this.#merged.all;
  }
}
