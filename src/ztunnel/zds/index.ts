/** ZDS, Istio's node agent <-> node proxy protocol: messages, the node proxy's server, the node agent's client. */
export { ZdsServer, type ZdsHandler, type ZdsPod } from './server.js';
export { ZdsClient } from './client.js';
export { encodeAck, encodeHello, encodeRequest, parseAck, parseHello, parseRequest, ZDS_VERSION, type ZdsRequest } from './messages.js';
