/**
 * The topology as SVG: a box per workload and service (layout.ts places
 * them), a curve per edge with its label — RPS, error %, p50/p99, flags —
 * and a lock for the share of mTLS (closed: all, open: none). Each edge
 * carries its numbers as data- attributes (what the browser tests read) and
 * its principals in a tooltip. Built as one string: 300 workloads draw in
 * one layout pass.
 */
import { layout, type Placed } from '../layout.js';
import type { GraphEdge, GraphNode } from '../model.js';
import { esc, fixed } from './dom.js';

const BOX_W = 180;
const BOX_H = 26;

function nodeSvg(n: GraphNode, p: Placed): string {
  const label = n.kind === 'service' ? `${n.name}${n.namespace ? `.${n.namespace}` : ''}` : `${n.namespace}/${n.name}`;
  return `<g class="node ${n.kind}" data-node="${esc(n.id)}" transform="translate(${p.x},${p.y})"><rect width="${BOX_W}" height="${BOX_H}" rx="${n.kind === 'service' ? 13 : 3}"/><text x="8" y="17">${esc(label.length > 28 ? `${label.slice(0, 27)}…` : label)}</text><title>${esc(n.id)}</title></g>`;
}

/** "mtls" (every request), "plaintext" (none), "mixed", or "unknown" (the client side cannot tell). */
export function mtlsWord(pct: number | null): string {
  if (pct === null) return 'unknown';
  return pct >= 99.95 ? 'mtls' : pct <= 0.05 ? 'plaintext' : 'mixed';
}

function lockSvg(word: string, x: number, y: number): string {
  if (word === 'unknown') return '';
  const shackle = word === 'plaintext' ? `M${x + 2},${y} v-5 a4,4 0 0 1 8,0` : `M${x + 2},${y} v-4 a4,4 0 0 1 8,0 v4`;
  return `<g class="lock ${word}"><path d="${shackle}"/><rect x="${x}" y="${y}" width="12" height="9" rx="1"/><title>${word === 'mtls' ? 'mutual TLS' : word === 'plaintext' ? 'plaintext' : 'partly mutual TLS'}</title></g>`;
}

/** "spiffe://td/ns/NS/sa/SA" → "NS/SA" (the whole id stays in the tooltip). */
const shortPrincipal = (p: string) => /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(p)?.slice(1).join('/') ?? p;

/** Up to three lines: traffic; latency, mTLS share and flags; the clients' principals (server edges). */
export function edgeLabel(e: GraphEdge): string[] {
  const flags = Object.keys(e.flags);
  const shown = e.principals.slice(0, 3).map(shortPrincipal).join(', ');
  return [
    `${fixed(e.rps)} rps · ${fixed(e.errorPct)}% err`,
    `p50 ${fixed(e.p50Ms)} / p99 ${fixed(e.p99Ms)} ms${e.mtlsPct !== null ? ` · mTLS ${fixed(e.mtlsPct, 0)}%` : ''}${flags.length ? ` · ${flags.join(',')}` : ''}`,
    ...(e.principals.length ? [`from ${shown}${e.principals.length > 3 ? ` +${e.principals.length - 3}` : ''}`] : []),
  ];
}

function edgeSvg(e: GraphEdge, from: Placed, to: Placed): string {
  const [x1, y1, x2, y2] = [from.x + BOX_W, from.y + BOX_H / 2, to.x, to.y + BOX_H / 2];
  const mx = (x1 + x2) / 2;
  const forward = x2 > x1;
  const d = forward ? `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` : `M${from.x + BOX_W / 2},${from.y + BOX_H} Q${mx},${y1 + 60} ${to.x + BOX_W / 2},${to.y + BOX_H}`;
  const word = mtlsWord(e.mtlsPct);
  // Labels sit just right of the source, above its line: edges leaving one node fan out below each other.
  const lx = forward ? x1 + 22 : mx;
  const ly = forward ? y1 - 16 : y1 + 40;
  const [line1, ...more] = edgeLabel(e);
  const tip = [[line1, ...more].join(' · '), e.principals.length ? `principals: ${e.principals.join(', ')}` : '', e.explain ? `click: ${e.explain.command}` : ''].filter(Boolean).join('\n');
  return `<g class="edge${e.errorPct > 0 ? ' errors' : ''}" data-edge="${esc(e.id)}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" data-rps="${e.rps}" data-error-pct="${e.errorPct}" data-mtls="${word}" data-flags="${esc(Object.keys(e.flags).join(','))}"><path d="${d}" marker-end="url(#arrow)"/>${lockSvg(word, lx - 18, ly - 9)}<text x="${lx}" y="${ly}">${esc(line1)}${more.map((l) => `<tspan x="${lx}" dy="12">${esc(l)}</tspan>`).join('')}</text><title>${esc(tip)}</title></g>`;
}

export function renderGraph(svg: SVGSVGElement, nodes: readonly GraphNode[], edges: readonly GraphEdge[]): void {
  const { at, width, height } = layout({ nodes, edges });
  const parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker></defs>'];
  for (const e of edges) {
    const from = at.get(e.from);
    const to = at.get(e.to);
    if (from && to) parts.push(edgeSvg(e, from, to));
  }
  for (const n of nodes) parts.push(nodeSvg(n, at.get(n.id)!));
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('data-edge-count', String(edges.length));
  svg.setAttribute('data-node-count', String(nodes.length));
  svg.innerHTML = parts.join('');
}
