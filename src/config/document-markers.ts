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
    starts.push(withDirectives(text, i + 1));
  }
  return starts.map((s, k) => [s, starts[k + 1] ?? text.length] as [number, number]).filter(([s, e]) => e > s || s === 0);
}

/**
 * Directives ("%YAML 1.2", "%TAG ...") belong to the document whose "---"
 * follows them: move the cut back over them (and the comments and blank
 * lines among them).
 */
function withDirectives(text: string, marker: number): number {
  let cut = marker;
  for (let end = marker - 1; end > 0; ) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).trim();
    if (text[start] === '%') cut = start;
    else if (line !== '' && !line.startsWith('#')) break;
    end = start - 1;
  }
  return cut;
}
