/**
 * The ReplySinks of `botfleet chat`: piped (the whole reply as plain text and a newline, on
 * stdout) and interactive (the reply redrawn as it streams, Markdown rendered with ANSI
 * styles). Both remember the notices they were given, so the chat can tell a failure.
 */
import type { Notice, ReplySink } from '../answer/reply-sink.js';
import { renderAnsi, renderPlain } from '../format/render.js';

/** A ReplySink that also lists the notices it showed, oldest first. */
export interface TerminalSink extends ReplySink {
  readonly notices: readonly Notice[];
}

/** The piped sink: a reply is written to `write` whole, as plain text plus "\n"; a lost
 * history is told on `writeError` (so stdout holds replies only); other notices only listed. */
export function pipedSink(write: (text: string) => void, writeError: (text: string) => void): TerminalSink {
  const notices: Notice[] = [];
  return {
    notices,
    startTyping: () => () => undefined,
    async deliver(reply) {
      let text = '';
      for await (const delta of reply) text += delta;
      if (text !== '') write(`${renderPlain(text)}\n`);
      return true;
    },
    async notify(notice) {
      notices.push(notice);
      // A failure is told once, with its cause, by the chat as it exits (chat.ts).
      if (notice.kind === 'historyLost') writeError(`botfleet: ${notice.text}\n`);
      return true;
    },
  };
}

/** What the interactive sink draws on. */
export interface Screen {
  write(text: string): void;
  /** The terminal's width in columns. */
  columns(): number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are control characters
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const DIM = (text: string): string => `\x1b[2m${text}\x1b[0m`;

/** The interactive sink: "…" while waiting, then the reply rendered with ANSI styles and
 * redrawn as each delta arrives (a streamed prefix has its open markers closed), a blank line
 * after it; notices in dim text. */
export function ttySink(screen: Screen): TerminalSink {
  const notices: Notice[] = [];
  return {
    notices,
    startTyping() {
      screen.write(DIM('…'));
      let typing = true;
      return () => {
        if (typing) screen.write('\r\x1b[K');
        typing = false;
      };
    },
    async deliver(reply) {
      let text = '';
      let rows = 0;
      for await (const delta of reply) {
        text += delta;
        rows = redraw(screen, rows, renderAnsi(text, { partial: true }));
      }
      if (text !== '') redraw(screen, rows, `${renderAnsi(text)}\n`);
      return true;
    },
    async notify(notice) {
      notices.push(notice);
      screen.write(`${DIM(notice.text)}\n\n`);
      return true;
    },
  };
}

/** Replaces the `rows` rows last drawn with `rendered` (and a newline); returns its rows. */
function redraw(screen: Screen, rows: number, rendered: string): number {
  if (rows > 0) screen.write(`\x1b[${rows}F\x1b[J`);
  screen.write(`${rendered}\n`);
  return rowsOf(rendered, screen.columns());
}

/** How many terminal rows `text` takes at `columns` wide (styles take none). */
export function rowsOf(text: string, columns: number): number {
  const width = Math.max(1, columns);
  return text
    .replace(ANSI, '')
    .split('\n')
    .reduce((sum, line) => sum + Math.max(1, Math.ceil([...line].length / width)), 0);
}
