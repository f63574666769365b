/**
 * How Telegram checks `entities` sent with a text (no parse_mode): offsets and lengths are
 * integers inside the UTF-16 length of the text and never split a surrogate pair, types are
 * known, entities nest but never partially overlap, pre/code neither contain nor sit inside
 * another entity, a blockquote is not inside a blockquote, a text_link has an http(s)/tg/mailto
 * url and a pre's language is a string. Stricter than Telegram in one way on purpose: an
 * entity must not reach into the leading/trailing whitespace Telegram strips from a message.
 * Shared by the fake Bot API and the formatting tests.
 */

/** Entity types Telegram knows. */
export const KNOWN_ENTITY_TYPES: ReadonlySet<string> = new Set([
  'mention',
  'hashtag',
  'cashtag',
  'bot_command',
  'url',
  'email',
  'phone_number',
  'bold',
  'italic',
  'underline',
  'strikethrough',
  'spoiler',
  'blockquote',
  'expandable_blockquote',
  'code',
  'pre',
  'text_link',
  'text_mention',
  'custom_emoji',
  'date_time',
]);

interface Span {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
}

const isSurrogateMiddle = (text: string, at: number): boolean =>
  at > 0 && at < text.length && /[\uD800-\uDBFF]/.test(text[at - 1] ?? '') && /[\uDC00-\uDFFF]/.test(text[at] ?? '');

/** Why Telegram would reject one entity on its own, or undefined. */
function entityProblem(text: string, raw: unknown, index: number): string | undefined {
  if (typeof raw !== 'object' || raw === null) return `entity ${index} is not an object`;
  const e = raw as Record<string, unknown>;
  if (typeof e.type !== 'string' || !KNOWN_ENTITY_TYPES.has(e.type)) return `unknown entity type ${String(e.type)}`;
  const { offset, length } = e;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length))
    return `entity ${index} has no integer offset/length`;
  const [o, l] = [offset as number, length as number];
  if (o < 0 || l <= 0) return `entity ${index} (${e.type}) is empty or starts before the text`;
  if (o + l > text.length)
    return `entity ${index} (${e.type}) ends at ${o + l}, past the text's ${text.length} UTF-16 units`;
  if (isSurrogateMiddle(text, o) || isSurrogateMiddle(text, o + l)) return `entity ${index} splits a surrogate pair`;
  const lead = text.length - text.trimStart().length;
  if (o < lead || o + l > text.trimEnd().length) return `entity ${index} (${e.type}) lies in stripped whitespace`;
  if (e.type === 'text_link' && !validUrl(e.url)) return `wrong HTTP URL ${JSON.stringify(e.url)}`;
  if (e.type === 'pre' && e.language !== undefined && typeof e.language !== 'string')
    return `entity ${index} has a non-string language`;
  return undefined;
}

function validUrl(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  try {
    return ['http:', 'https:', 'tg:', 'mailto:'].includes(new URL(url).protocol);
  } catch {
    // An unparsable URL is exactly what Telegram rejects.
    return false;
  }
}

/** Why Telegram would reject two entities together, or undefined. */
function pairProblem(a: Span, b: Span): string | undefined {
  const [aEnd, bEnd] = [a.offset + a.length, b.offset + b.length];
  if (aEnd <= b.offset || bEnd <= a.offset) return undefined;
  const aInB = b.offset <= a.offset && aEnd <= bEnd;
  const bInA = a.offset <= b.offset && bEnd <= aEnd;
  if (!aInB && !bInA) return `entities ${a.type}@${a.offset} and ${b.type}@${b.offset} overlap partially`;
  const verbatim = ['pre', 'code'];
  if (verbatim.includes(a.type) || verbatim.includes(b.type))
    return `${a.type}@${a.offset} and ${b.type}@${b.offset}: pre and code can't contain or be inside other entities`;
  const quotes = ['blockquote', 'expandable_blockquote'];
  if (quotes.includes(a.type) && quotes.includes(b.type)) return `blockquote inside blockquote at ${b.offset}`;
  return undefined;
}

/** Why Telegram would answer "can't parse entities" to `text` with `entities`, or undefined
 * when it accepts them. */
export function entitiesProblem(text: string, entities: unknown): string | undefined {
  if (entities === undefined) return undefined;
  if (!Array.isArray(entities)) return 'entities must be an array';
  for (const [index, raw] of entities.entries()) {
    const problem = entityProblem(text, raw, index);
    if (problem !== undefined) return problem;
  }
  const spans = entities as Span[];
  for (let i = 0; i < spans.length; i += 1)
    for (let j = i + 1; j < spans.length; j += 1) {
      const problem = pairProblem(spans[i] as Span, spans[j] as Span);
      if (problem !== undefined) return problem;
    }
  return undefined;
}
