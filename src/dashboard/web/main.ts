/**
 * The dashboard page: polls /api/model every second and redraws the graph
 * and the panels; a click on an edge shows its explain command and asks
 * /api/explain for the walk-through. Everything it loads comes from the
 * dashboard itself (the server's CSP says so).
 */
import type { DashboardModel, GraphEdge } from '../model.js';
import { byId, esc } from './dom.js';
import { renderGraph } from './graph.js';
import { renderCerts, renderChanges, renderProxies } from './panels.js';

const POLL_MS = 1000;
let model: DashboardModel | undefined;

function render(m: DashboardModel): void {
  model = m;
  byId('source').textContent = m.source;
  byId('updated').textContent = `updated ${new Date(m.generatedAt).toLocaleTimeString()}`;
  byId('problems').textContent = m.problems.length ? `${m.problems.length} problem(s): ${m.problems[0]}` : '';
  byId('window').textContent = `rates over the last ${m.windowSeconds} s`;
  for (const el of document.querySelectorAll<HTMLElement>('[data-cmd]')) {
    el.textContent = m.commands[el.dataset['cmd'] as keyof DashboardModel['commands']].replace('{origin}', location.origin);
  }
  renderGraph(byId<SVGSVGElement>('graph'), m.nodes, m.edges);
  renderProxies(byId('proxies'), m);
  renderChanges(byId('changes'), m);
  renderCerts(byId('certs'), m);
  // When the first model was drawn, in ms since the navigation began: what the rendering-time test reads.
  document.body.dataset['drawnAt'] ??= String(Math.round(performance.now()));
}

async function showExplain(e: GraphEdge): Promise<void> {
  const box = byId('edge-detail');
  box.hidden = false;
  if (!e.explain) {
    box.innerHTML = `<p>${esc(e.from)} → ${esc(e.to)}: the servers' side of a service; explain starts from a client workload's edge.</p>`;
    return;
  }
  box.innerHTML = `<p>A typical request of ${esc(e.from)} → ${esc(e.to)}:</p><p class="cmd" id="explain-command">${esc(e.explain.command)}</p><pre id="explain-result">asking…</pre>`;
  const q = new URLSearchParams({ from: e.explain.from, url: e.explain.url });
  const r = await fetch(`/api/explain?${q}`).catch(() => undefined);
  const body = (await r?.json().catch(() => undefined)) as { text?: string; error?: string } | undefined;
  byId('explain-result').textContent = r?.status === 200 ? body?.text ?? '' : body?.error ?? 'the dashboard did not answer';
}

byId<SVGSVGElement>('graph').addEventListener('click', (ev) => {
  const id = (ev.target as Element).closest('[data-edge]')?.getAttribute('data-edge');
  const edge = model?.edges.find((e) => e.id === id);
  if (edge) void showExplain(edge);
});

async function poll(): Promise<void> {
  try {
    const r = await fetch('/api/model');
    if (r.ok) render((await r.json()) as DashboardModel);
  } catch {
    byId('problems').textContent = 'the dashboard is not answering';
  }
  setTimeout(() => void poll(), POLL_MS);
}

void poll();
