/**
 * The one markdown-it instance: CommonMark plus GFM strikethrough and tables, raw HTML off
 * (so `<b>` and `&` stay literal text), linkify off (bare URLs stay exactly as the model wrote
 * them; Telegram clients highlight them on their own), typographer off (quotes unchanged).
 */
import MarkdownIt from 'markdown-it';

/** A markdown-it token (block or inline). */
export type Token = ReturnType<MarkdownIt['parse']>[number];

const parser = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false }).enable([
  'strikethrough',
  'table',
]);

/** The token stream of `markdown` (never throws on any string). */
export function parseMarkdown(markdown: string): Token[] {
  return parser.parse(markdown, {});
}
