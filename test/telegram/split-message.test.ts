import { describe, expect, it } from 'vitest';
import { TELEGRAM_TEXT_LIMIT } from '../../src/format/split.js';
import { splitMessage } from '../../src/telegram/split-message.js';

/** Words of the text, in order: what must survive a split. */
const words = (text: string) => text.split(/\s+/).filter(Boolean);

describe('splitMessage', () => {
  it('keeps a short text whole', () => {
    expect(splitMessage('Hello there.')).toEqual(['Hello there.']);
    expect(splitMessage('   ')).toEqual([]);
  });

  it('splits 10,000 characters of paragraphs into parts under 4096, at paragraph breaks, losing nothing', () => {
    const paragraph = (i: number) => `Paragraph ${i}. ${'lorem ipsum dolor sit amet '.repeat(30).trim()}`;
    const text = Array.from({ length: 13 }, (_, i) => paragraph(i)).join('\n\n');
    expect(text.length).toBeGreaterThan(10_000);
    const parts = splitMessage(text);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    for (const part of parts) expect(part).toMatch(/^Paragraph \d+\./);
    expect(parts.join('\n\n')).toBe(text);
  });

  it('falls back to line breaks, then spaces, then a hard cut', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    const byLine = splitMessage(lines, 100);
    for (const part of byLine) expect(part.length).toBeLessThanOrEqual(100);
    expect(byLine.join('\n')).toBe(lines);

    const prose = 'word '.repeat(100).trim();
    const byWord = splitMessage(prose, 50);
    expect(byWord.every((part) => part.length <= 50 && !part.startsWith(' ') && !part.endsWith(' '))).toBe(true);
    expect(words(byWord.join(' '))).toEqual(words(prose));

    const blob = 'a'.repeat(250);
    expect(splitMessage(blob, 100)).toEqual(['a'.repeat(100), 'a'.repeat(100), 'a'.repeat(50)]);
  });

  it('never cuts an emoji in half', () => {
    const text = '😀'.repeat(60); // 120 UTF-16 units, no spaces
    const parts = splitMessage(text, 51);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(51);
      expect(part).not.toMatch(/[\ud800-\udbff]$/);
      expect(part).not.toMatch(/^[\udc00-\udfff]/);
    }
    expect(parts.join('')).toBe(text);
  });

  it('never cuts a grapheme of several code points: family, flag, skin tone', () => {
    for (const emoji of ['👨‍👩‍👧‍👦', '🇫🇷', '👍🏽']) {
      const text = emoji.repeat(40);
      for (const limit of [13, 17, 50]) {
        const parts = splitMessage(text, limit);
        for (const part of parts) {
          expect(part.length).toBeLessThanOrEqual(limit);
          expect(part.length % emoji.length).toBe(0);
        }
        expect(parts.join('')).toBe(text);
      }
    }
  });

  it('keeps the indentation of the first line after a cut; only the separator goes', () => {
    const code = Array.from({ length: 30 }, (_, i) => `    line ${i} of code`).join('\n');
    const parts = splitMessage(code, 100);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part).toMatch(/^ {4}line \d+/);
    expect(parts.join('\n')).toBe(code);
  });

  it('prefers a paragraph break even when a line break comes later', () => {
    const text = `${'a '.repeat(40)}\n\n${'b '.repeat(20)}\n${'c '.repeat(40)}`;
    const [first] = splitMessage(text, 150);
    expect(first).toBe('a '.repeat(40).trim());
  });
});
