/**
 * Line numbers in a file's text, counted as editors and the YAML parser
 * count them: a line ends at "\n" ("\r\n" included); a final line without a
 * newline still counts, an empty text has one (empty) line.
 */

/** The number of lines of `text`; every line reported for the file lies in 1..lineCount(text). */
export function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return text.length === 0 || text.endsWith('\n') ? Math.max(1, n) : n + 1;
}

/** Maps an offset in `text` to its 1-based line. */
export function lineIndex(text: string): (offset: number) => number {
  const newlines: number[] = [];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines.push(i);
  return (offset) => {
    // Lines before `offset` = newlines at positions < offset.
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

/**
 * The line to report for a YAML error at `offset` in a document spanning
 * `range` ([start, end of content, ...]). The parser reports what it found
 * missing at the end of the document — a closing quote or bracket — at the
 * offset where the document (or the file) ends: the start of the next
 * document's "---", or one past the last line. The line where the construct
 * was left open is the last one before that with content (not blank, not a
 * comment), so that is the one reported.
 */
export function errorLine(text: string, offset: number, range: readonly number[], lineOf: (offset: number) => number): number {
  const start = range[0] ?? 0;
  const end = Math.min(range[1] ?? text.length, text.length);
  if (offset < end) return lineOf(Math.max(0, offset));
  const at = lastContent(text, start, end);
  return lineOf(at ?? Math.max(0, Math.min(offset, text.length - 1)));
}

/** Offset of the last line in [from, to) that holds more than blanks, a comment or a document marker. */
function lastContent(text: string, from: number, to: number): number | undefined {
  let lineEnd = to;
  while (lineEnd > from) {
    const lineStart = Math.max(from, text.lastIndexOf('\n', lineEnd - 1) + 1);
    const content = text.slice(lineStart, lineEnd).trim();
    if (content !== '' && !content.startsWith('#') && content !== '---' && content !== '...') return lineStart;
    lineEnd = lineStart - 1;
  }
  return undefined;
}
