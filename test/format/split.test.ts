import { describe, expect, it } from 'vitest';
import { renderTelegram } from '../../src/format/render.js';
import { splitRendered } from '../../src/format/split.js';
import type { FormattedText } from '../../src/format/types.js';
import { entitiesProblem } from '../fakes/telegram-entities.js';

const squash = (text: string): string => text.replace(/\s+/g, '');

function expectValidParts(whole: FormattedText, parts: readonly FormattedText[], limit: number): void {
  for (const part of parts) {
    expect(part.text.length).toBeLessThanOrEqual(limit);
    expect(entitiesProblem(part.text, part.entities)).toBeUndefined();
  }
  expect(squash(parts.map((p) => p.text).join(''))).toBe(squash(whole.text));
}

describe('splitRendered', () => {
  it('keeps a short text whole and gives no part for an empty one', () => {
    const short = renderTelegram('**hi**');
    expect(splitRendered(short)).toEqual([short]);
    expect(splitRendered({ text: '', entities: [] })).toEqual([]);
  });

  it('prefers a paragraph break, then a line break, then a space', () => {
    const text = 'aaaa bbbb\ncccc\n\ndddd eeee';
    expect(splitRendered({ text, entities: [] }, 20).map((p) => p.text)).toEqual(['aaaa bbbb\ncccc', 'dddd eeee']);
    expect(splitRendered({ text: 'aaaa bbbb\ncccc dddd', entities: [] }, 16).map((p) => p.text)).toEqual([
      'aaaa bbbb',
      'cccc dddd',
    ]);
    expect(splitRendered({ text: 'aaaa bbbb cccc', entities: [] }, 12).map((p) => p.text)).toEqual([
      'aaaa bbbb',
      'cccc',
    ]);
  });

  it('re-opens a style on both sides of a cut', () => {
    const whole: FormattedText = { text: 'one two three', entities: [{ type: 'bold', offset: 0, length: 13 }] };
    expect(splitRendered(whole, 8)).toEqual([
      { text: 'one two', entities: [{ type: 'bold', offset: 0, length: 7 }] },
      { text: 'three', entities: [{ type: 'bold', offset: 0, length: 5 }] },
    ]);
  });

  it('cuts a long code block between its lines into two pre blocks of the same language', () => {
    const code = Array.from({ length: 8 }, (_, i) => `line ${i}`).join('\n');
    const whole = renderTelegram(`Intro text here.\n\n\`\`\`js\n${code}\n\`\`\``);
    const parts = splitRendered(whole, 40);
    expectValidParts(whole, parts, 40);
    const pres = parts.flatMap((p) => p.entities).filter((e) => e.type === 'pre');
    expect(pres.length).toBeGreaterThanOrEqual(2);
    expect(pres.every((e) => e.type === 'pre' && e.language === 'js')).toBe(true);
    for (const part of parts)
      for (const line of part.text.split('\n')) expect(line).toMatch(/^(line \d|Intro text here\.|)$/);
  });

  it('prefers a cut outside code over one inside it', () => {
    const whole = renderTelegram(`${'word '.repeat(10)}\n\n\`\`\`\n${'x y z '.repeat(4)}\n\`\`\``);
    const parts = splitRendered(whole, 60);
    expect(parts[0]?.text).toBe('word '.repeat(10).trim());
    expectValidParts(whole, parts, 60);
  });

  it('never cuts inside a grapheme (ZWJ families, flags, surrogate pairs)', () => {
    const family = '👨‍👩‍👧‍👦';
    const whole: FormattedText = { text: `${family}🇩🇪`.repeat(30), entities: [] };
    const parts = splitRendered(whole, 50);
    expectValidParts(whole, parts, 50);
    for (const part of parts) expect(part.text).toMatch(/^(👨‍👩‍👧‍👦|🇩🇪)+$/u);
  });

  it('cuts a grapheme longer than the limit between code points', () => {
    const zalgo = `a${'\u0301'.repeat(30)}`;
    const parts = splitRendered({ text: zalgo, entities: [] }, 10);
    expect(parts.map((p) => p.text).join('')).toBe(zalgo);
  });

  it('rejects a limit below 2', () => {
    expect(() => splitRendered({ text: 'abc', entities: [] }, 1)).toThrow(/limit/);
  });
});
