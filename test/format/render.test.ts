import { describe, expect, it } from 'vitest';
import { renderAnsi, renderPlain, renderTelegram } from '../../src/format/render.js';

describe('renderTelegram: each Markdown construct', () => {
  it.each([
    [
      'bold and inline code',
      '**bold** and `code`',
      'bold and code',
      [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'code', offset: 9, length: 4 },
      ],
    ],
    [
      'italic',
      '*a* _b_',
      'a b',
      [
        { type: 'italic', offset: 0, length: 1 },
        { type: 'italic', offset: 2, length: 1 },
      ],
    ],
    ['strikethrough', '~~gone~~', 'gone', [{ type: 'strikethrough', offset: 0, length: 4 }]],
    [
      'bold italic nested',
      '***both*** x',
      'both x',
      [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'italic', offset: 0, length: 4 },
      ],
    ],
    [
      'fenced code with its language',
      'Code:\n\n```ts\nconst a = 1;\n```',
      'Code:\n\nconst a = 1;',
      [{ type: 'pre', offset: 7, length: 12, language: 'ts' }],
    ],
    ['fence without language', '```\nx <y>\n```', 'x <y>', [{ type: 'pre', offset: 0, length: 5 }]],
    [
      'link',
      '[site](https://example.com/a_(b))',
      'site',
      [{ type: 'text_link', offset: 0, length: 4, url: 'https://example.com/a_(b)' }],
    ],
    ['relative or ftp link keeps its text only', '[here](./x) [f](ftp://x.org)', 'here f', []],
    [
      'markdown-it refuses javascript: links (text stays as written)',
      '[js](javascript:alert(1))',
      '[js](javascript:alert(1))',
      [],
    ],
    [
      'a link with an empty label shows its address',
      '[](https://x.org/a) [x]()',
      'https://x.org/a x',
      [{ type: 'text_link', offset: 0, length: 15, url: 'https://x.org/a' }],
    ],
    ['bullet list', '- a\n- b', '• a\n• b', []],
    ['nested list', '- a\n  - b\n- c', '• a\n  ◦ b\n• c', []],
    ['ordered list keeps its numbers', '3. a\n4. b\n   - c', '3. a\n4. b\n   ◦ c', []],
    ['loose list gets blank lines', '- a\n\n- b', '• a\n\n• b', []],
    ['heading becomes bold', '# Title\ntext', 'Title\n\ntext', [{ type: 'bold', offset: 0, length: 5 }]],
    [
      'block quote (nested quotes fold into one)',
      '> a\n> > b',
      'a\n\nb',
      [{ type: 'blockquote', offset: 0, length: 4 }],
    ],
    [
      'table as preformatted text',
      '| a | bb |\n|---|---|\n| ccc | d |',
      'a   | bb\n----+---\nccc | d',
      [{ type: 'pre', offset: 0, length: 25 }],
    ],
    [
      'table columns count emoji and CJK as two wide',
      '| a | b |\n|---|---|\n| 😀 | 漢 |\n| xyz | q |',
      'a   | b\n----+---\n😀  | 漢\nxyz | q',
      [{ type: 'pre', offset: 0, length: 32 }],
    ],
    ['hard and soft breaks', 'a  \nb\nc', 'a\nb\nc', []],
    ['horizontal rule', 'a\n\n---\n\nb', 'a\n\n———\n\nb', []],
    ['HTML stays literal', '<b>x</b> & &amp;', '<b>x</b> & &', []],
    ['escaped markers', '\\*x\\* \\_y\\_', '*x* _y_', []],
    ['snake_case stays', 'my_var_name and __x', 'my_var_name and __x', []],
    ['emoji offsets count UTF-16 units', '😀 **b**', '😀 b', [{ type: 'bold', offset: 3, length: 1 }]],
    ['empty input', '', '', []],
    ['whitespace-only input', ' \n\t ', '', []],
  ])('%s', (_name, markdown, text, entities) => {
    expect(renderTelegram(markdown)).toEqual({ text, entities });
  });

  it('splits a style around inline code (code may not sit inside another entity)', () => {
    expect(renderTelegram('**a `b` c**')).toEqual({
      text: 'a b c',
      entities: [
        { type: 'bold', offset: 0, length: 2 },
        { type: 'code', offset: 2, length: 1 },
        { type: 'bold', offset: 3, length: 2 },
      ],
    });
  });

  it('trims the edges Telegram strips and keeps entities inside', () => {
    expect(renderTelegram('  \n\n**x**  \n')).toEqual({
      text: 'x',
      entities: [{ type: 'bold', offset: 0, length: 1 }],
    });
  });

  it('indents code in a list item and keeps its language', () => {
    expect(renderTelegram('- step:\n\n  ```sh\n  ls\n  pwd\n  ```')).toEqual({
      text: '• step:\n\n  ls\n  pwd',
      entities: [{ type: 'pre', offset: 11, length: 8, language: 'sh' }],
    });
  });

  it('plain rendering is the text; ANSI rendering shows no Markdown markers', () => {
    const markdown = '# T\n\n**b** `c` [l](https://x.org)\n\n- i';
    expect(renderPlain(markdown)).toBe(renderTelegram(markdown).text);
    const ansi = renderAnsi(markdown);
    expect(ansi).toContain('\x1b[1mT\x1b[0m');
    expect(ansi).toContain('l\x1b[0m (https://x.org)');
    expect(ansi).not.toMatch(/\*\*|`|\[l\]/);
  });
});
