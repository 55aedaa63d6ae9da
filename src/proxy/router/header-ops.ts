/**
 * Envoy's request/response header mutations, compiled at config time into a
 * flat list applied in order (most specific level first, so the route
 * configuration's own OVERWRITE wins, as in Envoy's default).
 */
import { HeaderValueOption_HeaderAppendAction as Action, type HeaderValueOption } from '../../gen/envoy/config/core/v3/base_pb.js';

export type Headers = Record<string, string | string[] | undefined>;

export type HeaderOp =
  | { kind: 'append' | 'addIfAbsent' | 'overwrite' | 'overwriteIfExists'; name: string; value: string }
  | { kind: 'remove'; name: string };

export function compileHeaderOps(add: HeaderValueOption[], remove: string[], path: string, errors: string[]): HeaderOp[] {
  const ops: HeaderOp[] = [];
  add.forEach((o, i) => {
    const key = o.header?.key.toLowerCase();
    if (!key) {
      errors.push(`${path}HeadersToAdd[${i}].header.key: missing`);
      return;
    }
    const value = o.header?.value ?? '';
    ops.push({ kind: kindOf(o), name: key, value });
  });
  for (const name of remove) ops.push({ kind: 'remove', name: name.toLowerCase() });
  return ops;
}

function kindOf(o: HeaderValueOption): Exclude<HeaderOp['kind'], 'remove'> {
  // The deprecated `append` wrapper wins when set (true = append, false = overwrite).
  if (o.append !== undefined) return o.append ? 'append' : 'overwrite';
  switch (o.appendAction) {
    case Action.ADD_IF_ABSENT: return 'addIfAbsent';
    case Action.OVERWRITE_IF_EXISTS_OR_ADD: return 'overwrite';
    case Action.OVERWRITE_IF_EXISTS: return 'overwriteIfExists';
    default: return 'append';
  }
}

/** Applies the ops in place. Removes happen where they are listed: Envoy removes before it adds at each level. */
export function applyHeaderOps(h: Headers, ops: readonly HeaderOp[]): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const cur = h[op.name];
    switch (op.kind) {
      case 'remove': delete h[op.name]; break;
      case 'overwrite': h[op.name] = op.value; break;
      case 'addIfAbsent': if (cur === undefined) h[op.name] = op.value; break;
      case 'overwriteIfExists': if (cur !== undefined) h[op.name] = op.value; break;
      case 'append':
        h[op.name] = cur === undefined ? op.value : Array.isArray(cur) ? [...cur, op.value] : [cur, op.value];
        break;
    }
  }
}

/** Concatenates levels; removes first within each level, as Envoy does. */
export function levelOps(add: HeaderValueOption[], remove: string[], path: string, errors: string[]): HeaderOp[] {
  const ops = compileHeaderOps(add, remove, path, errors);
  return [...ops.filter((o) => o.kind === 'remove'), ...ops.filter((o) => o.kind !== 'remove')];
}
