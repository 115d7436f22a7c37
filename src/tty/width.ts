/**
 * Terminal columns and rows: how wide a piece of text is on screen and where
 * it wraps. East Asian wide characters and emoji take two columns, combining
 * marks none (Bun.stringWidth, per grapheme cluster); colour escapes none.
 * The line editor uses this to know how many rows its draft takes, so that it
 * can erase all of them before printing a line above it.
 */

const segmenter = new Intl.Segmenter();
/** SGR colour sequences: the only escapes this program writes inside a line (captured, to split around them). */
const SGR = /(\x1b\[[0-9;]*m)/;
const TAB_STOP = 8;

/** The grapheme clusters of `text`: what one keypress inserts or one arrow key moves over. */
export function graphemes(text: string): string[] {
  const out: string[] = [];
  for (const { segment } of segmenter.segment(text)) out.push(segment);
  return out;
}

/** Columns one grapheme cluster takes. */
export function graphemeWidth(cluster: string): number {
  return Bun.stringWidth(cluster);
}

export interface Cell {
  row: number;
  col: number;
}

/**
 * Where each cluster of widths `widths` starts when written from the first
 * column of a terminal `columns` wide, and where the cursor is after the last
 * one. A cluster that does not fit in what is left of a row starts the next
 * row (a wide character never straddles two rows). After a row is filled
 * exactly, `end.col` is `columns`: the terminal waits to wrap until more comes.
 */
export function layout(widths: readonly number[], columns: number): { starts: Cell[]; end: Cell } {
  const starts: Cell[] = [];
  let row = 0;
  let col = 0;
  for (const width of widths) {
    if (width > 0 && col + width > columns) {
      row++;
      col = 0;
    }
    starts.push({ row, col });
    col += width;
  }
  return { starts, end: { row, col } };
}

/** A position as the cursor shows it: one past the last column is the start of the next row. */
export function cursorCell(cell: Cell, columns: number): Cell {
  return cell.col >= columns ? { row: cell.row + 1, col: 0 } : cell;
}

/**
 * Splits one line of text (which may hold colour escapes) into rows of at
 * most `columns` columns; rows after the first start with `indent` spaces
 * (a hanging indent, so the rest of a long line never looks like a line of
 * its own). Breaks after a space when one is in the second half of the row.
 * Tabs become spaces.
 */
export function wrapLine(text: string, columns: number, indent: number): string[] {
  const pad = indent < columns / 2 ? indent : 0;
  const rows: string[] = [];
  let row = "";
  let width = 0;
  /** Where in `row` the last space ended, and the width up to there. */
  let breakAt = -1;
  let breakWidth = 0;
  // Colour escapes (odd parts) go into the row as they are; the text between is segmented once.
  for (const [i, part] of expandTabs(text).split(SGR).entries()) {
    if (i % 2 === 1) {
      row += part;
      continue;
    }
    for (const { segment } of segmenter.segment(part)) {
      const w = graphemeWidth(segment);
      if (width + w > columns && width > pad) {
        const split = breakAt > 0 && breakWidth > columns / 2 ? breakAt : row.length;
        rows.push(row.slice(0, split).trimEnd());
        const rest = row.slice(split);
        row = " ".repeat(pad) + rest;
        width = pad + Bun.stringWidth(rest);
        breakAt = -1;
      }
      row += segment;
      width += w;
      if (segment === " ") {
        breakAt = row.length;
        breakWidth = width;
      }
    }
  }
  rows.push(row);
  return rows;
}

function expandTabs(text: string): string {
  if (!text.includes("\t")) return text;
  const parts = text.split("\t");
  let out = parts[0] ?? "";
  let col = Bun.stringWidth(out);
  for (const part of parts.slice(1)) {
    const spaces = TAB_STOP - (col % TAB_STOP);
    out += " ".repeat(spaces) + part;
    col += spaces + Bun.stringWidth(part);
  }
  return out;
}
