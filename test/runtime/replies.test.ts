/** What users see: long replies split, commands, non-text messages, typing, topics. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TYPING_DELAY_MS } from '../../src/telegram/delivery.js';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '3001:talk-token';

describe('replies', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'talk', token: TOKEN, yaml: 'greeting: Welcome to the test bot.' }], {
      storageUrl: 'memory://',
    });
  });
  afterEach(async () => h.close());

  it('delivers a 10,000-character reply as several messages under 4096, losing nothing', async () => {
    await h.start();
    const paragraphs = Array.from({ length: 25 }, (_, i) => `Part ${i}: ${'all work and no play '.repeat(19).trim()}.`);
    const long = paragraphs.join('\n\n');
    expect(long.length).toBeGreaterThan(10_000);
    h.openai.setReply(long);
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'tell me a long story' });
    // Streamed when the model is slow to finish: the messages' final texts (after edits) count.
    const shown = (): string[] =>
      h.telegram.sentMessages(TOKEN, 1).map((m) => h.telegram.message(TOKEN, 1, m.messageId)?.text ?? '');
    await waitFor(() => shown().join('\n\n') === long, { timeoutMs: 10_000, what: 'the whole reply' });
    expect(shown().length).toBeGreaterThanOrEqual(3);
    for (const text of shown()) expect(text.length).toBeLessThanOrEqual(4096);
    expect(h.telegram.calls(TOKEN, 'sendMessage').filter((call) => call.outcome?.status !== 200)).toEqual([]);
  });

  it('splits a plain reply over 4096 keeping the indentation after a cut and every emoji whole', async () => {
    await h.writeConfig([{ id: 'talk', token: TOKEN, yaml: 'formatting: plain\nstreaming: off' }], {
      storageUrl: 'memory://',
    });
    await h.start();
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    const indented = `${'a'.repeat(4080)}\n    indented code line`;
    const emoji = `${'b'.repeat(4093)}${family} end`;
    h.openai.enqueueReply(indented, emoji);
    h.telegram.sendText(TOKEN, { chatId: 8, userId: 8, text: 'code please' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: 'emoji please' });
    await h.telegram.waitForSent(4, { token: TOKEN });
    const texts = (chat: number): string[] => h.telegram.sentMessages(TOKEN, chat).map((m) => m.text);
    expect(texts(8)).toEqual(['a'.repeat(4080), '    indented code line']);
    expect(texts(9)).toEqual(['b'.repeat(4093), `${family} end`]);
  });

  it('answers /start with the greeting, /help with the commands, and sets the command menu', async () => {
    await h.start();
    h.telegram.sendText(TOKEN, { chatId: 2, userId: 2, text: '/start' });
    h.telegram.sendText(TOKEN, { chatId: 2, userId: 2, text: '/help' });
    const [greeting, help] = await h.telegram.waitForSent(2, { token: TOKEN });
    expect(greeting?.text).toBe('Welcome to the test bot.');
    expect(help?.text).toContain('/reset: Forget this conversation');
    const menu = h.telegram.calls(TOKEN, 'setMyCommands')[0]?.params.commands as { command: string }[];
    expect(menu.map((c) => c.command)).toEqual(['start', 'help', 'reset', 'new']);
    expect(h.openai.requests()).toHaveLength(0);
  });

  it('answers a non-text message politely without calling the model', async () => {
    await h.start();
    h.telegram.sendUpdate(TOKEN, {
      message: {
        chat: { id: 3, type: 'private' },
        from: { id: 3, is_bot: false, first_name: 'Ann' },
        sticker: { file_id: 'x' },
      },
    } as never);
    const [reply] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(reply?.text).toBe('Sorry, I can only read text messages for now.');
    expect(h.openai.requests()).toHaveLength(0);
  });

  it('sends no "typing…" for a reply faster than TYPING_DELAY_MS, and shows it for a slow one', async () => {
    await h.writeConfig([{ id: 'talk', token: TOKEN, yaml: 'streaming: off' }], { storageUrl: 'memory://' });
    await h.start();
    // Warm up (the first model call loads the SDK), so the next reply is as fast as it gets.
    h.telegram.sendText(TOKEN, { chatId: 4, userId: 4, text: 'warm up' });
    await h.telegram.waitForSent(1, { token: TOKEN });
    const since = h.telegram.nextSeq();
    const postedAt = performance.now();
    h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: 'quick one' });
    const [fast] = await h.telegram.waitForSent(1, { token: TOKEN, chatId: 5 });
    const typingFor = (chat: number) =>
      h.telegram.calls(TOKEN, 'sendChatAction').filter((c) => c.seq >= since && c.params.chat_id === chat);
    // Asserted only when the reply really was fast (a machine busy enough to take longer than
    // the delay rightly shows typing): no timing is asserted, only what a fast reply sends.
    if ((fast?.at ?? Number.POSITIVE_INFINITY) - postedAt < TYPING_DELAY_MS / 2) expect(typingFor(5)).toEqual([]);
    h.openai.setLatency(TYPING_DELAY_MS + 800);
    h.telegram.sendText(TOKEN, { chatId: 6, userId: 6, text: 'slow one' });
    await h.telegram.waitForSent(1, { token: TOKEN, chatId: 6 });
    expect(typingFor(6).length).toBeGreaterThanOrEqual(1);
  });

  it('shows typing while the model works and answers in the same forum topic', async () => {
    await h.start();
    h.openai.setLatency(700);
    h.telegram.sendText(TOKEN, { chatId: -1001234, userId: 9, text: '@talk_bot hi there', topicId: 77 });
    const [reply] = await h.telegram.waitForSent(1, { token: TOKEN });
    const typing = h.telegram.calls(TOKEN, 'sendChatAction');
    expect(typing.length).toBeGreaterThanOrEqual(2);
    expect(typing[0]?.params).toMatchObject({ chat_id: -1001234, action: 'typing', message_thread_id: 77 });
    expect(reply?.threadId).toBe(77);
    expect(transcript(h.openai.lastRequest()?.body).at(-1)).toBe('user: User 9: hi there');
  });
});
