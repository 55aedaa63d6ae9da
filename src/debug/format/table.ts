/**
 * Tables as istioctl prints them: Go's text/tabwriter with padding character
 * ' ', minimum width 0 and no flags. Each cell but the last of its line
 * belongs to a column; a column's width is its widest cell plus `padding`,
 * computed per column block (consecutive lines that reach that column), and
 * the last cell of a line is never padded. Widths count characters (runes),
 * as Go's does.
 */
export type Row = readonly string[];

const width = (s: string) => [...s].length;

export function formatTable(rows: readonly Row[], padding: number): string {
  const out: string[] = rows.map(() => '');
  format(rows, padding, [], 0, rows.length, out);
  return out.map((l) => `${l}\n`).join('');
}

/** Go's tabwriter.format: lines line0..line1 with the column widths found so far. */
function format(rows: readonly Row[], padding: number, widths: number[], line0: number, line1: number, out: string[]): void {
  const column = widths.length;
  for (let i = line0; i < line1; i++) {
    if (column >= rows[i]!.length - 1) continue;
    writeLines(rows, widths, line0, i, out);
    line0 = i;
    let w = 0;
    for (; i < line1 && column < rows[i]!.length - 1; i++) w = Math.max(w, width(rows[i]![column]!) + padding);
    format(rows, padding, [...widths, w], line0, i, out);
    line0 = i;
    i--;
  }
  writeLines(rows, widths, line0, line1, out);
}

function writeLines(rows: readonly Row[], widths: readonly number[], line0: number, line1: number, out: string[]): void {
  for (let i = line0; i < line1; i++) {
    const row = rows[i]!;
    let text = '';
    row.forEach((cell, j) => {
      text += j < widths.length && j < row.length - 1 ? cell + ' '.repeat(Math.max(0, widths[j]! - width(cell))) : cell;
    });
    out[i] = text;
  }
}
