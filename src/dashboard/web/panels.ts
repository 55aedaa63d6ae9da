/** The tables beside the graph: proxies' xDS sync, config changes' progress, certificates. */
import type { DashboardModel } from '../model.js';
import { esc } from './dom.js';

function table(el: HTMLElement, header: string[], rows: string[][], empty: string): void {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  el.innerHTML = head + (rows.length ? rows.map((r) => `<tr>${r.join('')}</tr>`).join('') : `<tr><td colspan="${header.length}">${esc(empty)}</td></tr>`);
}

const td = (v: unknown, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(v)}</td>`;

export function renderProxies(el: HTMLElement, m: DashboardModel): void {
  table(el, ['PROXY', 'STATE', 'VERSION', 'ERROR'], m.proxies.map((p) => [
    `<td data-proxy="${esc(p.proxy)}">${esc(p.proxy)}</td>`, td(p.state, `state-${p.state}`), td(p.version), td(p.error ?? ''),
  ]), 'no proxy is connected to the control plane');
}

export function renderChanges(el: HTMLElement, m: DashboardModel): void {
  table(el, ['PUSHED', 'TYPES', 'PROGRESS', 'NACKED'], m.changes.map((c) => [
    td(new Date(c.at).toLocaleTimeString()), td(c.types.join(', ')), `<td class="progress" data-reached="${c.reached}" data-total="${c.total}">${c.reached}/${c.total} proxies</td>`, td(c.nacked || ''),
  ]), 'no push seen yet');
}

/** "in 19 h" / "2 min ago": how far a time is from now. */
export function fromNow(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.round(abs / 1000)} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < 172_800_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} d`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

export function renderCerts(el: HTMLElement, m: DashboardModel): void {
  table(el, ['POD', 'SPIFFE ID', 'NOT AFTER', 'ROTATION DUE'], m.certs.map((c) => [
    td(c.pod), `<td data-spiffe="${esc(c.spiffeId)}">${esc(c.spiffeId)}</td>`, td(`${c.notAfter} (${fromNow(c.notAfter)})`), td(c.rotationDue === null ? '-' : `${c.rotationDue} (${fromNow(c.rotationDue)})`),
  ]), 'no workload certificate read yet');
}
