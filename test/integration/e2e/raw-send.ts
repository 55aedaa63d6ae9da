/**
 * Run inside a pod (as any uid): sends base64-encoded pieces to HOST:PORT on
 * one connection and prints what came back as JSON ({ data, closed }). The
 * end-to-end hostile-peer test uses it to put exact bytes on the wire.
 */
import { sendRaw } from '../../helpers/malformed-requests.js';

const [host, port, ...pieces] = process.argv.slice(2);
const reply = await sendRaw(host!, Number(port), pieces.map((p) => Buffer.from(p, 'base64')), 4000);
process.stdout.write(`${JSON.stringify(reply)}\n`);
