/**
 * A small schema language for Kubernetes/Istio objects. Every object schema
 * lists its fields exhaustively so that unknown fields (typos) are reported;
 * `opaque` marks subtrees Trellis does not read (e.g. a Pod's volumes), which
 * are accepted as they are.
 */
import type { FieldPath } from '../load-yaml.js';

/** A problem found at a path relative to the value a check was given. */
export interface Issue {
  path: FieldPath;
  message: string;
}

/** Extra rules beyond types (oneofs, sums, uniqueness); returns issues with relative paths. */
export type Check<T> = (value: T) => Issue[];

interface Base {
  required?: boolean;
}
export interface StringSchema extends Base {
  type: 'string';
  enum?: readonly string[];
  /** Returns a reason when the text is not acceptable. */
  check?: (value: string) => string | undefined;
}
export interface NumberSchema extends Base {
  type: 'int' | 'number';
  min?: number;
  max?: number;
}
export interface BoolSchema extends Base {
  type: 'bool';
}
export interface IntOrStringSchema extends Base {
  type: 'intOrString';
}
export interface ObjectSchema extends Base {
  type: 'object';
  fields: Readonly<Record<string, Schema>>;
  check?: Check<Record<string, unknown>>;
}
export interface MapSchema extends Base {
  type: 'map';
  values: Schema;
  /** Returns a reason when a key is not acceptable. */
  keys?: (key: string) => string | undefined;
}
export interface ArraySchema extends Base {
  type: 'array';
  items: Schema;
  check?: Check<unknown[]>;
}
export interface OpaqueSchema extends Base {
  type: 'opaque';
}
export type Schema =
  | StringSchema
  | NumberSchema
  | BoolSchema
  | IntOrStringSchema
  | ObjectSchema
  | MapSchema
  | ArraySchema
  | OpaqueSchema;

// ---- builders ---------------------------------------------------------------

export const str = (opts: Omit<StringSchema, 'type'> = {}): StringSchema => ({ type: 'string', ...opts });
export const int = (min?: number, max?: number): NumberSchema => ({ type: 'int', min, max });
export const num = (min?: number, max?: number): NumberSchema => ({ type: 'number', min, max });
export const bool = (): BoolSchema => ({ type: 'bool' });
export const intOrString = (): IntOrStringSchema => ({ type: 'intOrString' });
export const opaque = (): OpaqueSchema => ({ type: 'opaque' });
export const obj = (fields: Record<string, Schema>, check?: Check<Record<string, unknown>>): ObjectSchema => ({
  type: 'object',
  fields,
  check,
});
export const map = (values: Schema, keys?: (key: string) => string | undefined): MapSchema => ({ type: 'map', values, keys });
export const arr = (items: Schema, check?: Check<unknown[]>): ArraySchema => ({ type: 'array', items, check });
export const enumOf = (...values: string[]): StringSchema => ({ type: 'string', enum: values });
/** Marks a schema as required in its parent object. */
export const req = <S extends Schema>(schema: S): S => ({ ...schema, required: true });

/** map<string, string>, as used by labels and selectors. */
export const stringMap = (): MapSchema => map(str());
export const strings = (): ArraySchema => arr(str());
