import { describe, expect, it } from 'vitest';
import { closeDangling } from '../../src/format/partial.js';
import { renderTelegram } from '../../src/format/render.js';

const partial = (markdown: string) => renderTelegram(markdown, { partial: true });

describe('renderTelegram with partial: a streamed prefix shows no dangling markers', () => {
  it.each([
    [
      'unclosed fence shows as code so far',
      'Run:\n\n```sh\nls -la',
      'Run:\n\nls -la',
      [{ type: 'pre', offset: 6, length: 6, language: 'sh' }],
    ],
    [
      'half-typed closing fence is hidden',
      '```py\nx = 1\n``',
      'x = 1',
      [{ type: 'pre', offset: 0, length: 5, language: 'py' }],
    ],
    ['fence opener alone shows nothing', 'Code:\n\n``', 'Code:', []],
    ['unclosed bold is bold so far', 'a **bol', 'a bol', [{ type: 'bold', offset: 2, length: 3 }]],
    ['bare trailing marker is hidden', 'a **', 'a', []],
    ['unclosed italic', 'so _it', 'so it', [{ type: 'italic', offset: 3, length: 2 }]],
    ['unclosed code span', 'use `npm i', 'use npm i', [{ type: 'code', offset: 4, length: 5 }]],
    ['unfinished link keeps its text', 'see [docs](https://exa', 'see docs', []],
    ['unfinished link text', 'see [do', 'see do', []],
    [
      'nested unclosed',
      '_a **b',
      'a b',
      [
        { type: 'italic', offset: 0, length: 3 },
        { type: 'bold', offset: 2, length: 1 },
      ],
    ],
    [
      'fence inside a quote (the pre wins over the quote)',
      '> ```js\n> let',
      'let',
      [{ type: 'pre', offset: 0, length: 3, language: 'js' }],
    ],
    ['a bare list marker on the last line is hidden', '- a\n- ', '• a', []],
    ['a bare heading marker is hidden', 'text\n\n##', 'text', []],
    ['snake_case is not emphasis', 'my_var_na', 'my_var_na', []],
  ])('%s', (_name, markdown, text, entities) => {
    expect(partial(markdown)).toEqual({ text, entities });
  });

  it('leaves a finished text as it is', () => {
    const done = '**a** `b` [c](https://x.org)\n\n```\nd\n```';
    expect(closeDangling(done)).toBe(done);
    expect(partial(done)).toEqual(renderTelegram(done));
  });
});
