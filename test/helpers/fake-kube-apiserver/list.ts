/**
 * A list, whole or in pages. With `limit`, the first page takes a snapshot
 * of the collection at the current revision and the continue token points
 * into it, so every page shows the same moment (the list's resourceVersion
 * stays the same across pages). A token whose revision has been compacted
 * away gets 410 Expired; a token with a resourceVersion other than 0 is a
 * 400, as the API concepts' table says.
 */
import { randomBytes } from 'node:crypto';
import { presentList } from './present.js';
import { selectorFilter } from './field-selector.js';
import { badRequest, continueExpired } from './status.js';
import type { Route } from './routes.js';
import type { Store, StoredObject } from './store.js';

interface Snapshot {
  rv: number;
  items: StoredObject[];
  offset: number;
}

export class Lister {
  readonly #snapshots = new Map<string, Snapshot>();

  constructor(private readonly store: Store) {}

  list(route: Route, query: URLSearchParams): unknown {
    const limit = Number(query.get('limit') ?? '0');
    const token = query.get('continue') ?? '';
    const rv = query.get('resourceVersion') ?? '';
    const selected = selectorFilter(route.def, query);
    let snap: Snapshot;
    if (token) {
      if (rv !== '' && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
      const found = this.#snapshots.get(token);
      if (!found || found.rv < this.store.compactedRv) throw continueExpired();
      this.#snapshots.delete(token);
      snap = found;
    } else {
      const { rv: now, items } = this.store.list(route.def, route.namespace);
      snap = { rv: now, items: items.filter(selected), offset: 0 };
    }
    const end = limit > 0 ? Math.min(snap.items.length, snap.offset + limit) : snap.items.length;
    const page = snap.items.slice(snap.offset, end);
    if (end >= snap.items.length) return presentList(route.def, route.version, snap.rv, page);
    const next = randomBytes(12).toString('base64url');
    this.#snapshots.set(next, { ...snap, offset: end });
    return presentList(route.def, route.version, snap.rv, page, { token: next, remaining: snap.items.length - end });
  }
}
