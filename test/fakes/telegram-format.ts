/**
 * What Telegram does with `parse_mode`: HTML and MarkdownV2 markup becomes plain text plus
 * entities (offsets in UTF-16 code units), and bad markup is a 400 "can't parse entities".
 * The parsers follow the Bot API "Formatting options" rules closely enough for a fake; they
 * are not byte-for-byte Telegram. Legacy `Markdown` is passed through unparsed.
 */
import type { MessageEntity } from 'grammy/types';
import { entitiesProblem } from './telegram-entities.js';

/** Parsed text and entities, or the `description` of Telegram's 400 answer. */
export type FormatResult =
  | { readonly ok: true; readonly text: string; readonly entities: MessageEntity[] }
  | { readonly ok: false; readonly description: string };

const CANT_PARSE = "Bad Request: can't parse entities: ";

/** `entities` sent form-encoded arrive as a JSON string. */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // Not JSON: Telegram rejects it like any other malformed entity list.
    return raw;
  }
}

/** Applies `parseMode` ('HTML', 'MarkdownV2', 'Markdown' or undefined) to `text`; without a
 * parse mode `entities` are checked as Telegram does (telegram-entities.ts) and kept as sent. */
export function applyParseMode(text: string, parseMode: unknown, entities: unknown): FormatResult {
  if (parseMode === 'HTML') return parseHtml(text);
  if (parseMode === 'MarkdownV2') return parseMarkdownV2(text);
  if (parseMode === 'Markdown')
    return { ok: true, text, entities: Array.isArray(entities) ? (entities as MessageEntity[]) : [] };
  if (parseMode === undefined) {
    const list = typeof entities === 'string' ? parseJson(entities) : entities;
    const problem = entitiesProblem(text, list);
    if (problem !== undefined) return { ok: false, description: CANT_PARSE + problem };
    return { ok: true, text, entities: Array.isArray(list) ? (list as MessageEntity[]) : [] };
  }
  return { ok: false, description: `Bad Request: unsupported parse_mode` };
}

const HTML_TAGS: Readonly<Record<string, MessageEntity['type'] | 'none'>> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
  'tg-time': 'none',
};
const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  readonly name: string;
  readonly start: number;
  readonly attrs: string;
}

const byteOffset = (source: string, index: number): number => Buffer.byteLength(source.slice(0, index));

function attr(attrs: string, name: string): string | undefined {
  const match = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  return match === null ? undefined : (match[1] ?? match[2] ?? match[3]);
}

function htmlEntity(tag: OpenTag, length: number, parentPre: boolean): MessageEntity | undefined {
  const type = HTML_TAGS[tag.name];
  if (type === undefined || type === 'none' || length === 0) return undefined;
  if (tag.name === 'code' && parentPre) return undefined; // folded into the parent <pre>
  const base = { offset: tag.start, length };
  if (type === 'text_link') {
    const url = attr(tag.attrs, 'href') ?? '';
    const user = /^tg:\/\/user\?id=(\d+)$/.exec(url);
    if (user?.[1] !== undefined)
      return { ...base, type: 'text_mention', user: { id: Number(user[1]), is_bot: false, first_name: '' } };
    return { ...base, type: 'text_link', url };
  }
  if (type === 'custom_emoji') return { ...base, type, custom_emoji_id: attr(tag.attrs, 'emoji-id') ?? '' };
  if (type === 'blockquote' && /\bexpandable\b/.test(tag.attrs)) return { ...base, type: 'expandable_blockquote' };
  if (type === 'pre') return { ...base, type, ...(tag.attrs.length > 0 && { language: tag.attrs }) };
  return { ...base, type } as MessageEntity;
}

/** Telegram's HTML parse mode: supported tags only, properly nested, `&lt; &gt; &amp; &quot;`
 * and numeric character references. */
