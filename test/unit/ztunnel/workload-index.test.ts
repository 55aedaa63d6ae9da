/**
 * The node proxy's reading of the workload API (src/ztunnel/xds/, state/):
 * Address resources decoded with their field paths on error, the elided
 * trust domain filled in; the index resolving an original destination as
 * ztunnel does: a pod IP, a service VIP (healthy endpoints only, round
 * robin, the service port mapped to each endpoint's target port), a VIP
 * without that port or without endpoints, and everything else passed through;
 * a destination with a waypoint (by hostname or address) led to a ready
 * waypoint pod with the original destination as authority, refused when the
 * waypoint is unknown or unready, and not looped back from the waypoint.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import {
  AddressSchema, GatewayAddressSchema, NamespacedHostnameSchema, NetworkAddressSchema, PortListSchema, PortSchema, ServiceSchema, TunnelProtocol, WorkloadSchema, WorkloadStatus,
  type GatewayAddress,
} from '../../../src/gen/workloadapi/workload_pb.js';
import { addressType } from '../../../src/ztunnel/xds/workload-types.js';
import { canonicalIp, ipFromBytes } from '../../../src/ztunnel/state/ip.js';
import type { AddressInfo } from '../../../src/ztunnel/state/model.js';
import { WorkloadIndex } from '../../../src/ztunnel/state/workload-index.js';
import { forwardedSource } from '../../../src/ztunnel/proxy/forwarded-source.js';
import { parseSpiffeId } from '../../../src/ztunnel/hbone/spiffe-peer.js';

const type = addressType('cluster.local');
const bytes = (ip: string) => Uint8Array.from(ip.split('.').map(Number));
const SVC = 'shop/web.shop.svc.cluster.local';

function workload(name: string, ip: string, targetPort: number, healthy = true, o: { svc?: string; port?: number; sa?: string; waypoint?: GatewayAddress } = {}) {
  return anyPack(AddressSchema, create(AddressSchema, { type: { case: 'workload', value: create(WorkloadSchema, {
    uid: `Kubernetes//Pod/shop/${name}`, name, namespace: 'shop', addresses: [bytes(ip)], serviceAccount: o.sa ?? 'web', tunnelProtocol: TunnelProtocol.HBONE,
    status: healthy ? WorkloadStatus.HEALTHY : WorkloadStatus.UNHEALTHY, waypoint: o.waypoint,
    services: { [o.svc ?? SVC]: create(PortListSchema, { ports: [create(PortSchema, { servicePort: o.port ?? 80, targetPort })] }) },
  }) } }));
}
function serviceOf(name: string, vip: string, port: number, targetPort: number, waypoint?: GatewayAddress) {
  return anyPack(AddressSchema, create(AddressSchema, { type: { case: 'service', value: create(ServiceSchema, {
    name, namespace: 'shop', hostname: `${name}.shop.svc.cluster.local`, addresses: [create(NetworkAddressSchema, { address: bytes(vip) })],
    ports: [create(PortSchema, { servicePort: port, targetPort })], waypoint,
  }) } }));
}
const service = serviceOf('web', '10.96.0.5', 80, 8080);

function decodeAll(...anys: Any[]): AddressInfo[] {
  return anys.map((a) => {
    const d = type.decode(a);
    assert.ok(d.ok, JSON.stringify(d));
    return d.value;
  });
}

describe('workload API on the node proxy', () => {
  it('decodes a workload (default trust domain filled in) and a service, named as the control plane names them', () => {
    const [w, s] = decodeAll(workload('a', '10.1.0.1', 8080), service);
    assert.equal(w!.kind === 'workload' && `${w.uid} ${w.trustDomain} ${w.addresses}`, 'Kubernetes//Pod/shop/a cluster.local 10.1.0.1');
    assert.equal(s!.kind === 'service' && `${s.key} ${s.vips}`, `${SVC} 10.96.0.5`);
    assert.equal(type.decode(workload('a', '10.1.0.1', 8080)).name, 'Kubernetes//Pod/shop/a');
  });

  it('an address that is not 4 or 16 bytes is an error with its path; nothing half-decoded is kept', () => {
    const bad = anyPack(AddressSchema, create(AddressSchema, { type: { case: 'workload', value: create(WorkloadSchema, { uid: 'u', namespace: 'shop', addresses: [new Uint8Array([1, 2, 3])] }) } }));
    assert.deepEqual(type.decode(bad), { ok: false, name: 'u', errors: ['workload.addresses[0]: 3 bytes is not an IPv4 or IPv6 address'] });
  });

  it('resolves pod IPs, VIPs (healthy endpoints, round robin, target ports) and passes the rest through', () => {
    const index = new WorkloadIndex();
    index.setAddresses(decodeAll(workload('a', '10.1.0.1', 8080), workload('b', '10.1.0.2', 9090), workload('sick', '10.1.0.3', 8080, false), service));
    const pick = () => {
      const t = index.resolve('10.96.0.5', 80);
      return t.kind === 'service' ? `${t.workload.name}:${t.port}` : t.kind;
    };
    assert.deepEqual([pick(), pick(), pick(), pick()].sort(), ['a:8080', 'a:8080', 'b:9090', 'b:9090'], 'never the unhealthy one');
    const direct = index.resolve('10.1.0.2', 7000);
    assert.equal(direct.kind === 'workload' && `${direct.workload.name}:${direct.port}`, 'b:7000');
    assert.equal(index.resolve('10.96.0.5', 443).kind, 'no-endpoint');
    assert.equal(index.resolve('93.184.216.34', 443).kind, 'passthrough');
    index.setAddresses(decodeAll(workload('sick', '10.1.0.3', 8080, false), service));
    const none = index.resolve('10.96.0.5', 80);
    assert.equal(none.kind === 'no-endpoint' && none.reason, `service ${SVC} has no ready endpoint for port 80`);
  });

  it('IP text in one canonical form, whatever the socket or the bytes say', () => {
    assert.equal(ipFromBytes(new Uint8Array([0xfd, 0, ...new Array(13).fill(0), 5])), 'fd00::5');
    assert.equal(canonicalIp('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(canonicalIp('FD00:0:0::5'), 'fd00::5');
    assert.equal(ipFromBytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1])), '10.0.0.1');
  });

  it('a tunnel\'s forwarded for= is believed only for an address of a workload with the peer\'s own identity', () => {
    const index = new WorkloadIndex();
    index.setAddresses(decodeAll(workload('a', '10.1.0.1', 8080)));
    const web = parseSpiffeId('spiffe://cluster.local/ns/shop/sa/web')!;
    assert.equal(forwardedSource(index, web, { host: '::ffff:10.1.0.1' }), '10.1.0.1');
    assert.equal(forwardedSource(index, parseSpiffeId('spiffe://cluster.local/ns/shop/sa/evil')!, { host: '10.1.0.1' }), undefined, 'another identity claiming the address of a');
    assert.equal(forwardedSource(index, parseSpiffeId('spiffe://other.domain/ns/shop/sa/web')!, { host: '10.1.0.1' }), undefined, 'another trust domain');
    assert.equal(forwardedSource(index, web, { host: '10.9.9.9' }), undefined, 'an address no workload has');
    assert.equal(forwardedSource(index, web, undefined), undefined);
  });

  describe('waypoints', () => {
    const WP = 'shop/wp.shop.svc.cluster.local';
    const byName = (name: string) => create(GatewayAddressSchema, {
      destination: { case: 'hostname', value: create(NamespacedHostnameSchema, { namespace: 'shop', hostname: `${name}.shop.svc.cluster.local` }) }, hboneMtlsPort: 15008,
    });
    const wpPod = (name: string, ip: string, healthy = true) => workload(name, ip, 15008, healthy, { svc: WP, port: 15008, sa: 'wp' });
    const wpSvc = serviceOf('wp', '10.96.0.9', 15008, 15008);
    const index = (...anys: Any[]) => {
      const i = new WorkloadIndex();
      i.setAddresses(decodeAll(...anys));
      return i;
    };
    const hop = (i: WorkloadIndex, ip: string, port: number, source?: string) => {
      const t = i.resolve(ip, port, source === undefined ? undefined : i.workloadByName('shop', source));
      if (t.kind === 'waypoint') return `${t.waypoint.name} ${t.waypoint.addresses[0]}:${t.port} authority ${t.authority.host}:${t.authority.port} for ${t.destination.service?.name ?? t.destination.workload?.name}`;
      if (t.kind === 'no-endpoint') return t.reason;
      return t.kind === 'service' || t.kind === 'workload' ? `${t.kind} ${t.workload.name}:${t.port}` : t.kind;
    };

    it('a service bound by hostname goes to a ready waypoint pod on 15008, the VIP:port as authority', () => {
      const i = index(workload('a', '10.1.0.1', 8080), wpPod('wp-1', '10.1.0.9'), wpPod('wp-sick', '10.1.0.8', false), wpSvc, serviceOf('web', '10.96.0.5', 80, 8080, byName('wp')));
      assert.deepEqual([hop(i, '10.96.0.5', 80), hop(i, '10.96.0.5', 80)], Array(2).fill('wp-1 10.1.0.9:15008 authority 10.96.0.5:80 for web'), 'never the unready waypoint pod');
      assert.equal(hop(i, '10.96.0.5', 81), 'wp-1 10.1.0.9:15008 authority 10.96.0.5:81 for web', 'ports the service lacks are the waypoint\'s to judge');
      assert.equal(hop(i, '10.1.0.1', 8080), 'workload a:8080', 'the pod\'s own IP: its workload has no waypoint');
      const w = i.resolve('10.96.0.5', 80);
      assert.equal(w.kind === 'waypoint' && w.waypoint.serviceAccount, 'wp', 'the waypoint\'s identity is the one required');
    });

    it('fails closed: an unknown waypoint or one without a ready pod refuses, naming it; the destination is never picked', () => {
      const missing = index(workload('a', '10.1.0.1', 8080), serviceOf('web', '10.96.0.5', 80, 8080, byName('gone')));
      assert.equal(hop(missing, '10.96.0.5', 80), 'waypoint shop/gone has no ready endpoint (its Service gone.shop.svc.cluster.local is unknown)');
      const unready = index(workload('a', '10.1.0.1', 8080), wpPod('wp-sick', '10.1.0.8', false), wpSvc, serviceOf('web', '10.96.0.5', 80, 8080, byName('wp')));
      assert.equal(hop(unready, '10.96.0.5', 80), 'waypoint shop/wp has no ready endpoint');
    });

    it('a workload\'s waypoint by address; the waypoint\'s own traffic to its destination is not sent back to it', () => {
      const byIp = create(GatewayAddressSchema, { destination: { case: 'address', value: create(NetworkAddressSchema, { address: bytes('10.1.0.9') }) }, hboneMtlsPort: 15008 });
      const i = index(workload('a', '10.1.0.1', 8080, true, { waypoint: byIp }), workload('b', '10.1.0.2', 8080), wpPod('wp-1', '10.1.0.9'), wpSvc,
        serviceOf('web', '10.96.0.5', 80, 8080, byName('wp')));
      assert.equal(hop(i, '10.1.0.1', 8080, 'b'), 'wp-1 10.1.0.9:15008 authority 10.1.0.1:8080 for a');
      assert.equal(hop(i, '10.1.0.1', 8080, 'wp-1'), 'workload a:8080');
      assert.match(hop(i, '10.96.0.5', 80, 'wp-1'), /^service (a|b):8080$/);
      assert.equal(hop(index(workload('a', '10.1.0.1', 8080, true, { waypoint: byIp })), '10.1.0.1', 8080), 'waypoint 10.1.0.9 has no ready endpoint (nothing is at 10.1.0.9)');
    });

    it('a waypoint without a port is an error with its path, not "no waypoint"', () => {
      const bad = serviceOf('web', '10.96.0.5', 80, 8080, create(GatewayAddressSchema, { destination: { case: 'hostname', value: create(NamespacedHostnameSchema, { namespace: 'shop', hostname: 'wp.shop.svc.cluster.local' }) } }));
      assert.deepEqual(type.decode(bad), { ok: false, name: SVC, errors: ['service.waypoint.hbone_mtls_port: missing'] });
    });
  });
});
