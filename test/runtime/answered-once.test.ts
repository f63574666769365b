/**
 * "Answered at most once" for every kind of answer, held by the store alone: after a restart,
 * Telegram redelivers the last unconfirmed batch (same update ids) and nothing is answered
 * again; a replayed /reset wipes nothing stored after it. Refusals go once per user per bot,
 * remembered across restarts. Run on SQLite and on the real Redis.
 */
import type { Update } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '7001:once-token';
const USER = 7100;
const GROUP = -1007777;

/** The update as the fake delivered it (from the recorded getUpdates answers). */
function delivered(h: FleetHarness, updateId: number): Update {
  for (const call of h.telegram.calls(TOKEN, 'getUpdates')) {
    const result = (call.outcome?.response as { result?: Update[] } | undefined)?.result ?? [];
    const update = result.find((u) => u.update_id === updateId);
    if (update !== undefined) return update;
  }
  throw new Error(`update ${updateId} was never delivered`);
}

describe.each([
  ['SQLite', 'sqlite://data/botfleet.sqlite'],
  ['Redis', 'redis://127.0.0.1:6379/0'],
])('answered at most once on %s', (_name, storageUrl) => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('answers no command, apology or text again when a restart redelivers them, and a replayed /reset wipes nothing', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN, yaml: 'greeting: Hi there.' }], { storageUrl });
    const first = await h.start();
    const ids = [
      h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: '/start' }),
      h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: '/help' }),
      h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: '/nonsense' }),
      h.telegram.sendUpdate(TOKEN, {
        message: {
          message_id: 900,
          date: 0,
          chat: { id: USER, type: 'private', first_name: 'U' },
          from: { id: USER, is_bot: false, first_name: 'U' },
          sticker: { file_id: 'x' },
        },
      } as never),
      h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'before reset' }),
      h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: '/reset' }),
      h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'after reset' }),
    ];
    await h.telegram.waitForSent(ids.length, { token: TOKEN });
    const replays = ids.map((id) => delivered(h, id));
    await first.fleet.stop(2000);

    await h.start();
    for (const update of replays) h.telegram.sendUpdate(TOKEN, update);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'final' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: final'), { what: 'echo: final' });
    const texts = h.telegram.sentMessages(TOKEN, USER).map((m) => m.text.split('\n')[0]);
    expect(texts).toEqual([
      'Hi there.',
      'Send me a message and I will answer.',
      "I don't know that command.",
      'Sorry, I can only read text messages for now.',
      'echo: before reset',
      "Done: I have forgotten our conversation. Let's start again.",
      'echo: after reset',
      'echo: final',
    ]);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: after reset',
      'assistant: echo: after reset',
      'user: final',
    ]);
    // Each was skipped: by the handler (a redelivery), or before it, when the journal replay left
    // out what the store marks answered (then Telegram's offset is past them too).
    const skipped = h.logs().filter((line) => line.msg.includes('already answered')).length;
    const notReplayed = h
      .logs()
      .filter((line) => line.msg.startsWith('journaled updates answered before'))
      .reduce((sum, line) => sum + Number(line.answered ?? 0), 0);
    expect(skipped + notReplayed).toBe(ids.length);
  });

  it('records the apology as the answer: a model error redelivered after a restart gets nothing more', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN }], { storageUrl });
    const first = await h.start();
    h.openai.failNext({ status: 500 });
    const failed = h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'q' });
    await h.telegram.waitForSent(1, { token: TOKEN });
    const replay = delivered(h, failed);
    await first.fleet.stop(2000);

    await h.start();
    h.telegram.sendUpdate(TOKEN, replay);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'final' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: final'), { what: 'echo: final' });
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual([
      'Sorry, I could not get an answer right now. Please try again in a moment.',
      'echo: final',
    ]);
  });

  it('records a reply the model cut off mid-stream as the answer: a redelivery gets nothing more', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN, yaml: 'telegram: { firstMessageDelayMs: 0 }' }], { storageUrl });
    const first = await h.start();
    h.openai.failNext({ kind: 'stream-error', partialContent: 'The first half' });
    const cut = h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'q' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    await waitFor(() => h.telegram.message(TOKEN, USER, sent?.messageId ?? 0)?.text?.includes('cut off') === true, {
      what: 'the cut-off note',
    });
    const replay = delivered(h, cut);
    await first.fleet.stop(2000);

    await h.start();
    h.telegram.sendUpdate(TOKEN, replay);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'final' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: final'), { what: 'echo: final' });
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual(['The first half', 'echo: final']);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual(['user: final']);
  });

  it('never sends a reply again that did not go out whole (part 1 may have): a redelivery gets nothing', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN }], { storageUrl });
    const first = await h.start();
    h.telegram.failNext(TOKEN, 'sendMessage', { status: 400, description: 'Bad Request: message is too long' });
    const cut = h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'cut off' });
    await waitFor(() => h.logs().some((l) => l.msg === 'could not send a message'), { what: 'the failed send' });
    const replay = delivered(h, cut);
    await first.fleet.stop(2000);

    await h.start();
    h.telegram.sendUpdate(TOKEN, replay);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'final' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: final'), { what: 'echo: final' });
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual(['echo: final']);
  });

  it('records replies.busy as the answer: that message, redelivered after a restart, is not read after all', async () => {
    const yaml = 'telegram: { maxWaitingPerConversation: 1 }\nreplies: { busy: busy now }';
    await h.writeConfig([{ id: 'once', token: TOKEN, yaml }], { storageUrl, provider: 'timeoutMs: 1000' });
    const first = await h.start();
    h.openai.failNext({ kind: 'hang' });
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'one' });
    await h.openai.waitForRequest();
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'two' });
    const unread = h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'three' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: two'), { what: 'echo: two' });
    const replay = delivered(h, unread);
    await first.fleet.stop(2000);

    await h.start();
    h.telegram.sendUpdate(TOKEN, replay);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'final' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: final'), { what: 'echo: final' });
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual([
      'busy now',
      'Sorry, I could not get an answer right now. Please try again in a moment.',
      'echo: two',
      'echo: final',
    ]);
  });

  it('refuses a user outside access once, remembers it across a restart, and ignores them after', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN, yaml: 'access: { users: [10] }\ngroups: { reply: always }' }], {
      storageUrl,
    });
    const first = await h.start();
    const refused = h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 11, text: 'let me in' });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 11, text: 'please?' });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 10, text: 'hi from 10' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    const replay = delivered(h, refused);
    await first.fleet.stop(2000);

    await h.start();
    h.telegram.sendUpdate(TOKEN, replay);
    h.telegram.sendText(TOKEN, { chatId: 11, userId: 11, text: 'privately then' });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 11, text: 'still me' });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 10, text: 'hi again' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: User 10: hi again'), {
      what: 'echo: User 10: hi again',
    });
    // The refusal runs at once, beside the group's conversation: their order is not fixed.
    expect(
      h.telegram
        .sentMessages(TOKEN)
        .map((m) => m.text)
        .sort(),
    ).toEqual([
      'Sorry, this bot is private. Your Telegram user id is 11.',
      'echo: User 10: hi again',
      'echo: User 10: hi from 10',
    ]);
    // The private chat is another conversation: wait for its "ignored" log line.
    await waitFor(() => h.logs().some((line) => line.msg.includes('already refused') && line.chat === 11), {
      what: 'the private message to be ignored',
    });
    expect(h.telegram.sentMessages(TOKEN, 11)).toEqual([]);
    expect(h.openai.requests()).toHaveLength(2);
  });
});
