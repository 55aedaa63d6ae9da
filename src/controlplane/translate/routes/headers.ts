/**
 * Istio HeaderOperations → Envoy header mutations: `set` overwrites, `add`
 * appends (Istio's translateAppendHeaders), `remove` deletes.
 */
import { create } from '@bufbuild/protobuf';
import {
  HeaderValueOptionSchema,
  HeaderValueOption_HeaderAppendAction as AppendAction,
  HeaderValueSchema,
  type HeaderValueOption,
} from '../../../gen/envoy/config/core/v3/base_pb.js';
import type { HeaderOperations } from '../../../config/objects.js';
import { sortedEntries } from './values.js';

export interface HeaderMutation {
  add: HeaderValueOption[];
  remove: string[];
}

function option(key: string, value: string, appendAction: AppendAction): HeaderValueOption {
  return create(HeaderValueOptionSchema, { header: create(HeaderValueSchema, { key, value }), appendAction });
}

export function headerOps(ops: HeaderOperations | undefined): HeaderMutation {
  const add = [
    ...sortedEntries(ops?.set).map(([k, v]) => option(k, v, AppendAction.OVERWRITE_IF_EXISTS_OR_ADD)),
    ...sortedEntries(ops?.add).map(([k, v]) => option(k, v, AppendAction.APPEND_IF_EXISTS_OR_ADD)),
  ];
  return { add, remove: [...(ops?.remove ?? [])] };
}

/** Route-level then destination-level: later entries win for `set`, as in Istio. */
export function mergeHeaderOps(...parts: HeaderMutation[]): HeaderMutation {
  return { add: parts.flatMap((p) => p.add), remove: parts.flatMap((p) => p.remove) };
}
