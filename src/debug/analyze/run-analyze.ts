/**
 * `trellis analyze [DIR]`: loads DIR as the control plane would (the same
 * loader and validation), builds the model, runs every analyzer, and prints
 * what it found as istioctl analyze does. Resolves with the exit code: 1 when
 * a message reaches the failure threshold (Error by default), else 0.
 */
import { buildModel } from '../../controlplane/registry/build-model.js';
import { analyzeAll, isAnalyzed } from '../../controlplane/analyze/analyze-all.js';
import { readConfigDirectory } from '../../controlplane/sources/read-directory.js';
import { paint, structured, type Write } from '../output.js';
import { atLeast, jsonLine, messageLine, problemLine, renderLine, type Level, type ReportLine } from './report.js';

export interface AnalyzeOptions {
  path: string;
  output: 'text' | 'json' | 'yaml';
  outputThreshold: Level;
  failureThreshold: Level;
  color: boolean;
}

const levelColor = { Error: 'red', Warning: 'yellow', Info: 'green' } as const;

export async function runAnalyze(o: AnalyzeOptions, write: Write, note: Write): Promise<number> {
  const read = await readConfigDirectory(o.path);
  const objects = new Map([...read.objects].filter(([, x]) => isAnalyzed(x)));
  const model = buildModel({ objects, problems: read.problems, revision: 1 });
  const lines: ReportLine[] = [...read.problems.map(problemLine), ...analyzeAll([...objects.values()], model).map(messageLine)];
  const shown = lines.filter((l) => atLeast(l.level, o.outputThreshold));
  if (o.output !== 'text') write(structured(shown.map(jsonLine), o.output));
  else if (shown.length === 0) note(`\u2714 No validation issues found when analyzing ${o.path} (${read.files.length} file(s), ${objects.size} object(s)).\n`);
  else for (const l of shown) write(renderLine(l, (level) => paint(level, levelColor[level], o.color)));
  return lines.some((l) => atLeast(l.level, o.failureThreshold)) ? 1 : 0;
}
