/**
 * The API server's side of the injection webhook, for tests: AdmissionReview
 * v1 requests posted over HTTPS with the mesh root as the only trust anchor
 * and the webhook Service's name as the server name (what the API server
 * checks with the caBundle), and the answer's patch applied with
 * fast-json-patch, an RFC 6902 implementation independent of ours.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import jsonpatch from 'fast-json-patch';
import { Agent, request } from 'undici';

export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  patchType?: string;
  patch?: string;
  result?: { message?: string; code?: number };
  warnings?: string[];
}

export interface Answer {
  status: number;
  /** The whole AdmissionReview, when the body was one. */
  review?: { apiVersion: string; kind: string; response: ReviewResponse };
  text: string;
}

export type Pod = Record<string, unknown> & { metadata?: Record<string, unknown>; spec: Record<string, unknown> };

export class WebhookClient {
  readonly #agent: Agent;
  readonly #url: string;

  /** `servername` is what the certificate must name (the Service's DNS name). */
  constructor(address: string, rootPem: string, servername = 'istiod.istio-system.svc') {
    this.#url = `https://${address}/inject`;
    this.#agent = new Agent({ connect: { ca: rootPem, servername, rejectUnauthorized: true } });
  }

  async post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, method: 'POST' | 'GET' = 'POST'): Promise<Answer> {
    const r = await request(this.#url, { method, body: method === 'POST' ? body : undefined, headers, dispatcher: this.#agent });
    const text = await r.body.text();
    let review: Answer['review'];
    try {
      review = JSON.parse(text) as Answer['review'];
    } catch {
      review = undefined;
    }
    return { status: r.statusCode, review, text };
  }

  /** One pod CREATE in `namespace`, as the API server sends it. */
  async review(pod: Pod, namespace: string, extra: { dryRun?: boolean; uid?: string } = {}): Promise<ReviewResponse & { uidSent: string }> {
    const uid = extra.uid ?? randomUUID();
    const a = await this.post(JSON.stringify(admissionReview(pod, namespace, uid, extra.dryRun ?? false)));
    assert.equal(a.status, 200, a.text);
    assert.equal(a.review?.apiVersion, 'admission.k8s.io/v1');
    assert.equal(a.review?.kind, 'AdmissionReview');
    return { ...a.review!.response, uidSent: uid };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

export function admissionReview(pod: Pod, namespace: string, uid: string, dryRun: boolean): unknown {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: pod,
      oldObject: null,
      dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** The pod after the response's patch, applied by fast-json-patch with validation (a bad op fails the test). */
export function applyAnswer(pod: Pod, r: ReviewResponse): Pod {
  if (r.patch === undefined) return pod;
  assert.equal(r.patchType, 'JSONPatch');
  const ops = JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
  assert.ok(Array.isArray(ops) && ops.length > 0, 'a patch has operations');
  return jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument;
}
