/**
 * Kubernetes label selectors (metav1.LabelSelector): matchLabels and
 * matchExpressions (In, NotIn, Exists, DoesNotExist), all ANDed. As
 * Kubernetes' LabelSelectorAsSelector, an empty selector selects everything;
 * Istio's never/always selectors skip empty ones, which the caller does.
 */
import type { LabelSelector } from './k8s-types.js';

export function selectorIsEmpty(s: LabelSelector): boolean {
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

/** Whether `labels` satisfy `s`; an invalid operator makes the selector match nothing (and is reported by `selectorError`). */
export function selectorMatches(s: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[e.key]!)) return false; break;
      case 'NotIn': if (has && values.includes(labels[e.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Why Kubernetes would refuse this selector, or undefined. */
export function selectorError(s: LabelSelector): string | undefined {
  for (const e of s.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) return `unknown operator ${JSON.stringify(e.operator)}`;
    const n = (e.values ?? []).length;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) return `${e.operator} on ${e.key} needs values`;
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) return `${e.operator} on ${e.key} takes no values`;
  }
  return undefined;
}

/** "app=a,tier in (x,y)": a selector as kubectl prints it, for reasons. */
export function formatSelector(s: LabelSelector): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}
