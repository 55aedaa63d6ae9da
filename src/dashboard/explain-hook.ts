/**
 * Where clicking an edge meets `trellis explain`: a typical request of the
 * edge (GET of the service's first port from a pod of the client workload)
 * walked by explainRequest() — the same walk, over the same live config, as
 * the command the page shows beside it. A pod that is gone or a proxy that
 * does not answer is an error the page shows, not a failed server.
 */
import { errorMessage } from '../errors.js';
import { explainRequest, renderExplanation, type Explanation } from '../debug/explain/index.js';
import type { MeshLocator } from '../debug/locator.js';

export interface EdgeRequest {
  /** The source pod, "name.namespace". */
  from: string;
  /** The request's URL, "http://host:port/". */
  url: string;
}

export type EdgeExplanation = { explanation: Explanation; text: string } | { error: string };

export async function explainEdgeRequest(mesh: MeshLocator, req: EdgeRequest): Promise<EdgeExplanation> {
  try {
    const explanation = await explainRequest({ method: 'GET', url: req.url, headers: {}, from: req.from, mesh: async () => mesh });
    return { explanation, text: renderExplanation(explanation) };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}
