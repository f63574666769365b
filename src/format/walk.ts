/**
 * The walk from markdown-it's tokens to text + entities. Blocks are separated by a blank
 * line (list items by a newline in tight lists), headings become bold, block quotes a
 * `blockquote` entity (outermost only), lists get `•` or their number with continuation
 * indent, fenced code a `pre` with its language, tables an aligned `pre`, rules a dash line.
 */
import { type EntitySpec, TextBuilder } from './builder.js';
import type { Token } from './parser.js';
import { layoutTable, readTable } from './table.js';
import { type FormatEntity, linkUrl, type StyleType } from './types.js';

const INLINE_STYLES: Readonly<Record<string, StyleType>> = {
  strong_open: 'bold',
  em_open: 'italic',
  s_open: 'strikethrough',
};
const CLOSERS: ReadonlySet<string> = new Set(['strong_close', 'em_close', 's_close']);
const LANGUAGE = /^[\w+#.-]{1,32}$/;

interface ListState {
  readonly ordered: boolean;
  next: number;
  readonly savedIndent: string[];
}

/** Walks the whole token stream into a fresh builder. */
export function walkTokens(tokens: readonly Token[]): { text: string; entities: FormatEntity[] } {
  const walker = new Walker();
  walker.blocks(tokens);
  return walker.out.finish();
}

class Walker {
  readonly out = new TextBuilder();
  private readonly lists: ListState[] = [];
  private quoteDepth = 0;
  private readonly styles: Array<EntitySpec | undefined> = [];
  private readonly links: Array<{ readonly href: string; readonly start: number }> = [];

  blocks(tokens: readonly Token[]): void {
    for (let i = 0; i < tokens.length; i += 1) {
      const token = tokens[i] as Token;
      if (token.type === 'table_open') {
        const { rows, next } = readTable(tokens, i);
        this.verbatim(layoutTable(rows), undefined);
        i = next - 1;
      } else this.block(token, tokens[i + 1]);
    }
  }

  private block(token: Token, next: Token | undefined): void {
    const handler = this.blockHandlers[token.type];
    if (handler !== undefined) handler(token, next);
    else if (token.nesting === 0 && token.content.length > 0) this.out.write(token.content); // html_block etc.
  }

  private readonly blockHandlers: Readonly<Record<string, (token: Token, next: Token | undefined) => void>> = {
    paragraph_open: (token) => {
      if (!token.hidden) this.out.block(2);
    },
    heading_open: () => {
      this.out.block(2);
      this.openStyle({ type: 'bold' });
    },
    heading_close: () => this.closeStyle(),
    blockquote_open: () => {
      this.out.block(2);
      this.quoteDepth += 1;
      if (this.quoteDepth === 1) this.out.openEntity({ type: 'blockquote' });
    },
    blockquote_close: () => {
      this.quoteDepth -= 1;
      if (this.quoteDepth === 0) this.out.close();
    },
    bullet_list_open: (token) => this.listOpen(token),
    ordered_list_open: (token) => this.listOpen(token),
    bullet_list_close: () => this.lists.pop(),
    ordered_list_close: () => this.lists.pop(),
    list_item_open: (token, next) =>
      this.itemOpen(token, next?.type === 'paragraph_open' && next.hidden === false ? 2 : 1),
    list_item_close: () => this.itemClose(),
    fence: (token) => this.verbatim(token.content.replace(/\n$/, ''), token.info.trim().split(/\s+/)[0]),
    code_block: (token) => this.verbatim(token.content.replace(/\n$/, ''), undefined),
    hr: () => {
      this.out.block(2);
      this.out.write('———');
    },
    inline: (token) => this.inline(token.children ?? []),
  };

  private listOpen(token: Token): void {
    this.out.block(this.lists.length === 0 ? 2 : 1);
    const ordered = token.type === 'ordered_list_open';
    this.lists.push({ ordered, next: Number(token.attrGet('start') ?? 1), savedIndent: [] });
  }

  private itemOpen(token: Token, lines: number): void {
    const list = this.lists.at(-1);
    const depth = this.lists.length;
    const number = list?.ordered === true ? Number.parseInt(token.info, 10) || list.next : 0;
    if (list !== undefined) list.next = number + 1;
    const marker = list?.ordered === true ? `${number}${token.markup === ')' ? ')' : '.'} ` : depth > 1 ? '◦ ' : '• ';
    this.out.block(lines);
    this.out.atItemStart = false;
    this.out.write(marker);
    list?.savedIndent.push(this.out.indent);
    this.out.indent += ' '.repeat(marker.length);
    this.out.atItemStart = true;
  }

  private itemClose(): void {
    this.out.indent = this.lists.at(-1)?.savedIndent.pop() ?? '';
    this.out.atItemStart = false;
  }

  private verbatim(content: string, language: string | undefined): void {
    this.out.block(2);
    this.out.openEntity(
      language !== undefined && LANGUAGE.test(language) ? { type: 'pre', language } : { type: 'pre' },
    );
    this.out.write(content);
    this.out.close();
  }

  private inline(children: readonly Token[]): void {
    for (const child of children) this.inlineToken(child);
  }

  private inlineToken(token: Token): void {
    const style = INLINE_STYLES[token.type];
    if (style !== undefined) this.openStyle({ type: style });
    else if (CLOSERS.has(token.type)) this.closeStyle();
    else if (token.type === 'link_open') {
      const href = token.attrGet('href') ?? '';
      const url = linkUrl(href);
      this.links.push({ href, start: this.out.finishedLength() });
      this.openStyle(url === undefined ? undefined : { type: 'text_link', url });
    } else if (token.type === 'link_close') {
      // A link with an empty label shows its address rather than nothing.
      const link = this.links.pop();
      if (link !== undefined && this.out.finishedLength() === link.start) this.out.write(link.href);
      this.closeStyle();
    } else if (token.type === 'code_inline') {
      this.out.openEntity({ type: 'code' });
      this.out.write(token.content);
      this.out.close();
    } else if (token.type === 'softbreak' || token.type === 'hardbreak') this.out.lineBreak();
    else if (token.type === 'image') this.image(token);
    else this.out.write(token.content);
  }

  private image(token: Token): void {
    const url = linkUrl(token.attrGet('src') ?? '');
    this.openStyle(url === undefined ? undefined : { type: 'text_link', url });
    const before = this.out.finishedLength();
    this.inline(token.children ?? []);
    if (this.out.finishedLength() === before) this.out.write(url ?? token.attrGet('src') ?? '');
    this.closeStyle();
  }

  /** Opens `spec` unless the same style is already open (or `spec` is undefined: a link that
   * keeps only its text); `closeStyle` pops either way. */
  private openStyle(spec: EntitySpec | undefined): void {
    const open = spec !== undefined && !this.styles.some((s) => s?.type === spec.type);
    this.styles.push(open ? spec : undefined);
    if (open) this.out.openEntity(spec);
  }

  private closeStyle(): void {
    if (this.styles.pop() !== undefined) this.out.close();
  }
}
