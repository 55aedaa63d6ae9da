/**
 * Where clicking an edge meets `trellis explain`: the one function the
 * dashboard calls to explain a typical request of an edge. `trellis
 * explain` (src/debug/explain/, explainRequest()) is built beside the
 * dashboard; until this function calls it, it answers undefined and the page
 * shows the command to run instead (the API says 501 with that command).
 * Wiring it is one change here: call explainRequest() with the same mesh
 * locator and return its JSON (`trellis explain -o json`'s document).
 */
import type { MeshLocator } from '../debug/locator.js';

export interface EdgeRequest {
  /** The source pod, "name.namespace". */
  from: string;
  /** The request's URL, "http://host:port/". */
  url: string;
}

export async function explainEdgeRequest(_mesh: MeshLocator, _req: EdgeRequest): Promise<unknown | undefined> {
  return undefined;
}
