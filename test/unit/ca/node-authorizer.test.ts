/**
 * The node authorizer's decision (istiod's node_auth.go), pure: who may get
 * a certificate for another identity, from which node, and why not. The pod
 * view is a real PodIndex over Pod objects shaped as the control plane
 * accepts them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../src/config/objects.js';
import { authorizeImpersonation, parseTrustedNodeAccounts, type ImpersonationRequest } from '../../../src/ca/impersonation/node-authorizer.js';
import { PodIndex } from '../../../src/ca/impersonation/pod-index.js';
import { parseSpiffeId } from '../../../src/ca/spiffe.js';
import type { TokenSubject } from '../../../src/ca/token.js';

const pod = (ns: string, name: string, sa: string | undefined, node: string | undefined, uid?: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, ...(uid ? { uid } : {}) },
  spec: { ...(sa ? { serviceAccountName: sa } : {}), ...(node ? { nodeName: node } : {}) },
});
const pods = new PodIndex([
  pod('istio-system', 'ztunnel-a', 'ztunnel', 'node-a', 'uid-za'),
  pod('istio-system', 'ztunnel-b', 'ztunnel', 'node-b', 'uid-zb'),
  pod('istio-system', 'ztunnel-pending', 'ztunnel', undefined),
  pod('shop', 'cart-1', 'cart', 'node-a'),
  pod('shop', 'cart-2', 'cart', 'node-b'),
  pod('shop', 'pay-1', 'payments', 'node-b'),
  pod('shop', 'legacy', undefined, 'node-a'),
  { ...pod('shop', 'old', undefined, 'node-a'), spec: { nodeName: 'node-a', serviceAccount: 'old-style' } as Pod['spec'] },
]);
const ztunnelA: TokenSubject = { namespace: 'istio-system', serviceAccount: 'ztunnel', pod: { name: 'ztunnel-a', uid: 'uid-za' } };
const id = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;
const decide = (caller: TokenSubject, requested: string, over: Partial<ImpersonationRequest> = {}) => authorizeImpersonation({
  caller, requested, trustDomain: 'cluster.local', trustedNodeAccounts: [{ namespace: 'istio-system', serviceAccount: 'ztunnel' }], pods, ...over,
});
const refused = (d: ReturnType<typeof decide>, why: RegExp) => {
  assert.equal(d.allowed, false, JSON.stringify(d));
  assert.match((d as { reason: string }).reason, why);
};

describe('node authorizer', () => {
  test('a node proxy may have the identity of a service account with a pod on its own node', () => {
    assert.deepEqual(decide(ztunnelA, id('shop', 'cart')), { allowed: true, identity: { namespace: 'shop', serviceAccount: 'cart' }, node: 'node-a' });
    // A pod that names no service account runs as "default"; the deprecated spec.serviceAccount counts too.
    assert.equal(decide(ztunnelA, id('shop', 'default')).allowed, true);
    assert.equal(decide(ztunnelA, id('shop', 'old-style')).allowed, true);
    // Its own identity: its own pod is on its node.
    assert.equal(decide(ztunnelA, id('istio-system', 'ztunnel')).allowed, true);
  });

  test('pods only on another node, or none at all, are refused with the node named', () => {
    refused(decide(ztunnelA, id('shop', 'payments')), /no pod with service account shop\/payments runs on node node-a, the node of caller istio-system\/ztunnel/);
    refused(decide(ztunnelA, id('shop', 'nobody')), /no pod with service account shop\/nobody runs on node node-a/);
    refused(decide(ztunnelA, id('other', 'cart')), /other\/cart/);
    const ztunnelB: TokenSubject = { namespace: 'istio-system', serviceAccount: 'ztunnel', pod: { name: 'ztunnel-b' } };
    assert.equal(decide(ztunnelB, id('shop', 'payments')).allowed, true, 'the same request from node-b\'s proxy');
  });

  test('only trusted node accounts may impersonate; an empty list trusts no one', () => {
    const cart: TokenSubject = { namespace: 'shop', serviceAccount: 'cart', pod: { name: 'cart-1' } };
    refused(decide(cart, id('shop', 'default')), /caller shop\/cart is not a node proxy and may not ask for another identity \(trusted node accounts: istio-system\/ztunnel\)/);
    refused(decide(ztunnelA, id('shop', 'cart'), { trustedNodeAccounts: [] }), /none are configured/);
    // A ztunnel service account in another namespace is not the trusted one.
    refused(decide({ ...ztunnelA, namespace: 'shop' }, id('shop', 'cart')), /shop\/ztunnel is not a node proxy/);
  });

  test('the caller\'s node: its bound pod must exist with the token\'s uid and service account; else a bound node; else refused', () => {
    refused(decide({ ...ztunnelA, pod: { name: 'ztunnel-gone' } }, id('shop', 'cart')), /pod istio-system\/ztunnel-gone is not known to the control plane/);
    refused(decide({ ...ztunnelA, pod: { name: 'ztunnel-a', uid: 'uid-old' } }, id('shop', 'cart')), /has uid uid-za, not the token's uid-old/);
    refused(decide({ ...ztunnelA, pod: { name: 'ztunnel-pending' } }, id('shop', 'cart')), /not scheduled on a node/);
    refused(decide({ ...ztunnelA, node: { name: 'node-b' } }, id('shop', 'cart')), /token names node node-b, but its pod istio-system\/ztunnel-a is on node node-a/);
    const onB = new PodIndex([pod('istio-system', 'ztunnel-a', 'other', 'node-a', 'uid-za')]);
    refused(decide(ztunnelA, id('istio-system', 'other'), { pods: onB }), /runs as service account other, not ztunnel/);
    const nodeBound: TokenSubject = { namespace: 'istio-system', serviceAccount: 'ztunnel', node: { name: 'node-b' } };
    assert.deepEqual(decide(nodeBound, id('shop', 'payments')), { allowed: true, identity: { namespace: 'shop', serviceAccount: 'payments' }, node: 'node-b' });
    refused(decide({ namespace: 'istio-system', serviceAccount: 'ztunnel' }, id('shop', 'cart')), /bound to no pod and no node/);
  });

  test('the requested identity must be a service-account SPIFFE id of this trust domain', () => {
    refused(decide(ztunnelA, 'spiffe://other.domain/ns/shop/sa/cart'), /not in this CA's trust domain cluster\.local/);
    for (const bad of ['shop/cart', 'spiffe://cluster.local/ns/shop', 'spiffe://cluster.local/ns/shop/sa/cart/x', 'spiffe://cluster.local/ns/Shop/sa/cart', 'https://cluster.local/ns/shop/sa/cart']) {
      refused(decide(ztunnelA, bad), /SPIFFE id|DNS label|not a/);
    }
    assert.deepEqual(parseSpiffeId(id('a', 'b.c')), { trustDomain: 'cluster.local', identity: { namespace: 'a', serviceAccount: 'b.c' } });
  });

  test('trusted node accounts parse as istiod\'s NS/SA list; malformed entries are usage errors', () => {
    assert.deepEqual(parseTrustedNodeAccounts('--f', 'istio-system/ztunnel, kube-system/node-proxy'), [
      { namespace: 'istio-system', serviceAccount: 'ztunnel' }, { namespace: 'kube-system', serviceAccount: 'node-proxy' },
    ]);
    assert.deepEqual(parseTrustedNodeAccounts('--f', ''), []);
    for (const bad of ['ztunnel', 'a/b/c', '/x', 'A/b']) {
      assert.throws(() => parseTrustedNodeAccounts('--f', bad), (e: Error & { code?: string }) => e.code === 'CLI_USAGE' && e.message.startsWith('--f: '), bad);
    }
  });
});
