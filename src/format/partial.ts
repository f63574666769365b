/**
 * Completes an unfinished (streamed) Markdown prefix so that it renders without dangling
 * markers: a half-typed fence line is dropped (an open fence already renders as code so far),
 * a trailing run of marker characters is dropped, so is a last line holding only a list,
 * heading or quote marker, an unfinished `[text](url` keeps only its text, and emphasis and
 * code spans still open in the last paragraph are closed.
 */

const LINE_PREFIX = /^(?:[ \t]*(?:>|[-*+](?=\s)|\d{1,9}[.)](?=\s)))*[ \t]*/;
const FENCE = /^(`{3,}|~{3,})/;
const MARKER_TAIL = /[*_~`\\]+$/;
const OPEN_LINK = /!?\[([^[\]]*)\](\([^()\s]*)?$/;
const OPEN_BRACKET = /!?\[([^[\]]*)$/;
const BARE_BLOCK_MARKER = /(^|\n)[ \t]*(?:[-*+]|\d{1,9}[.)]|#{1,6}|>)$/;

/** Where an open fence starts (its marker), or undefined when the text ends outside code. */
function openFence(lines: readonly string[]): { readonly marker: string } | undefined {
  let open: string | undefined;
  for (const full of lines) {
    const line = full.replace(LINE_PREFIX, '');
    const marker = FENCE.exec(line)?.[1];
    if (marker === undefined) continue;
    if (open === undefined) {
      if (!(marker[0] === '`' && line.slice(marker.length).includes('`'))) open = marker;
    } else if (marker[0] === open[0] && marker.length >= open.length && line.trim() === marker) open = undefined;
  }
  return open === undefined ? undefined : { marker: open };
}

/** `markdown` made safe to render as a prefix of a longer reply; see the module comment. */
export function closeDangling(markdown: string): string {
  const lines = markdown.split('\n');
  const fence = openFence(lines);
  if (fence !== undefined) {
    const last = (lines.at(-1) ?? '').replace(LINE_PREFIX, '');
    const partialCloser = lines.length > 1 && /^[`~]+\s*$/.test(last) && last[0] === fence.marker[0];
    return partialCloser ? lines.slice(0, -1).join('\n') : markdown;
  }
  let text = markdown.trimEnd();
  if (/^(`{3,}|~{3,})$/.test((text.split('\n').at(-1) ?? '').replace(LINE_PREFIX, ''))) return text; // closed fence
  for (let previous = ''; previous !== text; ) {
    previous = text;
    text = text
      .replace(OPEN_LINK, (_, label: string) => label)
      .replace(OPEN_BRACKET, (_, label: string) => label)
      .replace(MARKER_TAIL, '')
      .replace(BARE_BLOCK_MARKER, '$1')
      .trimEnd();
  }
  let paragraphStart = 0;
  for (const blank of text.matchAll(/\n[ \t]*\n/g)) paragraphStart = blank.index;
  return text + closers(text.slice(paragraphStart));
}

const isWordChar = (ch: string | undefined): boolean => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
const isSpace = (ch: string | undefined): boolean => ch === undefined || /\s/u.test(ch);

/** The markers that close every emphasis and code span still open at the end of `paragraph`,
 * innermost first. */
function closers(paragraph: string): string {
  const stack: string[] = [];
  let i = 0;
  while (i < paragraph.length) {
    const ch = paragraph[i] as string;
    if (ch === '\\') {
      i += 2;
      continue;
    }
    const run = /^(`+|\*+|_+|~+)/.exec(paragraph.slice(i))?.[1];
    if (run === undefined) {
      i += 1;
      continue;
    }
    if (ch === '`') {
      const close = findRun(paragraph, run, i + run.length);
      if (close === -1) return run + [...stack].reverse().join('');
      i = close + run.length;
      continue;
    }
    const before = paragraph[i - 1];
    const after = paragraph[i + run.length];
    i += run.length;
    if (ch === '~' && run.length !== 2) continue;
    if (ch === '_' && isWordChar(before) && isWordChar(after)) continue;
    const token = ch === '~' ? '~~' : run.length >= 2 ? ch.repeat(2) : ch;
    const top = stack.at(-1);
    if (top === token && !isSpace(before)) stack.pop();
    else if (!isSpace(after) && run.length <= 3) {
      if (run.length === 3) stack.push(ch, ch.repeat(2));
      else stack.push(token);
    }
  }
  return [...stack].reverse().join('');
}

/** Index of the next run of exactly `run` (backticks) at or after `from`, or -1. */
function findRun(text: string, run: string, from: number): number {
  for (let j = text.indexOf(run, from); j !== -1; j = text.indexOf(run, j + 1)) {
    if (text[j - 1] !== '`' && text[j + run.length] !== '`') return j;
    while (text[j + 1] === '`') j += 1;
  }
  return -1;
}
