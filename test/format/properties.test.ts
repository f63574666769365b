import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderPlain, renderTelegram } from '../../src/format/render.js';
import { splitRendered } from '../../src/format/split.js';
import { entitiesProblem } from '../fakes/telegram-entities.js';

const PIECES = [
  '**',
  '*',
  '_',
  '__',
  '~~',
  '~',
  '`',
  '``',
  '```',
  '```py\n',
  '~~~',
  '[',
  ']',
  '](',
  '(',
  ')',
  'https://x.com/a_b',
  'javascript:x',
  '\n',
  '\n\n',
  '  \n',
  '- ',
  '  - ',
  '1. ',
  '> ',
  '> > ',
  '# ',
  '## ',
  '|',
  '| a | b |\n|---|---|\n',
  '---',
  '\\',
  '<b>',
  '&amp;',
  '&',
  ' ',
  'word',
  'snake_case',
  'é',
  'é',
  '😀',
  '👨‍👩‍👧',
  '🇩🇪',
  'שלום',
  'مرحبا',
  '\t',
  '\r\n',
  '![i](https://x.com/i.png)',
];
/** Strings made of Markdown-ish pieces: markers, links, lists, quotes, fences, emoji, RTL. */
const markdownish = fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((parts) => parts.join(''));
/** Any string, including lone surrogates and control characters. */
const anyString = fc.string({ unit: 'binary', maxLength: 200 });
const inputs = fc.oneof(markdownish, anyString, fc.string({ unit: 'grapheme', maxLength: 120 }));
const squash = (text: string): string => text.replace(/\s+/g, '');

describe('formatting properties (fast-check)', () => {
  it('renders entities Telegram accepts, whole or partial, and plain equals the text', () => {
    fc.assert(
      fc.property(inputs, fc.boolean(), (markdown, partial) => {
        const rendered = renderTelegram(markdown, { partial });
        expect(entitiesProblem(rendered.text, rendered.entities)).toBeUndefined();
        expect(rendered.text).toBe(rendered.text.trim());
        expect(renderPlain(markdown, { partial })).toBe(rendered.text);
      }),
      { numRuns: 1500 },
    );
  });

  it('splits into parts within the limit, each valid, that concatenate back to the text', () => {
    fc.assert(
      fc.property(inputs, fc.integer({ min: 2, max: 80 }), fc.boolean(), (markdown, limit, partial) => {
        const rendered = renderTelegram(markdown.repeat(3), { partial });
        const parts = splitRendered(rendered, limit);
        let cursor = 0;
        for (const part of parts) {
          expect(part.text.length).toBeGreaterThan(0);
          expect(part.text.length).toBeLessThanOrEqual(limit);
          expect(entitiesProblem(part.text, part.entities)).toBeUndefined();
          const at = rendered.text.indexOf(part.text, cursor);
          expect(at).toBeGreaterThanOrEqual(cursor);
          expect(rendered.text.slice(cursor, at).trim()).toBe('');
          cursor = at + part.text.length;
        }
        expect(squash(parts.map((p) => p.text).join(''))).toBe(squash(rendered.text));
      }),
      { numRuns: 800 },
    );
  });

  it('renders every prefix of a Markdown-ish string in partial mode without throwing', () => {
    fc.assert(
      fc.property(markdownish, (markdown) => {
        for (let end = 0; end <= markdown.length; end += 1) {
          const rendered = renderTelegram(markdown.slice(0, end), { partial: true });
          expect(entitiesProblem(rendered.text, rendered.entities)).toBeUndefined();
        }
      }),
      { numRuns: 200 },
    );
  });
});