export function parseHtml(source: string): FormatResult {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: OpenTag[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '&') {
      const match = /^&(#x[0-9a-f]+|#\d+|[a-z]+);/i.exec(source.slice(i, i + 12));
      const name = match?.[1];
      if (match !== null && name !== undefined) {
        const named = NAMED_ENTITIES[name.toLowerCase()];
        const code =
          name.startsWith('#x') || name.startsWith('#X')
            ? parseInt(name.slice(2), 16)
            : name.startsWith('#')
              ? Number(name.slice(1))
              : undefined;
        if (named !== undefined || code !== undefined) {
          text += named ?? String.fromCodePoint(code ?? 0x3f);
          i += match[0].length;
          continue;
        }
      }
      text += ch;
      i += 1;
      continue;
    }
    if (ch !== '<') {
      text += ch;
      i += 1;
      continue;
    }
    const end = source.indexOf('>', i);
    if (end === -1)
      return { ok: false, description: `${CANT_PARSE}Unclosed start tag at byte offset ${byteOffset(source, i)}` };
    const inner = source.slice(i + 1, end);
    const closing = inner.startsWith('/');
    const name = (/^\/?\s*([a-z][a-z0-9-]*)/i.exec(inner)?.[1] ?? '').toLowerCase();
    if (HTML_TAGS[name] === undefined) {
      const kind = closing ? 'end' : 'start';
      return {
        ok: false,
        description: `${CANT_PARSE}Unsupported ${kind} tag "${name}" at byte offset ${byteOffset(source, i)}`,
      };
    }
    if (closing) {
      const open = stack.pop();
      if (open === undefined || open.name !== name) {
        const expected = open === undefined ? '' : `, expected "</${open.name}>"`;
        return {
          ok: false,
          description: `${CANT_PARSE}Unmatched end tag at byte offset ${byteOffset(source, i)}${expected}, found "</${name}>"`,
        };
      }
      const parentPre = stack.at(-1)?.name === 'pre';
      const entity = htmlEntity(open, text.length - open.start, parentPre);
      if (entity !== undefined) entities.push(entity);
      if (name === 'code' && parentPre) {
        const language = /language-([\w+#.-]+)/.exec(attr(open.attrs, 'class') ?? '')?.[1];
        const pre = stack.pop() as OpenTag;
        stack.push({ ...pre, attrs: language ?? '' });
      }
    } else {
      const attrs = name === 'pre' ? '' : inner.slice(name.length);
      stack.push({ name, start: text.length, attrs });
    }
    i = end + 1;
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) {
    return { ok: false, description: `${CANT_PARSE}Can't find end tag corresponding to start tag "${unclosed.name}"` };
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { ok: true, text, entities };
}

/** Index of the first `token` at or after `from` not escaped with '\\', or -1. */
function findUnescaped(source: string, token: string, from: number): number {
  for (let j = from; j < source.length; j += source[j] === '\\' ? 2 : 1) {
    if (source.startsWith(token, j)) return j;
  }
  return -1;
}

const MDV2_RESERVED = new Set([...'_*[]()~`>#+-=|{}.!']);
const MDV2_MARKERS: ReadonlyArray<readonly [string, MessageEntity['type'], string]> = [
  ['||', 'spoiler', 'Spoiler'],
  ['__', 'underline', 'Underline'],
  ['*', 'bold', 'Bold'],
  ['_', 'italic', 'Italic'],
  ['~', 'strikethrough', 'Strikethrough'],
];

/** Telegram's MarkdownV2 parse mode: markers must be closed, code spans and pre blocks are
 * verbatim, and any other reserved character must be escaped with '\'. Links become
 * `text_link`; `>` at a line start is accepted without a blockquote entity. */
export function parseMarkdownV2(source: string): FormatResult {
  let text = '';
  const entities: MessageEntity[] = [];
  const open = new Map<string, { start: number; at: number }>();
  let linkStart: number | undefined;
  let i = 0;
  const fail = (description: string): FormatResult => ({ ok: false, description: CANT_PARSE + description });
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '\\') {
      text += source[i + 1] ?? '';
      i += 2;
      continue;
    }
    if (ch === '`') {
      const fence = source.startsWith('```', i);
      const close = findUnescaped(source, fence ? '```' : '`', i + (fence ? 3 : 1));
      if (close === -1)
        return fail(`Can't find end of ${fence ? 'Pre' : 'Code'} entity at byte offset ${byteOffset(source, i)}`);
      let body = source.slice(i + (fence ? 3 : 1), close).replace(/\\(.)/g, '$1');
      let language: string | undefined;
      if (fence) {
        const newline = body.indexOf('\n');
        if (newline !== -1 && /^[\w+#.-]+$/.test(body.slice(0, newline))) language = body.slice(0, newline);
        if (newline !== -1 && (language !== undefined || newline === 0)) body = body.slice(newline + 1);
      }
      if (body.length > 0)
        entities.push({
          type: fence ? 'pre' : 'code',
          offset: text.length,
          length: body.length,
          ...(language !== undefined && { language }),
        } as MessageEntity);
      text += body;
      i = close + (fence ? 3 : 1);
      continue;
    }
    const marker = MDV2_MARKERS.find(([token]) => source.startsWith(token, i));
    if (marker !== undefined) {
      const [token, type] = marker;
      const started = open.get(token);
      if (started === undefined) open.set(token, { start: text.length, at: i });
      else {
        open.delete(token);
        if (text.length > started.start)
          entities.push({ type, offset: started.start, length: text.length - started.start } as MessageEntity);
      }
      i += token.length;
      continue;
    }
    if (ch === '[' && linkStart === undefined) {
      linkStart = text.length;
      i += 1;
      continue;
    }
    if (ch === ']' && linkStart !== undefined && source[i + 1] === '(') {
      const close = findUnescaped(source, ')', i + 2);
      if (close === -1) return fail(`Can't find end of a URL at byte offset ${byteOffset(source, i)}`);
      const url = source.slice(i + 2, close).replace(/\\(.)/g, '$1');
      if (text.length > linkStart)
        entities.push({ type: 'text_link', offset: linkStart, length: text.length - linkStart, url });
      linkStart = undefined;
      i = close + 1;
      continue;
    }
    if (ch === '>' && (i === 0 || source[i - 1] === '\n')) {
      i += 1;
      continue;
    }
    if (MDV2_RESERVED.has(ch)) return fail(`Character '${ch}' is reserved and must be escaped with the preceding '\\'`);
    text += ch;
    i += 1;
  }
  for (const [token, started] of open) {
    const name = MDV2_MARKERS.find(([t]) => t === token)?.[2] ?? 'entity';
    return fail(`Can't find end of ${name} entity at byte offset ${byteOffset(source, started.at)}`);
  }
  if (linkStart !== undefined) return fail(`Can't find end of TextUrl entity`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { ok: true, text, entities };
}
