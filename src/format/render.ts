/**
 * Model Markdown → Telegram `{ text, entities }` (UTF-16 offsets, never `parse_mode`), plain
 * text for a terminal, and parts that fit Telegram's 4096 limit.
 *
 * Fallback contract for the caller that sends: if Telegram answers 400 to a formatted part
 * (sendMessage or editMessageText with `entities`), resend that same part as
 * `{ text: plainTextOf(part) }` with no entities and no parse_mode; nothing is lost, because
 * the plain rendering is exactly the formatted text without its styles.
 */
import { toAnsi } from './ansi.js';
import { carveVerbatim, trimmed } from './entities.js';
import { parseMarkdown } from './parser.js';
import { closeDangling } from './partial.js';
import type { FormattedText, RenderOptions } from './types.js';
import { walkTokens } from './walk.js';

/** Renders model Markdown to trimmed text + valid Telegram entities; never throws. With
 * `partial`, `markdown` is a streamed prefix rendered without dangling markers. */
export function renderTelegram(markdown: string, options: RenderOptions = {}): FormattedText {
  const source = options.partial === true ? closeDangling(markdown) : markdown;
  const { text, entities } = walkTokens(parseMarkdown(source));
  return trimmed({ text, entities: carveVerbatim(entities) });
}

/** What a user sees of `renderTelegram(markdown, options)` without styles: exactly its `text`. */
export function renderPlain(markdown: string, options: RenderOptions = {}): string {
  return renderTelegram(markdown, options).text;
}

/** `renderTelegram` for a terminal: styles as ANSI escape codes, no Markdown markers. */
export function renderAnsi(markdown: string, options: RenderOptions = {}): string {
  return toAnsi(renderTelegram(markdown, options));
}

/** The text to resend when Telegram rejects a formatted part (see the module comment). */
export function plainTextOf(part: FormattedText): string {
  return part.text;
}
