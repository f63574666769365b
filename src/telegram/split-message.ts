/**
 * Splitting a long reply into Telegram-sized messages: at paragraph breaks first, then line
 * breaks, then spaces, and only as a last resort inside a word (never inside a surrogate
 * pair). Joining the parts with the separators they were cut at gives back the whole text.
 */

/** Telegram's limit for one message's text, in UTF-16 code units. */
export const TELEGRAM_TEXT_LIMIT = 4096;

const SEPARATORS = ['\n\n', '\n', ' '] as const;

/** Splits `text` into parts of at most `limit` UTF-16 units (default 4096). Whitespace at a
 * cut is dropped; no other character is lost. Empty or blank text gives no parts. */
export function splitMessage(text: string, limit: number = TELEGRAM_TEXT_LIMIT): string[] {
  if (limit < 2) throw new RangeError('splitMessage: limit must be at least 2');
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const cut = findCut(rest, limit);
    const part = rest.slice(0, cut).trimEnd();
    if (part !== '') parts.push(part);
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') parts.push(rest);
  return parts;
}

/** Index at which to cut `text` so the first part fits `limit`: after the last separator of
 * the strongest kind that leaves a part at least a quarter of the limit long. */
function findCut(text: string, limit: number): number {
  const window = text.slice(0, limit + 1);
  for (const separator of SEPARATORS) {
    const at = window.lastIndexOf(separator, limit - separator.length + 1);
    if (at >= limit / 4) return at + separator.length;
  }
  // No usable boundary: cut hard, but not between the two halves of a surrogate pair.
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}
