/**
 * networking.istio.io Gateway, with istiod's rules (pkg/config/validation
 * ValidateGateway): at least one server; each server with hosts
 * ("ns/host", "./host", "*\/host" or a bare host, wildcards only leftmost),
 * a port with number, name and a known protocol, a bind that is an IP,
 * TLS settings where the protocol needs them and nowhere else, and the
 * certificates each TLS mode requires; port names unique in the gateway.
 */
import { isIP } from 'node:net';
import { parseProtocol } from '../../controlplane/registry/protocol.js';
import { dnsLabelProblem, dnsSubdomainProblem, portNumber, topLevel } from './common.js';
import { arr, bool, enumOf, int, obj, req, str, stringMap, strings, type Issue, type ObjectSchema } from './schema.js';

/** Protocols istiod's protocol.Parse knows (anything else is "Unsupported" and refused). */
const KNOWN_PROTOCOLS = 'HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL';

const dnsLabel = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** The host part of a server host: "*", "*.example.com" or a DNS name (istiod's validateSidecarOrGatewayHostnamePart). */
function hostPartProblem(host: string): string | undefined {
  if (host === '*') return undefined;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  const labels = name.split('.');
  if (host.length > 255 || name === '' || !labels.every((l) => l.length <= 63 && dnsLabel.test(l))) {
    return `invalid host ${JSON.stringify(host)} (a DNS name, "*" or "*.domain"; a wildcard only as the leftmost label)`;
  }
  return undefined;
}

/** "namespace/host" with namespace ".", "*" or a DNS label, or a bare host (the server's own namespace is then implied). */
export function serverHostProblem(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  if (slash < 0) return hostPartProblem(entry);
  const ns = entry.slice(0, slash);
  const host = entry.slice(slash + 1);
  if (ns === '' || host === '') return 'config namespace and dnsName in host entry cannot be empty';
  if (ns !== '*' && ns !== '.' && dnsLabelProblem(ns) !== undefined) return `invalid namespace value ${JSON.stringify(ns)} in gateway`;
  return hostPartProblem(host);
}

const tlsModes = ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] as const;
const tlsVersions = enumOf('TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3');

type Tls = Record<string, unknown>;
const set = (v: unknown) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

/** istiod's validateTLSOptions: what each mode requires or forbids. */
function tlsOptionsCheck(tls: Tls): Issue[] {
  const out: Issue[] = [];
  const mode = (tls['mode'] as string | undefined) ?? 'PASSTHROUGH';
  if (mode === 'ISTIO_MUTUAL') {
    for (const f of ['serverCertificate', 'privateKey', 'caCertificates', 'tlsCertificates', 'credentialName', 'credentialNames']) {
      if (set(tls[f])) out.push({ path: [f], message: `ISTIO_MUTUAL TLS cannot have associated ${f}` });
    }
    return out;
  }
  const sources = [set(tls['serverCertificate']) && set(tls['privateKey']), set(tls['credentialName']), set(tls['credentialNames']), set(tls['tlsCertificates'])];
  if (sources.filter(Boolean).length > 1) out.push({ path: [], message: 'only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates should be specified' });
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL' && mode !== 'OPTIONAL_MUTUAL') return out;
  if (set(tls['credentialName']) || set(tls['credentialNames'])) return out;
  const prefix = mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
  if (prefix === 'MUTUAL TLS' && !set(tls['caCertificates'])) out.push({ path: ['caCertificates'], message: `${prefix} requires a client CA bundle` });
  if (set(tls['tlsCertificates'])) return out;
  if (!set(tls['serverCertificate'])) out.push({ path: ['serverCertificate'], message: `${prefix} requires a server certificate` });
  if (!set(tls['privateKey'])) out.push({ path: ['privateKey'], message: `${prefix} requires a private key` });
  return out;
}

const serverTls = obj(
  {
    httpsRedirect: bool(),
    mode: enumOf(...tlsModes),
    serverCertificate: str(),
    privateKey: str(),
    caCertificates: str(),
    caCrl: str(),
    credentialName: str(),
    credentialNames: strings(),
    tlsCertificates: arr(obj({ serverCertificate: str(), privateKey: str(), caCertificates: str() })),
    subjectAltNames: strings(),
    verifyCertificateSpki: strings(),
    verifyCertificateHash: strings(),
    minProtocolVersion: tlsVersions,
    maxProtocolVersion: tlsVersions,
    cipherSuites: strings(),
    caCertCredentialName: str(),
  },
  tlsOptionsCheck,
);

