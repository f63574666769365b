/**
 * The neutral result of formatting: plain text plus Telegram-style entities. Offsets and
 * lengths count UTF-16 code units (a JS string's `.length`), as the Bot API does, so the value
 * can be sent as `{ text, entities }` with no `parse_mode` and nothing to escape.
 */

/** Entity types the renderer produces (a subset of Telegram's MessageEntity types). */
export type StyleType =
  | 'bold'
  | 'italic'
  | 'underline'
  | 'strikethrough'
  | 'spoiler'
  | 'code'
  | 'blockquote'
  | 'expandable_blockquote';

/** One styled range of `text`; structurally a Telegram MessageEntity. */
export type FormatEntity =
  | { readonly type: StyleType; readonly offset: number; readonly length: number }
  | { readonly type: 'pre'; readonly offset: number; readonly length: number; readonly language?: string }
  | { readonly type: 'text_link'; readonly offset: number; readonly length: number; readonly url: string };

/** Text and its entities: valid for Telegram (nested, never partially overlapping, pre/code
 * holding no other entity, none empty, all inside `text`, `text` trimmed). */
export interface FormattedText {
  readonly text: string;
  readonly entities: readonly FormatEntity[];
}

/** Options of the renderers. `partial`: the Markdown is an unfinished (streamed) prefix, so
 * dangling markers are hidden instead of shown literally. */
export interface RenderOptions {
  readonly partial?: boolean;
}

/** URL schemes a `text_link` may use; other links keep their text and lose the link. */
export const LINK_SCHEMES: readonly string[] = ['http:', 'https:', 'tg:', 'mailto:'];

/** The URL as a Telegram `text_link` may carry it, or undefined when it is not one. */
export function linkUrl(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > 2048) return undefined;
  try {
    const url = new URL(raw);
    return LINK_SCHEMES.includes(url.protocol) && url.href.length <= 2048 ? raw : undefined;
  } catch {
    // Not a parsable absolute URL (relative, garbage): the caller keeps the text unlinked.
    return undefined;
  }
}
