/**
 * Reads SNI and ALPN from a TLS ClientHello (Envoy's tls_inspector), without
 * terminating TLS. Returns 'incomplete' until the whole first record is there.
 */
export interface HelloInfo {
  serverName: string;
  alpn: string[];
}

export function parseClientHello(b: Buffer): HelloInfo | 'incomplete' | 'invalid' {
  if (b.length < 5) return 'incomplete';
  if (b[0] !== 0x16 || b[1] !== 0x03) return 'invalid';
  const recLen = b.readUInt16BE(3);
  if (b.length < 5 + recLen) return 'incomplete';
  try {
    return parseHandshake(b.subarray(5, 5 + recLen));
  } catch {
    return 'invalid';
  }
}

function parseHandshake(h: Buffer): HelloInfo | 'invalid' {
  if (h[0] !== 0x01) return 'invalid';
  let p = 4 + 2 + 32; // handshake header, client_version, random
  p += 1 + h[p]; // session id
  p += 2 + h.readUInt16BE(p); // cipher suites
  p += 1 + h[p]; // compression methods
  const info: HelloInfo = { serverName: '', alpn: [] };
  if (p + 2 > h.length) return info;
  const end = Math.min(h.length, p + 2 + h.readUInt16BE(p));
  p += 2;
  while (p + 4 <= end) {
    const type = h.readUInt16BE(p);
    const len = h.readUInt16BE(p + 2);
    const ext = h.subarray(p + 4, p + 4 + len);
    if (type === 0) info.serverName = sni(ext);
    else if (type === 16) info.alpn = alpn(ext);
    p += 4 + len;
  }
  return info;
}

function sni(ext: Buffer): string {
  // server_name_list: u16 length, then entries (u8 type, u16 len, name)
  if (ext.length < 5 || ext[2] !== 0) return '';
  const len = ext.readUInt16BE(3);
  return ext.subarray(5, 5 + len).toString('ascii').toLowerCase();
}

function alpn(ext: Buffer): string[] {
  const out: string[] = [];
  let p = 2;
  while (p < ext.length) {
    const len = ext[p];
    out.push(ext.subarray(p + 1, p + 1 + len).toString('ascii'));
    p += 1 + len;
  }
  return out;
}
