/**
 * The one markdown-it instance: CommonMark plus GFM strikethrough and tables, raw HTML off
 * (so `<b>` and `&` stay literal text), linkify off (bare URLs stay exactly as the model wrote
 * them; Telegram clients highlight them on their own), typographer off (quotes unchanged).
 */
import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';

/** A markdown-it token (block or inline). */
export type Token = ReturnType<MarkdownIt['parse']>[number];

let parser: MarkdownIt | undefined;

/** The parser, made at the first reply rendered (markdown-it costs about 10 MB, which a fleet
 * that has not rendered anything yet, or renders plain text only, need not pay). */
function markdownIt(): MarkdownIt {
  if (parser === undefined) {
    const Parser = createRequire(import.meta.url)('markdown-it') as typeof MarkdownIt;
    parser = new Parser('commonmark', { html: false, linkify: false, typographer: false }).enable([
      'strikethrough',
      'table',
    ]);
  }
  return parser;
}

/** The token stream of `markdown` (never throws on any string). */
export function parseMarkdown(markdown: string): Token[] {
  return markdownIt().parse(markdown, {});
}
