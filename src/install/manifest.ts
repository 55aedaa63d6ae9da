/** A Kubernetes object as `trellis install` prints it: plain data, rendered to YAML at the end. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export const partOf = { 'app.kubernetes.io/part-of': 'trellis' };
