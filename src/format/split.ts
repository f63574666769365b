/**
 * Splits a rendered message into parts of at most `limit` UTF-16 code units (Telegram's 4096)
 * with every entity clipped to its part, so a style cut in two is re-opened in the next part
 * (a `pre` keeps its language on both sides). Cuts prefer, in order: a blank line, a line
 * break, a space — outside code — in the second half of the window; then a line break inside
 * a code block; then the same kinds anywhere; then any grapheme boundary (Intl.Segmenter).
 * The whitespace at a cut is dropped (Telegram strips it anyway); nothing else is lost.
 */
import { slice, trimmed } from './entities.js';
import type { FormattedText } from './types.js';

/** Telegram's limit for a message text, in UTF-16 code units. */
export const TELEGRAM_TEXT_LIMIT = 4096;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

type Rule = (text: string, p: number, inCode: boolean) => boolean;
const paragraph: Rule = (text, p, inCode) => !inCode && text.startsWith('\n\n', p);
const line: Rule = (text, p, inCode) => !inCode && text[p] === '\n';
const word: Rule = (text, p, inCode) => !inCode && /\s/.test(text[p] ?? '');
const codeLine: Rule = (text, p) => text[p] === '\n';

/** `formatted` cut into parts of at most `limit` code units; see the module comment. An
 * empty text gives no part. */
export function splitRendered(formatted: FormattedText, limit = TELEGRAM_TEXT_LIMIT): FormattedText[] {
  if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`split limit must be an integer ≥ 2, got ${limit}`);
  const parts: FormattedText[] = [];
  let rest = trimmed(formatted);
  while (rest.text.length > limit) {
    const cut = chooseCut(rest, limit);
    const head = trimmed(slice(rest, 0, cut));
    if (head.text.length > 0) parts.push(head);
    rest = trimmed(slice(rest, cut, rest.text.length));
  }
  if (rest.text.length > 0) parts.push(rest);
  return parts;
}

/** Where to cut `formatted` (whose text is longer than `limit`): the head is [0, cut). */
function chooseCut(formatted: FormattedText, limit: number): number {
  const { text } = formatted;
  const boundaries = graphemeBoundaries(text.slice(0, limit + 256), limit);
  const inCode = new Array<boolean>(limit + 1).fill(false);
  for (const e of formatted.entities) {
    if (e.type !== 'pre' && e.type !== 'code') continue;
    for (let p = e.offset + 1; p < Math.min(e.offset + e.length, limit + 1); p += 1) inCode[p] = true;
  }
  const half = Math.floor(limit / 2);
  const passes: ReadonlyArray<readonly [Rule, number]> = [
    [paragraph, half],
    [line, half],
    [word, half],
    [codeLine, half],
    [paragraph, 1],
    [line, 1],
    [word, 1],
    [codeLine, 1],
  ];
  for (const [rule, min] of passes) {
    for (let p = limit; p >= min; p -= 1) if (boundaries.has(p) && rule(text, p, inCode[p] === true)) return p;
  }
  const last = Math.max(0, ...[...boundaries].filter((p) => p <= limit));
  if (last > 0) return last;
  // One grapheme longer than the limit: cut between code points, never inside a surrogate pair.
  return /[\uD800-\uDBFF]/.test(text[limit - 1] ?? '') ? limit - 1 : limit;
}

/** Grapheme boundaries of `text` in (0, max]. */
function graphemeBoundaries(text: string, max: number): Set<number> {
  const found = new Set<number>();
  for (const { index } of segmenter.segment(text)) {
    if (index > max) break;
    if (index > 0) found.add(index);
  }
  return found;
}
