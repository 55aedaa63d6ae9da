/** The Gateway API's schemas, by type key ("Kind.gateway.networking.k8s.io"). */
import type { TypeKey } from '../../objects.js';
import type { ObjectSchema } from '../schema.js';
import { gatewayClassSchema, kubernetesGatewaySchema, referenceGrantSchema } from './gateway.js';
import { grpcRouteSchema, httpRouteSchema, tcpRouteSchema, tlsRouteSchema } from './routes.js';

export const gatewayApiSchemas: Readonly<Record<Extract<TypeKey, `${string}.gateway.networking.k8s.io`>, ObjectSchema>> = {
  'GatewayClass.gateway.networking.k8s.io': gatewayClassSchema,
  'Gateway.gateway.networking.k8s.io': kubernetesGatewaySchema,
  'HTTPRoute.gateway.networking.k8s.io': httpRouteSchema,
  'GRPCRoute.gateway.networking.k8s.io': grpcRouteSchema,
  'TCPRoute.gateway.networking.k8s.io': tcpRouteSchema,
  'TLSRoute.gateway.networking.k8s.io': tlsRouteSchema,
  'ReferenceGrant.gateway.networking.k8s.io': referenceGrantSchema,
};
