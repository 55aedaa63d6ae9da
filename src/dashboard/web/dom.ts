/** Text as HTML/SVG markup: everything the page shows from the API goes through here. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function byId<T extends Element = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as unknown as T;
}

export const fixed = (n: number | null, digits = 1) => (n === null ? '-' : n.toFixed(digits));
