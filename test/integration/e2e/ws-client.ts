/**
 * Run inside a pod as the app (not a test): a websocket client against
 * HOST:PORT, through whatever the pod's sidecar does with it. Prints one JSON
 * line: the handshake (status, whether Sec-WebSocket-Accept matched our key,
 * the server's name), the echoes of a text and a binary message, the
 * server-initiated close, a client-initiated close on a second connection,
 * and the status of an upgrade to a type nobody enabled (h2c).
 */
import { closeFrame, connectWebSocket, handshake, OP } from '../../helpers/websocket.js';

const [host = '127.0.0.1', port = '80'] = process.argv.slice(2);
const p = Number(port);
const out: Record<string, unknown> = {};

const first = await connectWebSocket(host, p, '/ws-one', { hostHeader: 'web' });
out.status = first.handshake.status;
out.server = first.handshake.headers['x-ws-server'];
first.ws.send(OP.text, 'hello');
out.text = (await first.ws.next()).payload.toString();
const big = Buffer.alloc(256 * 1024, 3);
first.ws.send(OP.binary, big);
out.binaryEchoed = (await first.ws.next(8000)).payload.equals(big);
// The server closes: its close frame, then its FIN.
first.ws.send(OP.text, 'bye');
const close = await first.ws.next();
out.serverClose = close.opcode === OP.close ? close.payload.readUInt16BE(0) : `opcode ${close.opcode}`;
first.ws.socket.end(closeFrame(1000, true));
out.serverCloseClosed = await first.ws.closedWithin(4000);

const second = await connectWebSocket(host, p, '/ws-two', { hostHeader: 'web' });
second.ws.send(OP.text, 'again');
out.second = (await second.ws.next()).payload.toString();
second.ws.socket.write(closeFrame(1001, true));
out.clientCloseAnswered = (await second.ws.next()).opcode === OP.close;
second.ws.socket.end();
out.clientCloseClosed = await second.ws.closedWithin(4000);

const refused = await handshake(host, p, '/h2c', { hostHeader: 'web', upgrade: 'h2c' });
out.refused = refused.status;
refused.socket.destroy();
process.stdout.write(`${JSON.stringify(out)}\n`);
