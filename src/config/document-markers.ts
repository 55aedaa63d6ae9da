/**
 * Where the documents of a multi-document YAML text begin. A line that starts
 * with "---" (followed by a blank or the line's end) always starts a document
 * — YAML forbids it inside any scalar — but the parser lets an unclosed
 * quote run on through it and swallow every document after. Cutting the text
 * at these lines first keeps one broken document from taking the rest of the
 * file with it. kubectl's YAML reader splits files at these lines before
 * parsing, too.
 */

/** [start, end) offsets of the pieces of `text`, each holding at most one "---" line, at its start. */
export function documentPieces(text: string): [number, number][] {
  const starts = [0];
  for (let i = text.indexOf('\n---'); i !== -1; i = text.indexOf('\n---', i + 1)) {
    const after = text[i + 4];
    if (after !== undefined && after !== ' ' && after !== '\t' && after !== '\r' && after !== '\n') continue;
    if (starts.length === 1 && prologueOnly(text.slice(0, i + 1))) continue;
    starts.push(i + 1);
  }
  return starts.map((s, k) => [s, starts[k + 1] ?? text.length]);
}

/**
 * Directives ("%YAML 1.2") and comments before the first "---" are that
 * document's prologue: no cut there. Directives elsewhere (after "...") are
 * rare; they stay with the piece before them, where the parser reports them,
 * rather than change how the next document is read.
 */
function prologueOnly(head: string): boolean {
  return head
    .replace(/^\uFEFF/, '')
    .split('\n')
    .every((line) => line.startsWith('%') || line.trim() === '' || line.trim().startsWith('#'));
}
