/**
 * The environment kubelet gives every container for the Services of its
 * pod's namespace (pkg/kubelet/envvars): FOO_SERVICE_HOST, FOO_SERVICE_PORT
 * (the first port), FOO_SERVICE_PORT_<NAME> per named port, and Docker's link
 * variables (FOO_PORT, FOO_PORT_80_TCP, _PROTO, _PORT, _ADDR). Only Services
 * with a cluster IP count (not headless, not ExternalName). `hostOf` gives
 * the address a container is told — the cluster IP, or in loopback mode the
 * pod's view of it — and `portOf` the port (the service port, or where a
 * loopback view had to move a port the user may not bind).
 */
import type { Service } from '../../config/objects.js';

/** kubelet's makeEnvVariableName: upper case, '-' → '_'. */
export function envName(s: string): string {
  return s.replace(/-/g, '_').toUpperCase();
}

function hasIp(s: Service): boolean {
  const ip = s.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None' && (s.spec?.ports?.length ?? 0) > 0;
}

export function serviceEnv(services: readonly Service[], hostOf: (svc: Service) => string, portOf: (port: number) => number = (p) => p): Record<string, string> {
  const out: Record<string, string> = {};
  for (const svc of services) {
    if (!hasIp(svc)) continue;
    const prefix = envName(svc.metadata.name);
    const host = hostOf(svc);
    const ports = svc.spec.ports ?? [];
    out[`${prefix}_SERVICE_HOST`] = host;
    out[`${prefix}_SERVICE_PORT`] = String(portOf(ports[0]!.port));
    for (const p of ports) if (p.name) out[`${prefix}_SERVICE_PORT_${envName(p.name)}`] = String(portOf(p.port));
    ports.forEach((p, i) => {
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      const url = `${proto}://${host}:${portOf(p.port)}`;
      if (i === 0) out[`${prefix}_PORT`] = url;
      // The variable's name keeps the service port (what the app was written against); its value is where to connect.
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out[pp] = url;
      out[`${pp}_PROTO`] = proto;
      out[`${pp}_PORT`] = String(portOf(p.port));
      out[`${pp}_ADDR`] = host;
    });
  }
  return out;
}
