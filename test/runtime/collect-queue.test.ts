/**
 * `queue: collect` over real HTTP: messages a conversation sends while the bot answers it are
 * joined into the next turn (one model call, one reply to the last of them), commands keep
 * their place and end the collecting, the waiting list stays bounded, group messages not meant
 * for the bot are never joined, and a live reload switches the mode for the next message.
 * `queue: sequential` (the default) still answers each one. Counts and order only: the 1 s
 * model and the 100 ms spacing are input, never asserted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ReloaderHandle, startReloader } from '../../src/reload.js';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '7301:collect-token';
const USER = 7310;
const GROUP = -1007311;

describe('queue: collect', () => {
  let h: FleetHarness;
  let reloader: ReloaderHandle | undefined;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => {
    await reloader?.close();
    reloader = undefined;
    await h.close();
  });

  async function startBot(yaml: string): Promise<void> {
    await h.writeConfig([{ id: 'collect', token: TOKEN, yaml }], { storageUrl: 'memory://' });
    await h.start();
  }

  /** Sends `texts` to `chatId` 100 ms apart, the first alone and the others once the model is
   * answering it; returns their update ids. */
  async function burst(texts: readonly string[], chatId = USER, firstName?: string): Promise<number[]> {
    const [first, ...rest] = texts;
    const since = h.openai.nextSeq();
    const send = (text: string) =>
      h.telegram.sendText(TOKEN, { chatId, userId: USER, text, ...(firstName ? { firstName } : {}) });
    const ids = [send(first as string)];
    await h.openai.waitForRequest(() => true, { since });
    for (const text of rest) {
      await delay(100);
      ids.push(send(text));
    }
    return ids;
  }

  const lastUserMessages = (): string[] => h.openai.requests().map((request) => transcript(request.body).at(-1) ?? '');

  it('with a 1 s model, three messages 100 ms apart give two model calls and two replies, the second to the third', async () => {
    await startBot('queue: collect');
    h.openai.setLatency(1000);
    const ids = await burst(['one', 'two', 'three']);
    const sent = await h.telegram.waitForSent(2, { token: TOKEN, timeoutMs: 10_000 });
    // Nothing more comes: a message sent now is the third call, answered on its own.
    h.openai.setLatency(0);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'four' });
    await h.telegram.waitForSent(3, { token: TOKEN });
    expect(lastUserMessages()).toEqual(['user: one', 'user: two\nthree', 'user: four']);
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual([
      'echo: one',
      'echo: two\nthree',
      'echo: four',
    ]);
    expect(sent[1]?.replyToMessageId).toBe(h.telegram.updateTiming(TOKEN, ids[2] as number)?.messageId);
    // The joined turn is stored as one turn the next request carries.
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: one',
      'assistant: echo: one',
      'user: two\nthree',
      'assistant: echo: two\nthree',
      'user: four',
    ]);
  });

  it('with queue: sequential (the default), the same three messages give three calls', async () => {
    await startBot('');
    h.openai.setLatency(1000);
    await burst(['one', 'two', 'three']);
    await h.telegram.waitForSent(3, { token: TOKEN, timeoutMs: 10_000 });
    expect(lastUserMessages()).toEqual(['user: one', 'user: two', 'user: three']);
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual(['echo: one', 'echo: two', 'echo: three']);
  });

  it('never joins a command: /reset keeps its place and ends the collecting before it', async () => {
    await startBot('queue: collect');
    h.openai.setLatency(1000);
    await burst(['one', 'two', 'three', '/reset', 'four', 'five']);
    await h.telegram.waitForSent(4, { token: TOKEN, timeoutMs: 10_000 });
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual([
      'echo: one',
      'echo: two\nthree',
      "Done: I have forgotten our conversation. Let's start again.",
      'echo: four\nfive',
    ]);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual(['user: four\nfive']);
  });

  it('keeps the waiting list bounded: past maxWaitingPerConversation, replies.busy once', async () => {
    await startBot('queue: collect\ntelegram: { maxWaitingPerConversation: 2 }\nreplies: { busy: busy now }');
    h.openai.setLatency(1000);
    await burst(['one', 'two', 'three', 'four', 'five']);
    await h.telegram.waitForSent(3, { token: TOKEN, timeoutMs: 10_000 });
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual([
      'busy now',
      'echo: one',
      'echo: two\nthree',
    ]);
    expect(h.openai.requests()).toHaveLength(2);
  });

  it('in a group joins only the messages addressed to the bot, each with its sender', async () => {
    await startBot('queue: collect');
    h.openai.setLatency(1000);
    await burst(['@collect_bot one', '@collect_bot two', 'chatter among people', '@collect_bot three'], GROUP, 'Ana');
    await h.telegram.waitForSent(2, { token: TOKEN, timeoutMs: 10_000 });
    expect(lastUserMessages()).toEqual(['user: Ana: one', 'user: Ana: two\nAna: three']);
  });

  it('applies a reload from sequential to collect to the next messages', async () => {
    await h.writeConfig([{ id: 'collect', token: TOKEN }], { storageUrl: 'memory://' });
    const { fleet } = await h.start();
    reloader = startReloader({
      file: 'bots.yaml',
      cwd: h.dir,
      env: {},
      fleet,
      logger: h.logger,
      watch: true,
      debounceMs: 50,
    });
    h.openai.setLatency(1000);
    await burst(['a1', 'a2', 'a3']);
    await h.telegram.waitForSent(3, { token: TOKEN, timeoutMs: 10_000 });

    await h.writeConfig([{ id: 'collect', token: TOKEN, yaml: 'queue: collect' }], { storageUrl: 'memory://' });
    await waitFor(() => h.logs().some((line) => line.msg === 'config reloaded'), { what: 'the reload' });
    await burst(['b1', 'b2', 'b3']);
    await h.telegram.waitForSent(5, { token: TOKEN, timeoutMs: 10_000 });
    expect(lastUserMessages()).toEqual(['user: a1', 'user: a2', 'user: a3', 'user: b1', 'user: b2\nb3']);
  });
});
