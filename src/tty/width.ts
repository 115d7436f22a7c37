/**
 * Terminal columns and rows: how wide a piece of text is on screen and where
 * it wraps. East Asian wide characters and emoji take two columns, combining
 * marks none (Bun.stringWidth, per grapheme cluster); colour escapes none.
 * The line editor uses this to know how many rows its draft takes, so that it
 * can erase all of them before printing a line above it.
 */

const segmenter = new Intl.Segmenter();
/** SGR colour sequences: the only escapes this program writes inside a line. */
const SGR = /\x1b\[[0-9;]*m/y;
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
  const line = expandTabs(text);
  const pad = indent < columns / 2 ? indent : 0;
  const rows: string[] = [];
  let row = "";
  let width = 0;
  /** Where in `row` the last space ended, and the width up to there. */
  let breakAt = -1;
  let breakWidth = 0;
  for (let i = 0; i < line.length; ) {
    SGR.lastIndex = i;
    const sgr = SGR.exec(line);
    if (sgr) {
      row += sgr[0];
      i += sgr[0].length;
      continue;
    }
    const next = nextCluster(line, i);
    const w = graphemeWidth(next);
    if (width + w > columns && width > pad) {
      const split = breakAt > 0 && breakWidth > columns / 2 ? breakAt : row.length;
      rows.push(row.slice(0, split).trimEnd());
      const rest = row.slice(split);
      row = " ".repeat(pad) + rest;
      width = pad + visibleWidth(rest);
      breakAt = -1;
    }
    row += next;
    width += w;
    if (next === " ") {
      breakAt = row.length;
      breakWidth = width;
    }
    i += next.length;
  }
  rows.push(row);
  return rows;
}

/** Columns taken by text that may hold colour escapes. */
export function visibleWidth(text: string): number {
  return Bun.stringWidth(text);
}

function nextCluster(text: string, at: number): string {
  // Segmenting from `at` on a bounded slice: a cluster is never this long in practice.
  const slice = text.slice(at, at + 64);
  for (const { segment } of segmenter.segment(slice)) return segment;
  return slice;
}

function expandTabs(text: string): string {
  if (!text.includes("\t")) return text;
  const parts = text.split("\t");
  let out = parts[0] ?? "";
  let col = visibleWidth(out);
  for (const part of parts.slice(1)) {
    const spaces = TAB_STOP - (col % TAB_STOP);
    out += " ".repeat(spaces) + part;
    col += spaces + visibleWidth(part);
  }
  return out;
}
