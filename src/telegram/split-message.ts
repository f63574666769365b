/**
 * Splitting a long reply into Telegram-sized messages: at paragraph breaks first, then line
 * breaks, then spaces, and only as a last resort inside a word, and then on a grapheme
 * boundary (a family, flag or skin-toned emoji is never cut in two). Only the separator at a
 * cut goes: the indentation of the line after it is kept, so code and lists stay intact.
 */

import { TELEGRAM_TEXT_LIMIT } from '../format/split.js';

const SEPARATORS = ['\n\n', '\n', ' '] as const;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Splits `text` into parts of at most `limit` UTF-16 units (default TELEGRAM_TEXT_LIMIT). Blank lines at the
 * start, trailing whitespace, and the separator whitespace at each cut are dropped; no other
 * character is lost. Empty or blank text gives no parts. */
export function splitMessage(text: string, limit: number = TELEGRAM_TEXT_LIMIT): string[] {
  if (limit < 2) throw new RangeError('splitMessage: limit must be at least 2');
  const parts: string[] = [];
  let rest = dropBlankLines(text).trimEnd();
  while (rest.length > limit) {
    const { at, midLine } = findCut(rest, limit);
    const part = rest.slice(0, at).trimEnd();
    if (part !== '') parts.push(part);
    rest = midLine ? rest.slice(at).replace(/^[ \t]+/, '') : dropBlankLines(rest.slice(at));
  }
  if (rest !== '') parts.push(rest);
  return parts;
}

/** `text` without its leading blank lines (the indentation of its first line is kept). */
function dropBlankLines(text: string): string {
  return text.replace(/^(?:[ \t\r]*\n)+/, '');
}

/** Where to cut `text` so the first part fits `limit`: after the last separator of the
 * strongest kind that leaves a part at least a quarter of the limit long; else at the last
 * grapheme boundary that fits. `midLine`: the cut is inside a line (at a space or a word). */
function findCut(text: string, limit: number): { at: number; midLine: boolean } {
  const window = text.slice(0, limit + 1);
  for (const separator of SEPARATORS) {
    const at = window.lastIndexOf(separator, limit - separator.length + 1);
    if (at >= limit / 4) return { at: at + separator.length, midLine: separator === ' ' };
  }
  return { at: lastGraphemeBoundary(text, limit), midLine: true };
}

/** The last grapheme boundary at or before `limit` (`text` is longer than `limit`); a code
 * point boundary when one grapheme is longer than `limit` (never a cut surrogate pair). */
function lastGraphemeBoundary(text: string, limit: number): number {
  let boundary = 0;
  // A grapheme starting at `limit` ends the part exactly; the look-ahead lets it be seen whole.
  for (const { index } of graphemes.segment(text.slice(0, limit + 64))) {
    if (index > limit) break;
    boundary = index;
  }
  if (boundary > 0) return boundary;
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}
