/**
 * Strict field validation, as kubectl's default `--validate=strict` asks
 * the API server for: every field of an object must be one the Kubernetes
 * API declares. kubernetes-models' validators check types and required
 * fields but let unknown fields through, so this walks the field lists of
 * @kubernetes/client-node's generated models (their attribute type maps
 * are Kubernetes' OpenAPI definitions).
 */
import * as k8s from '@kubernetes/client-node';

type AttributeMap = { baseName: string; type: string }[];
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap } | undefined>;
const LEAVES = new Set(['string', 'number', 'boolean', 'Date', 'IntOrString', 'any', 'object']);

/** Paths of fields the Kubernetes API does not declare (e.g. "spec.template.spec.containers[0].imagePullPolcy"). */
export function unknownFields(value: unknown, typeName: string, path = ''): string[] {
  if (value === null || value === undefined || LEAVES.has(typeName)) return [];
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [`${path}: not a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) return Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  const model = models[typeName];
  if (!model?.getAttributeTypeMap) throw new Error(`no model ${typeName} at ${path}`);
  const attrs = model.getAttributeTypeMap();
  return Object.entries(value as object).flatMap(([k, v]) => {
    const a = attrs.find((x) => x.baseName === k);
    const here = path ? `${path}.${k}` : k;
    return a ? unknownFields(v, a.type, here) : [here];
  });
}
