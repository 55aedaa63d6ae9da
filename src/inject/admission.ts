/**
 * The webhook's logic without the server: an AdmissionReview
 * (admission.k8s.io/v1) in, the AdmissionReview to answer out. Pure.
 *
 * What a failure answers, and why (istiod's answers, so that the API
 * server and its audit log see what they would see with Istio):
 * - an empty body: HTTP 400 "no body found", as istiod.
 * - not an AdmissionReview (not JSON, another kind or version, no request,
 *   no uid): HTTP 200 and a review with allowed: false and the reason in
 *   response.result.message — istiod's toAdmissionResponse. The API server
 *   never sends these; whoever did learns why, and the uid is echoed when
 *   there is one.
 * - a request for something that is not a Pod (a webhook rule that matches
 *   too much): allowed, unchanged, with a warning — a misconfigured rule must
 *   not block every Deployment in the cluster.
 * - a Pod that cannot be injected (malformed annotations, a malformed pod):
 *   allowed: false with the reason, as istiod answers (its
 *   toAdmissionResponse leaves Allowed false): the user sees the reason at
 *   `kubectl apply` instead of getting a pod whose capture rules nobody asked for.
 * dryRun gets the same answer: injection has no side effects to skip.
 */
import { errorMessage } from '../errors.js';
import type { InjectionConfig } from './config.js';
import { decide, type Decision } from './decision.js';
import { injectPod } from './inject-pod.js';
import { createPatch, type PatchOp } from './json-patch.js';
import { isObject, type PodLike } from './k8s-types.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch. */
  patch?: string;
  result?: { status?: 'Failure'; code?: number; message: string };
  warnings?: string[];
}

export interface ReviewAnswer {
  /** HTTP status of the answer: 200, or 400 for an empty body. */
  status: number;
  review: { apiVersion: string; kind: 'AdmissionReview'; response: AdmissionResponse };
  /** For the log: what happened, in a word, and the decision when there was one. */
  outcome: 'injected' | 'skipped' | 'refused' | 'passed-through' | 'malformed';
  decision?: Decision;
  patch?: PatchOp[];
  dryRun: boolean;
}

export interface ReviewContext {
  cfg: InjectionConfig;
  /** A namespace's labels, or undefined when the control plane does not know it. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
}

function answer(uid: string, response: Omit<AdmissionResponse, 'uid'>, status = 200): Pick<ReviewAnswer, 'status' | 'review'> {
  return { status, review: { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, ...response } } };
}

function malformed(message: string, uid = '', status = 200): ReviewAnswer {
  return { ...answer(uid, { allowed: false, result: { status: 'Failure', code: 400, message } }, status), outcome: 'malformed', dryRun: false };
}

/** The request's uid when the body has one, so that even a refused review is answered to its sender. */
function uidOf(doc: Record<string, unknown>): string {
  return isObject(doc.request) && typeof doc.request.uid === 'string' ? doc.request.uid : '';
}

/** Why this value is not a Pod the injector can read, or undefined. */
function podShapeError(o: Record<string, unknown>): string | undefined {
  if (o.metadata !== undefined && !isObject(o.metadata)) return 'metadata is not an object';
  if (!isObject(o.spec)) return 'spec is missing or not an object';
  if (!Array.isArray(o.spec.containers) || !o.spec.containers.every((c) => isObject(c) && typeof c.name === 'string')) return 'spec.containers must be a list of named containers';
  for (const f of ['initContainers', 'volumes'] as const) {
    const v = o.spec[f];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((c) => isObject(c) && typeof c.name === 'string'))) return `spec.${f} must be a list of named entries`;
  }
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  for (const f of ['labels', 'annotations'] as const) {
    const v = meta[f];
    if (v !== undefined && v !== null && !(isObject(v) && Object.values(v).every((s) => typeof s === 'string'))) return `metadata.${f} must map strings to strings`;
  }
  return undefined;
}

/** Answers one AdmissionReview body. Never throws. */
export function handleReview(body: string, ctx: ReviewContext): ReviewAnswer {
  if (body.trim() === '') return malformed('no body found', '', 400);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return malformed(`the body is not JSON: ${errorMessage(err)}`);
  }
  if (!isObject(doc)) return malformed('the body is not an AdmissionReview object');
  if (doc.kind !== 'AdmissionReview' || doc.apiVersion !== ADMISSION_API_VERSION) {
    return malformed(`expected kind AdmissionReview, apiVersion ${ADMISSION_API_VERSION}; got kind ${JSON.stringify(doc.kind)}, apiVersion ${JSON.stringify(doc.apiVersion)}`, uidOf(doc));
  }
  const req = doc.request;
  if (!isObject(req)) return malformed('the AdmissionReview has no request');
  if (typeof req.uid !== 'string' || req.uid === '') return malformed('the request has no uid');
  const uid = req.uid;
  const dryRun = req.dryRun === true;
  const kind = isObject(req.kind) ? req.kind : {};
  const obj = req.object;
  const isPod = (kind.kind === undefined || (kind.kind === 'Pod' && (kind.group ?? '') === '')) && isObject(obj) && (obj.kind === undefined || obj.kind === 'Pod');
  if (!isPod) {
    const what = `${String(kind.kind ?? (isObject(obj) ? obj.kind : undefined) ?? 'unknown')}`;
    const message = `not a Pod (${what}): nothing to inject; check the webhook's rules`;
    return { ...answer(uid, { allowed: true, warnings: [message], result: { message } }), outcome: 'passed-through', dryRun };
  }
  const shape = podShapeError(obj);
  if (shape) return { ...answer(uid, { allowed: false, result: { status: 'Failure', code: 400, message: `the pod cannot be read: ${shape}` } }), outcome: 'refused', dryRun };
  try {
    return injectReview(uid, obj as unknown as PodLike, typeof req.namespace === 'string' ? req.namespace : '', dryRun, ctx);
  } catch (err) {
    // A pod shape the checks above let through and the injector still chokes on: refused with the reason, never a crash.
    const message = `sidecar injection failed: ${errorMessage(err)}`;
    return { ...answer(uid, { allowed: false, result: { status: 'Failure', code: 400, message } }), outcome: 'refused', dryRun };
  }
}

function injectReview(uid: string, original: PodLike, reqNamespace: string, dryRun: boolean, ctx: ReviewContext): ReviewAnswer {
  const pod: PodLike = { ...original, metadata: { ...(original.metadata ?? {}) } };
  const namespace = pod.metadata.namespace || reqNamespace;
  const decision = decide({ metadata: pod.metadata, spec: pod.spec, namespace, namespaceLabels: ctx.namespaceLabels(namespace), mode: 'webhook' }, ctx.cfg);
  if (!decision.inject) return { ...answer(uid, { allowed: true }), outcome: 'skipped', decision, dryRun };
  let injected: PodLike;
  try {
    injected = injectPod(pod, { cfg: ctx.cfg, namespace });
  } catch (err) {
    const message = `sidecar injection failed: ${errorMessage(err)}`;
    return { ...answer(uid, { allowed: false, result: { status: 'Failure', code: 400, message } }), outcome: 'refused', decision, dryRun };
  }
  const patch = createPatch(original, JSON.parse(JSON.stringify(injected)));
  const encoded = Buffer.from(JSON.stringify(patch)).toString('base64');
  return { ...answer(uid, { allowed: true, patchType: 'JSONPatch', patch: encoded }), outcome: 'injected', decision, patch, dryRun };
}
