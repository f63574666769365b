/**
 * Entity bookkeeping shared by the renderer and the splitter: clip to a range, trim the text
 * the way Telegram strips a message, keep pre/code free of other entities, drop empty ones.
 */
import type { FormatEntity, FormattedText } from './types.js';

/** The entity moved by `shift` and cut to [from, to) of the original text, or undefined when
 * nothing of it is left. */
function clipOne(entity: FormatEntity, from: number, to: number, shift: number): FormatEntity | undefined {
  const start = Math.max(entity.offset, from);
  const end = Math.min(entity.offset + entity.length, to);
  return end > start ? { ...entity, offset: start - shift, length: end - start } : undefined;
}

/** The part [from, to) of `formatted`, entities clipped to it (nesting is kept: clipping never
 * creates a partial overlap). */
export function slice(formatted: FormattedText, from: number, to: number): FormattedText {
  const entities: FormatEntity[] = [];
  for (const entity of formatted.entities) {
    const clipped = clipOne(entity, from, to, from);
    if (clipped !== undefined) entities.push(clipped);
  }
  return { text: formatted.text.slice(from, to), entities };
}

/** `formatted` without leading and trailing whitespace (what Telegram strips), entities
 * clipped to what is left. */
export function trimmed(formatted: FormattedText): FormattedText {
  const { text } = formatted;
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  if (start >= end) return { text: '', entities: [] };
  return start === 0 && end === text.length ? formatted : slice(formatted, start, end);
}

const isVerbatim = (entity: FormatEntity): boolean => entity.type === 'pre' || entity.type === 'code';

/** Cuts every other entity around each pre/code range (Telegram lets neither contain nor sit
 * inside another entity), drops blockquotes inside blockquotes and sorts outer-first. */
export function carveVerbatim(entities: readonly FormatEntity[]): FormatEntity[] {
  const verbatim = entities.filter(isVerbatim);
  let rest = entities.filter((entity) => !isVerbatim(entity));
  for (const code of verbatim) {
    const codeEnd = code.offset + code.length;
    rest = rest.flatMap((entity) => {
      const end = entity.offset + entity.length;
      if (end <= code.offset || entity.offset >= codeEnd) return [entity];
      const before = clipOne(entity, entity.offset, code.offset, 0);
      const after = clipOne(entity, codeEnd, end, 0);
      return [before, after].filter((part): part is FormatEntity => part !== undefined);
    });
  }
  const quotes = rest.filter((e) => e.type === 'blockquote' || e.type === 'expandable_blockquote');
  const inside = (q: FormatEntity, e: FormatEntity): boolean =>
    q.offset <= e.offset && q.offset + q.length >= e.offset + e.length;
  // Of two quotes on the same range the first stays; an inner quote goes.
  const nestedQuote = (e: FormatEntity): boolean =>
    quotes.some((q, i) => q !== e && inside(q, e) && (!inside(e, q) || i < quotes.indexOf(e)));
  rest = rest.filter((e) => !quotes.includes(e) || !nestedQuote(e));
  return sortEntities([...rest, ...verbatim]);
}

/** Entities sorted by offset, longer (outer) first on ties, empty ones dropped. */
export function sortEntities(entities: readonly FormatEntity[]): FormatEntity[] {
  return entities.filter((e) => e.length > 0).sort((a, b) => a.offset - b.offset || b.length - a.length);
}
