/**
 * GFM tables as preformatted text: Telegram has no tables, so cells are padded into aligned
 * columns (by grapheme, emoji and wide CJK counted as two) and the whole table becomes one `pre` entity.
 */
import type { Token } from './parser.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
// Emoji and East Asian wide characters take two columns in a monospace font.
const WIDE =
  /\p{Extended_Pictographic}|\p{Regional_Indicator}|[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u;
const width = (text: string): number =>
  [...segmenter.segment(text)].reduce((sum, { segment }) => sum + (WIDE.test(segment) ? 2 : 1), 0);

/** The visible text of an inline token's children, styles dropped. */
export function inlineText(children: readonly Token[] | null): string {
  let out = '';
  for (const child of children ?? []) {
    if (child.type === 'softbreak' || child.type === 'hardbreak') out += ' ';
    else if (child.type === 'image') out += inlineText(child.children);
    else out += child.content;
  }
  return out;
}

/** Reads the table starting at `tokens[start]` (a table_open); returns its rows of cell texts
 * and the index just after its table_close. */
export function readTable(tokens: readonly Token[], start: number): { rows: string[][]; next: number } {
  const rows: string[][] = [];
  let i = start + 1;
  for (; i < tokens.length && tokens[i]?.type !== 'table_close'; i += 1) {
    const token = tokens[i] as Token;
    if (token.type === 'tr_open') rows.push([]);
    else if (token.type === 'inline') rows.at(-1)?.push(inlineText(token.children).trim());
  }
  return { rows, next: i + 1 };
}

/** The rows laid out as aligned columns with a rule under the header row. */
export function layoutTable(rows: readonly string[][]): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(1, ...rows.map((row) => width(row[c] ?? ''))));
  const line = (row: readonly string[]): string =>
    widths
      .map((w, c) => {
        const cell = row[c] ?? '';
        return cell + ' '.repeat(w - width(cell));
      })
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const [header, ...body] = rows;
  return [line(header ?? []), rule, ...body.map(line)].join('\n');
}
