/**
 * The injection config as the CLI gets it: the defaults, the mesh's flags
 * (trust domain, the control plane's namespace), then the file of
 * `--injection-config` over them. The only file reading of src/inject/.
 */
import { readFileSync } from 'node:fs';
import { TrellisError, errorMessage } from '../errors.js';
import { defaultInjectionConfig, parseInjectionConfig, type InjectionConfig } from './config.js';

export function loadInjectionConfig(file: string | undefined, mesh: { trustDomain?: string; controlPlaneNamespace?: string } = {}): InjectionConfig {
  const base = defaultInjectionConfig(mesh.controlPlaneNamespace);
  if (mesh.trustDomain) base.trustDomain = mesh.trustDomain;
  if (file === undefined) return base;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TrellisError('INJECT_CONFIG', `--injection-config ${file}: ${errorMessage(err)}`, { cause: err });
  }
  return parseInjectionConfig(text, base);
}
