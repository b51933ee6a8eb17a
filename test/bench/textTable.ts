/**
 * A plain-text table for the benchmark's console report: a header, a rule, then the rows, columns
 * two spaces apart. Column 0 and any in `leftAligned` are padded on the right (words); the others on
 * the left, so that figures line up on their last digit. Returns its lines.
 */
export function textTable(
  header: string[],
  rows: string[][],
  leftAligned: ReadonlySet<number> = new Set(),
): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((cells) => cells[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0 || leftAligned.has(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      )
      .join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
