/** What converting the Gateway API found (registry/gateway-api/), as analyzer messages on the Gateway API objects. */
import type { AnyObject } from '../../config/objects.js';
import type { MeshModel } from '../registry/model.js';
import type { GatewayApiFindingKind } from '../registry/gateway-api/context.js';
import type { Finding } from './finding.js';
import { GatewayApiReferenceRefused, ReferencedResourceNotFound, Unsupported, type MessageType } from './messages.js';

const types: Readonly<Record<GatewayApiFindingKind, MessageType>> = {
  'not-found': ReferencedResourceNotFound,
  refused: GatewayApiReferenceRefused,
  unsupported: Unsupported,
};

export function gatewayApiMessages(model: MeshModel): { object: AnyObject; finding: Finding }[] {
  return model.gatewayApiFindings.map((f) => ({ object: f.object, finding: { type: types[f.kind], path: f.path, message: f.message } }));
}
