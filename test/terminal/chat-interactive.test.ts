/**
 * The interactive `botfleet chat` in-process, its terminal played by streams: the reply drawn
 * with ANSI styles (no Markdown markers), /reset, Ctrl-C cancelling a reply in flight without
 * storing it, and a second Ctrl-C leaving. Plus the row count the redraw relies on.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { openHistoryStore } from '../../src/memory/history.js';
import { runChat } from '../../src/terminal/chat.js';
import { rowsOf, ttySink } from '../../src/terminal/sink.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

describe('botfleet chat, interactive', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'tty', token: '8501:tty-token' }]);
  });
  afterEach(async () => {
    await h.close();
  });

  it('streams a styled reply, resets, cancels a reply on Ctrl-C and exits on the second', async () => {
    const fleet = await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} });
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    const logger = createLogger({ level: 'silent' });
    const exited = runChat(fleet, 'tty', {
      input,
      output,
      write: (text) => output.write(text),
      writeError: (text) => output.write(text),
      interactive: true,
      columns: () => 80,
      logger,
    });
    await waitFor(() => screen.includes('you> '), { what: 'the prompt' });

    h.openai.enqueueReply('**bold** and `code`');
    input.write('hello\r');
    await waitFor(() => screen.includes('\x1b[1mbold\x1b[0m and \x1b[36mcode\x1b[0m'), { what: 'the styled reply' });
    expect(screen).not.toContain('**');

    input.write('/reset\r');
    await waitFor(() => screen.includes('(conversation forgotten)'), { what: 'the reset' });

    h.openai.failNext({ kind: 'hang' });
    const before = h.openai.requests().length;
    input.write('slow one\r');
    await waitFor(() => h.openai.requests().length > before, { what: 'the model request' });
    input.write('\x03');
    await waitFor(() => screen.includes('(cancelled; nothing stored)'), { what: 'the cancel' });
    input.write('\x03');
    expect(await exited).toBe(0);

    const history = await openHistoryStore({ storage: fleet.storage, logger });
    try {
      const { conversations } = await history.conversations();
      expect(conversations.map((c) => [c.conversation, c.turns.length])).toEqual([]);
    } finally {
      await history.close();
    }
    expect(h.telegram.calls()).toEqual([]);
  });

  it('redraws a streamed reply in place, with no dangling Markdown marker on screen', async () => {
    const writes: string[] = [];
    const sink = ttySink({ write: (text) => writes.push(text), columns: () => 80 });
    async function* deltas() {
      yield '**bo';
      yield 'ld** and\n\n- one';
      yield '\n- two';
    }
    expect(await sink.deliver(deltas())).toBe(true);
    expect(writes[0]).toBe('\x1b[1mbo\x1b[0m\n');
    expect(writes[1]).toBe('\x1b[1F\x1b[J');
    expect(writes.at(-2)).toBe('\x1b[4F\x1b[J');
    expect(writes.at(-1)).toBe('\x1b[1mbold\x1b[0m and\n\n• one\n• two\n\n');
    expect(writes.join('')).not.toContain('**');
  });

  it('counts the rows a rendered reply takes, styles excluded, wrapped lines included', () => {
    expect(rowsOf('\x1b[1mbold\x1b[0m', 80)).toBe(1);
    expect(rowsOf('a\n\nb', 80)).toBe(3);
    expect(rowsOf('x'.repeat(81), 80)).toBe(2);
  });
});
