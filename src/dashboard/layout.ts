/**
 * Where the page draws each node: columns by depth in the graph (a client
 * workload left, the services it calls next, their workloads next, and so
 * on), rows in name order within a column. Depth is the longest path from
 * a node nothing calls, relaxed at most once per node so a cycle (a
 * workload calling its own service) cannot loop. Pure, no DOM: the page
 * and the unit tests share it.
 */

export interface LayoutInput {
  nodes: readonly { id: string }[];
  edges: readonly { from: string; to: string }[];
}

export interface Placed {
  x: number;
  y: number;
  column: number;
}

export const COLUMN_WIDTH = 420;
export const ROW_HEIGHT = 56;
export const MARGIN = 36;

export function layout(g: LayoutInput): { at: Map<string, Placed>; width: number; height: number } {
  const depth = new Map(g.nodes.map((n) => [n.id, 0]));
  for (let round = 0; round < g.nodes.length; round++) {
    let changed = false;
    for (const e of g.edges) {
      const d = (depth.get(e.from) ?? 0) + 1;
      if (e.from !== e.to && d > (depth.get(e.to) ?? 0) && d < g.nodes.length) {
        depth.set(e.to, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = new Map<number, string[]>();
  for (const n of [...g.nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    const c = depth.get(n.id) ?? 0;
    columns.set(c, [...(columns.get(c) ?? []), n.id]);
  }
  const at = new Map<string, Placed>();
  let rows = 0;
  const used = [...columns.keys()].sort((a, b) => a - b);
  used.forEach((c, i) => {
    const ids = columns.get(c)!;
    rows = Math.max(rows, ids.length);
    ids.forEach((id, r) => at.set(id, { x: MARGIN + i * COLUMN_WIDTH, y: MARGIN + r * ROW_HEIGHT, column: i }));
  });
  return { at, width: MARGIN * 2 + Math.max(1, used.length) * COLUMN_WIDTH, height: MARGIN * 2 + Math.max(1, rows) * ROW_HEIGHT };
}
