/** Laying out plain text for a fixed width: word wrapping, two-column tables, shell examples. */

/** A two-column row: the left cell, and the right cell's words (a word is never split across lines). */
export interface Row {
  left: string;
  right: readonly string[];
}

export interface ColumnLayout {
  /** Indent of the left column. */
  indent: number;
  /** A left cell longer than this puts its right cell on the following lines. */
  maxLeft: number;
  /** Spaces between the columns. */
  gap: number;
}

/** The words of a text, split on spaces. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** Words in lines of at most `width` characters; a word longer than that is cut. */
export function wrapWords(list: readonly string[], width: number): string[] {
  const max = Math.max(1, width);
  const lines: string[] = [];
  let line = "";
  for (let word of list) {
    if (line && line.length + 1 + word.length <= max) {
      line += ` ${word}`;
      continue;
    }
    if (line) lines.push(line);
    while (word.length > max) {
      lines.push(word.slice(0, max));
      word = word.slice(max);
    }
    line = word;
  }
  if (line) lines.push(line);
  return lines;
}

export function wrap(text: string, width: number): string[] {
  return wrapWords(words(text), width);
}

/** Lines of `text` wrapped to `width`, the first after `first` and the rest indented under it. */
export function hanging(first: string, text: string, width: number): string[] {
  const pad = " ".repeat(first.length);
  return wrap(text, width - first.length).map((line, i) => `${i === 0 ? first : pad}${line}`);
}

/**
 * Rows as two columns within `width`, each right cell wrapped under its column.
 * `paint` styles a left cell (colour) without changing its width.
 */
export function columns(rows: readonly Row[], width: number, layout: ColumnLayout, paint = (text: string) => text): string[] {
  const fitting = rows.map((row) => row.left.length).filter((length) => length <= layout.maxLeft);
  const start = layout.indent + Math.max(0, ...fitting) + layout.gap;
  const indent = " ".repeat(layout.indent);
  const pad = " ".repeat(start);
  const lines: string[] = [];
  for (const { left, right } of rows) {
    const text = wrapWords(right, width - start);
    const head = indent + left.replace(/\S.*/, (cell) => paint(cell));
    const gap = start - layout.indent - left.length;
    const [first, ...rest] = gap >= layout.gap ? text : ["", ...text];
    lines.push(first ? head + " ".repeat(gap) + first : head);
    for (const line of rest) lines.push(pad + line);
  }
  return lines;
}

/** Shell words: a quoted string with spaces stays one word. */
function shellWords(command: string): string[] {
  return command.match(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g) ?? [];
}

/**
 * A shell example within `width`: as it is when it fits; otherwise its
 * `# comment` on a line above it and the command continued with `\`.
 */
export function example(line: string, width: number, indent = 2): string[] {
  const pad = " ".repeat(indent);
  if (indent + line.length <= width) return [pad + line];
  const match = /^(.*?)\s+#\s(.*)$/.exec(line);
  const command = match?.[1] ?? line;
  const comment = match?.[2] ? wrap(match[2], width - indent - 2).map((text) => `${pad}# ${text}`) : [];
  if (indent + command.length <= width) return [...comment, pad + command];
  const continued = wrapWords(shellWords(command), width - indent - 4);
  return [...comment, ...continued.map((text, i) => `${pad}${i === 0 ? "" : "  "}${text}${i < continued.length - 1 ? " \\" : ""}`)];
}
