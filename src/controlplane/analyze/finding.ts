import type { FieldPath } from '../../config/field-lines.js';
import type { MessageType } from './messages.js';

/** What an analyzer found in one object: the offending field and Istio's message. */
export interface Finding {
  readonly type: MessageType;
  readonly path: FieldPath;
  readonly message: string;
}
