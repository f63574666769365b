/**
 * Renders formatted text for a terminal: entities become ANSI styles (bold, italic,
 * underline, strikethrough, code in cyan, quotes dim, links underlined with their URL after
 * the text), so no raw Markdown marker is ever shown.
 */
import type { FormatEntity, FormattedText } from './types.js';

const SGR: Readonly<Record<FormatEntity['type'], string>> = {
  bold: '1',
  italic: '3',
  underline: '4',
  strikethrough: '9',
  spoiler: '2',
  code: '36',
  pre: '36',
  blockquote: '2',
  expandable_blockquote: '2',
  text_link: '4',
};

/** `formatted` with ANSI escape codes; without entities the text is returned unchanged. */
export function toAnsi(formatted: FormattedText): string {
  const { text, entities } = formatted;
  if (entities.length === 0) return text;
  const points = [...new Set([0, text.length, ...entities.flatMap((e) => [e.offset, e.offset + e.length])])].sort(
    (a, b) => a - b,
  );
  let out = '';
  for (let i = 0; i + 1 < points.length; i += 1) {
    const from = points[i] as number;
    const to = points[i + 1] as number;
    const active = entities.filter((e) => e.offset <= from && e.offset + e.length >= to);
    const codes = [...new Set(active.map((e) => SGR[e.type]))];
    out += codes.length > 0 ? `\x1b[${codes.join(';')}m${text.slice(from, to)}\x1b[0m` : text.slice(from, to);
    for (const e of entities) if (e.type === 'text_link' && e.offset + e.length === to) out += ` (${e.url})`;
  }
  return out;
}
