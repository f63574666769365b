/**
 * Nasty model outputs for the formatting tests: each is something a model really writes and
 * that breaks naive Markdown → Telegram conversion.
 */

const longCode = Array.from(
  { length: 260 },
  (_, i) => `    const value${i} = compute(${i}, "x_${i}"); // 😀 ${i}`,
).join('\n');
const longProse = Array.from(
  { length: 120 },
  (_, i) => `Sentence ${i} has **bold ${i}** and _italic_ and \`code_${i}\` words.`,
).join(' ');

/** [name, markdown] pairs. */
export const CORPUS: ReadonlyArray<readonly [string, string]> = [
  ['empty', ''],
  ['whitespace only', '   \n\t\n  '],
  ['plain sentence', 'Hello, world!'],
  ['unbalanced bold', 'This is **bold but never closed'],
  ['unbalanced italic', 'An _italic start and a * star'],
  ['stray closer', 'closing only** here__ and ~~ there'],
  ['star inside words', '2*3*4 = 24 and a*b*c'],
  ['underscores in snake_case', 'Call my_function_name(snake_case_arg) and __init__ or __dunder__.'],
  ['underscores and stars in URLs', 'See https://example.com/a_b_c?x=*y*&z=_w_ and http://x.org/__p__'],
  ['emoji and surrogate pairs', '**😀 bold 😀** then `𝒳𝒴` and _🎉_'],
  ['ZWJ family and flags', 'Family: 👨‍👩‍👧‍👦 flags 🇩🇪🇫🇷🏳️‍🌈 **👩🏽‍💻 coder**'],
  ['combining marks', 'Zalgo: Z̷̢̛a̶l̸g̵o̴ **é vs é**'],
  ['html-like text', '<b>not bold</b> & <script>alert("x")</script> &amp; &lt;'],
  ['angle autolink', 'Link: <https://example.com/path?q=1> and <mailto:me@example.com>'],
  [
    'nested lists',
    '- one\n  - one.a\n    - one.a.i **deep**\n- two\n\n1. first\n2. second\n   1. inner\n   2. inner two',
  ],
  ['ordered from 7', '7. seven\n8. eight\n\n3) three'],
  ['loose list', '- para one\n\n  continued\n\n- para two'],
  ['code with backticks', 'Use ``a `tick` inside`` and:\n\n````md\n```js\nconsole.log(1)\n```\n````'],
  ['fenced code with language', '```python\ndef f(x):\n    return x * 2  # **not bold**\n```'],
  ['fence without language', '```\nplain <code> & stuff\n```'],
  ['tilde fence', '~~~bash\necho "$HOME" | grep _x_\n~~~'],
  ['indented code', 'Text:\n\n    indented code\n    more'],
  ['table', '| Name | Value |\n|------|------:|\n| `a_b` | **1** |\n| 😀 | 2 |\n| long cell here | 3 |'],
  ['table ragged', '| a | b | c |\n|---|---|---|\n| 1 |\n| 1 | 2 | 3 | 4 |'],
  ['headings', '# H1\n## H2 with `code`\n### H3 **bold**\nSetext\n======\n\ntext'],
  ['block quotes', '> quoted **bold**\n> > nested quote\n>\n> - list in quote\n\nafter'],
  ['quote with code', '> ```js\n> let x = 1;\n> ```'],
  [
    'links with parentheses',
    '[wiki](https://en.wikipedia.org/wiki/Foo_(bar)) and [rel](./local) and [js](javascript:alert(1))',
  ],
  ['link with formatting', '[**bold link** `code`](https://example.com) and ![img](https://x.com/i.png)'],
  ['tg and mailto links', '[user](tg://user?id=123) [mail](mailto:a@b.co) [ftp](ftp://x.org)'],
  ['strikethrough', '~~gone~~ and ~single~ and ~~**both**~~'],
  ['hard and soft breaks', 'line one  \nline two\\\nline three\nline four'],
  ['horizontal rules', 'above\n\n---\n\nbelow\n\n***\n\n___'],
  ['RTL Arabic', 'مرحبا **بالعالم** و `كود` _مائل_'],
  ['RTL Hebrew mixed', 'שלום **עולם** with English and 123 — [קישור](https://example.co.il)'],
  ['escapes', '\\*not italic\\* and \\_no\\_ and \\`no code\\` and \\\\ backslash'],
  ['leading and trailing space', '   \n\n  **bold at start**  \n\n  '],
  ['only markers', '** __ ~~ `` ```'],
  ['deep nesting', '***bold italic*** and **_mixed_ ~~strike `code`~~**'],
  ['many entities', Array.from({ length: 150 }, (_, i) => `**b${i}**`).join(' ')],
  ['long code crossing 4096', `Here is the code:\n\n\`\`\`ts\n${longCode}\n\`\`\`\n\nDone.`],
  ['long prose crossing 4096', longProse],
  ['long single word', 'x'.repeat(5000)],
  ['long emoji run', '😀'.repeat(3000)],
  ['CRLF line endings', 'line one\r\nline **two**\r\n\r\n- item\r\n- item'],
  ['footnote-ish and brackets', 'See [1] and [note] and arr[0][1] and [](https://x.com) and [x]()'],
  ['numbers and math', '5 * 3 = 15, a_1 + a_2, x^2 * y^2 and 10% off ~approx~'],
  ['nul and control chars', 'a\u0000b\u0007c \u200b zero-width \ufeff bom'],
];
