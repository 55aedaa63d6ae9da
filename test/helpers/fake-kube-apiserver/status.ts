/**
 * metav1.Status, the body of every failed request (and of a watch ERROR
 * event), with the reasons and messages kube-apiserver uses: NotFound,
 * AlreadyExists, Conflict, Expired (410), BadRequest, Unauthorized,
 * Forbidden, Invalid, MethodNotAllowed, InternalError.
 */
import { qualifiedName, type ResourceDef } from './kinds.js';

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

export class ApiFailure extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

export function failure(code: number, reason: string, message: string, details?: Status['details']): ApiFailure {
  return new ApiFailure({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

const details = (def: ResourceDef, name: string) => ({ name, ...(def.group ? { group: def.group } : {}), kind: def.plural });

export const notFound = (def: ResourceDef, name: string) => failure(404, 'NotFound', `${qualifiedName(def)} "${name}" not found`, details(def, name));
export const alreadyExists = (def: ResourceDef, name: string) => failure(409, 'AlreadyExists', `${qualifiedName(def)} "${name}" already exists`, details(def, name));
export const conflict = (def: ResourceDef, name: string) =>
  failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, details(def, name));
export const badRequest = (message: string) => failure(400, 'BadRequest', message);
export const invalid = (def: ResourceDef, name: string, message: string) => failure(422, 'Invalid', `${def.kind} "${name}" is invalid: ${message}`, details(def, name));
export const tooOld = (requested: number, oldest: number) => failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
export const continueExpired = () =>
  failure(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