const isTlsProtocol = (p: string | undefined) => p === 'HTTPS' || p === 'TLS';
const isHttpProtocol = (p: string | undefined) => p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';

/** The rules between port, bind and tls (istiod's validateServer). */
function serverCheck(s: Record<string, unknown>): Issue[] {
  const out: Issue[] = [];
  const port = s['port'] as { protocol?: unknown; targetPort?: unknown } | undefined;
  const bind = s['bind'];
  if (typeof bind === 'string' && bind !== '' && !bind.startsWith('unix://') && isIP(bind) === 0) out.push({ path: ['bind'], message: `${JSON.stringify(bind)} is not a valid IP address` });
  if (port?.targetPort !== undefined) out.push({ path: ['port', 'targetPort'], message: 'targetPort has no impact on Gateways' });
  if (typeof port?.protocol !== 'string') return out;
  const protocol = parseProtocol(port.protocol);
  if (protocol === undefined || protocol === 'UDP') {
    out.push({ path: ['port', 'protocol'], message: `invalid protocol ${JSON.stringify(port.protocol)}, supported protocols are ${KNOWN_PROTOCOLS}` });
    return out;
  }
  const tls = s['tls'] as Tls | undefined;
  if (isTlsProtocol(protocol) && tls === undefined) out.push({ path: ['tls'], message: 'server must have TLS settings for HTTPS/TLS protocols' });
  else if (!isTlsProtocol(protocol) && tls !== undefined) {
    // A plain HTTP server may carry tls only to say httpsRedirect (mode then defaults to PASSTHROUGH).
    const onlyRedirect = isHttpProtocol(protocol) && (tls['mode'] ?? 'PASSTHROUGH') === 'PASSTHROUGH' && !set(tls['caCertificates']) && !set(tls['privateKey']) && !set(tls['serverCertificate']);
    if (!onlyRedirect) out.push({ path: ['tls'], message: isHttpProtocol(protocol) ? 'server cannot have TLS settings for plain text HTTP ports' : 'server cannot have TLS settings for non HTTPS/TLS ports' });
  }
  return out;
}

const server = obj(
  {
    port: req(obj({ number: req(portNumber()), name: req(str()), protocol: req(str()), targetPort: int() })),
    bind: str(),
    hosts: req(arr(str({ check: serverHostProblem }), (hosts) => (hosts.length === 0 ? [{ path: [], message: 'server config must contain at least one host' }] : []))),
    tls: serverTls,
    name: str(),
    defaultEndpoint: str(),
  },
  serverCheck,
);

/** Port names must be unique across a gateway's servers. */
function serversCheck(servers: unknown[]): Issue[] {
  if (servers.length === 0) return [{ path: [], message: 'gateway must have at least one server' }];
  const seen = new Set<string>();
  const out: Issue[] = [];
  servers.forEach((s, i) => {
    const name = (s as { port?: { name?: unknown } } | null)?.port?.name;
    if (typeof name !== 'string') return;
    if (seen.has(name)) out.push({ path: [i, 'port', 'name'], message: `port names in servers must be unique: duplicate name ${name}` });
    seen.add(name);
  });
  return out;
}

/** istiod: a Gateway's name is a DNS label (no dots), since VirtualServices name it as "ns/name". */
function gatewayNameCheck(v: Record<string, unknown>): Issue[] {
  const name = (v['metadata'] as { name?: unknown } | undefined)?.name;
  // A name that is no DNS name at all is already reported by metadata's own check.
  if (typeof name !== 'string' || dnsLabelProblem(name) === undefined || dnsSubdomainProblem(name) !== undefined) return [];
  return [{ path: ['metadata', 'name'], message: `invalid gateway name: ${JSON.stringify(name)} (a DNS-1123 label: no dots)` }];
}

export const gatewaySchema: ObjectSchema = {
  ...topLevel({ spec: req(obj({ servers: arr(server, serversCheck), selector: stringMap() }, (spec) => (spec['servers'] === undefined ? [{ path: ['servers'], message: 'gateway must have at least one server' }] : []))) }),
  check: gatewayNameCheck,
};
