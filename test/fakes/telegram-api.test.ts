import { run } from '@grammyjs/runner';
import { Bot, GrammyError, HttpError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { CONFLICT_POLL, type FakeTelegram, startFakeTelegram } from './telegram-api.js';

const TOKEN = '123456:test-token';
const OTHER = '777:other-token';

let tg: FakeTelegram;
let bot: Bot;

beforeEach(async () => {
  tg = await startFakeTelegram();
  tg.addBot(TOKEN, { username: 'fleet_test_bot', firstName: 'Fleet' });
  bot = new Bot(TOKEN, { client: { apiRoot: tg.apiRoot } });
});

afterEach(async () => {
  await tg.close();
});

async function grammyError(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

describe('fake Bot API with the real grammY client', () => {
  it('answers getMe and sendMessage and records both with timestamps', async () => {
    await bot.init();
    expect(bot.botInfo).toMatchObject({ id: 123456, is_bot: true, username: 'fleet_test_bot', first_name: 'Fleet' });
    const first = await bot.api.sendMessage(42, 'hello', { parse_mode: 'HTML' });
    const second = await bot.api.sendMessage(42, 'again');
    const elsewhere = await bot.api.sendMessage(43, 'other chat');
    expect(first).toMatchObject({
      message_id: 1,
      chat: { id: 42, type: 'private' },
      from: { id: 123456, is_bot: true },
      text: 'hello',
    });
    expect([second.message_id, elsewhere.message_id]).toEqual([2, 1]);
    const [call] = tg.calls(TOKEN, 'sendMessage');
    expect(call).toMatchObject({
      token: TOKEN,
      botId: 123456,
      params: { chat_id: 42, text: 'hello', parse_mode: 'HTML' },
    });
    expect(call?.at).toBeGreaterThan(0);
    expect(Math.abs((call?.wallAt ?? 0) - Date.now())).toBeLessThan(5000);
    expect(call?.outcome?.status).toBe(200);
    expect(tg.sentMessages(TOKEN, 42).map((m) => m.text)).toEqual(['hello', 'again']);
  });

  it('answers 401 for unknown tokens and 404 for unknown methods', async () => {
    const stranger = new Bot('999:nobody', { client: { apiRoot: tg.apiRoot } });
    expect((await grammyError(stranger.api.getMe())).error_code).toBe(401);
    const raw = bot.api.raw as unknown as Record<string, (() => Promise<unknown>) | undefined>;
    const notFound = await grammyError(Promise.resolve(raw.noSuchMethod?.()));
    expect([notFound.error_code, notFound.description]).toEqual([404, 'Not Found']);
  });

  it('holds getUpdates until an update arrives, then hands it out', async () => {
    const started = Date.now();
    const poll = bot.api.getUpdates({ offset: 0, timeout: 10 });
    await waitFor(() => tg.isPolling(TOKEN), { what: 'the long poll to be held' });
    const updateId = tg.sendText(TOKEN, { chatId: 5, userId: 5, text: '/start@fleet_test_bot hi', username: 'alice' });
    const updates = await poll;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      update_id: updateId,
      message: {
        message_id: 1,
        from: { id: 5, is_bot: false, username: 'alice' },
        chat: { id: 5, type: 'private' },
        text: '/start@fleet_test_bot hi',
      },
    });
    expect(updates[0]?.message?.entities).toEqual([{ type: 'bot_command', offset: 0, length: 21 }]);
    expect(tg.deliveredAt(TOKEN, updateId)).toBeGreaterThan(0);
  });

  it('answers an empty list when the long-poll timeout passes and releases aborted polls', async () => {
    expect(await bot.api.getUpdates({ timeout: 1 })).toEqual([]);
    const controller = new AbortController();
    // grammY types its signal as the abort-controller package's; the global one works at runtime.
    const signal = controller.signal as unknown as Parameters<Bot['api']['getUpdates']>[1];
    const poll = bot.api.getUpdates({ timeout: 30 }, signal).catch((e: unknown) => e); // the abort error is the result under test
    await waitFor(() => tg.isPolling(TOKEN), { what: 'the long poll to be held' });
    controller.abort();
    expect(await poll).toBeInstanceOf(HttpError);
    await waitFor(() => !tg.isPolling(TOKEN), { what: 'the aborted poll to be released' });
  });

  it('honours offset and limit: confirmed updates are gone, unconfirmed ones come back', async () => {
    const ids = [1, 2, 3].map((n) => tg.sendText(TOKEN, { chatId: 9, userId: 9, text: `m${n}` })) as [
      number,
      number,
      number,
    ];
    expect((await bot.api.getUpdates({ limit: 2 })).map((u) => u.update_id)).toEqual(ids.slice(0, 2));
    expect((await bot.api.getUpdates({ offset: ids[1] })).map((u) => u.update_id)).toEqual(ids.slice(1));
    expect(tg.updateTiming(TOKEN, ids[0])?.confirmedAt).toBeGreaterThan(0);
    expect((await bot.api.getUpdates({})).map((u) => u.update_id)).toEqual(ids.slice(1));
    expect(tg.updateTiming(TOKEN, ids[1])?.deliveries).toBe(3);
    expect(await bot.api.getUpdates({ offset: ids[2] + 1 })).toEqual([]);
    expect(tg.pendingUpdates(TOKEN)).toBe(0);
  });

  it('rejects texts over 4096 UTF-16 code units with Telegram wording', async () => {
    await expect(bot.api.sendMessage(1, 'x'.repeat(4096))).resolves.toMatchObject({ message_id: 1 });
    const tooLong = await grammyError(bot.api.sendMessage(1, 'x'.repeat(4097)));
    expect([tooLong.error_code, tooLong.description]).toEqual([400, 'Bad Request: message is too long']);
    expect((await grammyError(bot.api.sendMessage(1, '😀'.repeat(2049)))).description).toBe(
      'Bad Request: message is too long',
    );
    expect((await grammyError(bot.api.sendMessage(1, '  '))).description).toBe('Bad Request: message text is empty');
    expect(tg.sentMessages(TOKEN)).toHaveLength(1);
  });

  it('injects 429 with retry_after, visible to grammY, then recovers', async () => {
    tg.failNext(TOKEN, 'sendMessage', { status: 429, retryAfter: 7 });
    const limited = await grammyError(bot.api.sendMessage(1, 'hi'));
    expect([limited.error_code, limited.description, limited.parameters.retry_after]).toEqual([
      429,
      'Too Many Requests: retry after 7',
      7,
    ]);
    expect(tg.calls(TOKEN, 'sendMessage')[0]?.outcome?.injected).toBe(true);
    await expect(bot.api.sendMessage(1, 'hi')).resolves.toMatchObject({ text: 'hi' });
  });

  it('injects 5xx, dropped connections and a permanent 401', async () => {
    tg.failNext(TOKEN, '*', { status: 502, times: 2 });
    expect((await grammyError(bot.api.getMe())).error_code).toBe(502);
    expect((await grammyError(bot.api.sendChatAction(1, 'typing'))).description).toBe('Bad Gateway');
    tg.failNext(TOKEN, 'getMe', { status: 0, dropConnection: true });
    await expect(bot.api.getMe()).rejects.toBeInstanceOf(HttpError);
    tg.failNext(TOKEN, 'getMe', { status: 401, permanent: true });
    expect((await grammyError(bot.api.getMe())).description).toBe('Unauthorized');
    expect((await grammyError(bot.api.sendMessage(1, 'still revoked?'))).error_code).toBe(401);
  });

  it('ends a storm with clearFailures and forces updates past allowed_updates', async () => {
    tg.failNext(TOKEN, '*', { status: 409, times: Infinity });
    tg.failNext('*', 'getMe', { status: 502, times: Infinity });
    expect((await grammyError(bot.api.getMe())).error_code).toBe(409);
    tg.clearFailures(TOKEN);
    expect((await grammyError(bot.api.getMe())).error_code).toBe(502);
    tg.clearFailures();
    await expect(bot.api.getMe()).resolves.toMatchObject({ id: 123456 });

    await bot.api.getUpdates({ allowed_updates: ['message'], timeout: 0 });
    const date = Math.floor(Date.now() / 1000);
    const post = { message_id: 1, date, chat: { id: -100, type: 'channel' as const, title: 'C' }, text: 'p' };
    const skipped = tg.sendUpdate(TOKEN, { channel_post: post });
    const forced = tg.sendUpdate(TOKEN, { channel_post: post }, { force: true });
    expect(tg.updateTiming(TOKEN, skipped)?.dropped).toBe(true);
    expect((await bot.api.getUpdates({ timeout: 0 })).map((u) => u.update_id)).toEqual([forced]);
  });

  it('answers the older of two concurrent long polls with 409 Conflict', async () => {
    const older = bot.api.getUpdates({ timeout: 30 });
    await waitFor(() => tg.isPolling(TOKEN), { what: 'the first poll to be held' });
    const newer = bot.api.getUpdates({ timeout: 30 });
    const conflict = await grammyError(older);
    expect([conflict.error_code, conflict.description]).toEqual([409, CONFLICT_POLL]);
    tg.sendText(TOKEN, { chatId: 1, userId: 1, text: 'for the newer poll' });
    expect(await newer).toHaveLength(1);
  });

  it('answers 403 for blocked users and validates edits, deletes and HTML', async () => {
    tg.blockUser(TOKEN, 66);
    const blocked = await grammyError(bot.api.sendMessage(66, 'hi'));
    expect([blocked.error_code, blocked.description]).toEqual([403, 'Forbidden: bot was blocked by the user']);
    const sent = await bot.api.sendMessage(1, '<b>bold</b> &amp; <a href="https://x.y">link</a>', {
      parse_mode: 'HTML',
    });
    expect(sent.text).toBe('bold & link');
    expect(sent.entities).toEqual([
      { type: 'bold', offset: 0, length: 4 },
      { type: 'text_link', offset: 7, length: 4, url: 'https://x.y' },
    ]);
    expect((await grammyError(bot.api.sendMessage(1, '<p>x</p>', { parse_mode: 'HTML' }))).description).toMatch(
      /^Bad Request: can't parse entities: Unsupported start tag "p"/,
    );
    expect((await grammyError(bot.api.sendMessage(1, 'end.', { parse_mode: 'MarkdownV2' }))).description).toMatch(
      /Character '\.' is reserved/,
    );
    await bot.api.editMessageText(1, sent.message_id, 'edited');
    expect(tg.message(TOKEN, 1, sent.message_id)?.text).toBe('edited');
    expect((await grammyError(bot.api.editMessageText(1, sent.message_id, 'edited'))).description).toMatch(
      /^Bad Request: message is not modified/,
    );
    await expect(bot.api.deleteMessage(1, sent.message_id)).resolves.toBe(true);
    expect((await grammyError(bot.api.deleteMessage(1, sent.message_id))).description).toBe(
      'Bad Request: message to delete not found',
    );
    await expect(bot.api.setMyCommands([{ command: 'reset', description: 'Forget the chat' }])).resolves.toBe(true);
    expect(await bot.api.getMyCommands()).toEqual([{ command: 'reset', description: 'Forget the chat' }]);
    expect((await grammyError(bot.api.setMyCommands([{ command: 'Bad-Name', description: 'x' }]))).description).toBe(
      'Bad Request: BOT_COMMAND_INVALID',
    );
  });

  it('serves the real runner: topic messages, commands, mentions and replies to the bot', async () => {
    tg.addBot(OTHER);
    bot.command('start', (ctx) => ctx.reply(`started ${ctx.match}`));
    bot.on('message:text', (ctx) => {
      const mentioned = ctx.entities('mention').some((e) => e.text === `@${ctx.me.username}`);
      const replyToMe = ctx.msg.reply_to_message?.from?.id === ctx.me.id;
      return ctx.reply(`got "${ctx.msg.text}" mention=${mentioned} reply=${replyToMe}`, {
        reply_parameters: { message_id: ctx.msg.message_id },
      });
    });
    await bot.init();
    await bot.api.deleteWebhook();
    const handle = run(bot, { runner: { fetch: { timeout: 30, allowed_updates: ['message'] }, silent: true } });
    try {
      tg.sendText(TOKEN, { chatId: 7, userId: 7, text: '/start now' });
      tg.sendText(TOKEN, { chatId: -1001, userId: 8, text: 'hey @fleet_test_bot', topicId: 5 });
      const [start, topic] = await tg.waitForSent(2, { token: TOKEN });
      expect(start).toMatchObject({ chatId: 7, text: 'started now' });
      expect(topic).toMatchObject({
        chatId: -1001,
        text: 'got "hey @fleet_test_bot" mention=true reply=false',
        threadId: 5,
      });
      expect(tg.message(TOKEN, -1001, topic?.replyToMessageId ?? 0)).toMatchObject({
        chat: { type: 'supergroup', is_forum: true },
        message_thread_id: 5,
        is_topic_message: true,
        reply_to_message: { message_id: 5, forum_topic_created: { name: 'Topic 5' } },
      });
      tg.sendText(TOKEN, { chatId: -1001, userId: 8, text: 'and this?', topicId: 5, replyToBotMessage: true });
      const replies = await tg.waitForSent(3, { token: TOKEN });
      expect(replies[2]?.text).toBe('got "and this?" mention=false reply=true');
      expect(tg.calls(TOKEN, 'getUpdates')[0]?.params).toMatchObject({ allowed_updates: ['message'], timeout: 30 });
      expect(tg.calls(OTHER)).toEqual([]);
    } finally {
      await handle.stop();
    }
    await waitFor(() => !tg.isPolling(TOKEN), { what: 'runner.stop() to release the long poll' });
  });

  it('stops the runner with an injected 409, delays answers and marks supergroup reply threads', async () => {
    await bot.init();
    tg.failNext(TOKEN, 'getUpdates', { status: 409 });
    const handle = run(bot, { runner: { silent: true } });
    const failed = await (handle.task() ?? Promise.resolve()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toMatchObject({ error_code: 409, description: CONFLICT_POLL });
    await handle.stop();

    tg.setDelay('sendChatAction', 100, TOKEN);
    const started = performance.now();
    const pending = bot.api.sendChatAction(-1002, 'typing', { message_thread_id: 3 });
    const call = await tg.waitForCall((c) => c.method === 'sendChatAction', { timeoutMs: 1000 });
    expect(call.outcome).toBeUndefined(); // recorded on arrival, answered after the delay
    await pending;
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(call.outcome?.status).toBe(200);

    const sent = await bot.api.sendMessage(-1002, 'bot says');
    tg.sendText(TOKEN, { chatId: -1002, userId: 4, text: 'replying', replyToBotMessage: true });
    const [update] = await bot.api.getUpdates({});
    expect(update?.message).toMatchObject({
      chat: { type: 'supergroup' },
      message_thread_id: sent.message_id,
      reply_to_message: { message_id: sent.message_id },
    });
    expect(update?.message?.is_topic_message).toBeUndefined();
    await expect(bot.api.sendMessageDraft(4, 1, 'thinking…')).resolves.toBe(true);
  });

  it('lets another process drive it over the /__fake/ control API', async () => {
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${tg.apiRoot}/__fake/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(await (await post('bots', { token: OTHER })).json()).toEqual({ id: 777 });
    const cursor = tg.nextSeq();
    const polled = fetch(`${tg.apiRoot}/__fake/calls?since=${cursor}&wait=3000&method=sendMessage`).then((r) =>
      r.json(),
    );
    const { update_id } = (await (
      await post('sendText', { token: OTHER, chatId: 3, userId: 3, text: 'ping' })
    ).json()) as { update_id: number };
    const other = new Bot(OTHER, { client: { apiRoot: tg.apiRoot } });
    const [update] = await other.api.getUpdates({ timeout: 5 });
    expect(update?.update_id).toBe(update_id);
    await other.api.sendMessage(3, 'pong', { reply_parameters: { message_id: update?.message?.message_id ?? 0 } });
    const { calls, next } = (await polled) as { calls: Array<{ params: { text: string } }>; next: number };
    expect(calls.map((c) => c.params.text)).toEqual(['pong']);
    expect(next).toBeGreaterThan(cursor);
    const timings = (await (await fetch(`${tg.apiRoot}/__fake/timings?token=${OTHER}`)).json()) as {
      timings: Array<{ deliveredAt: number }>;
    };
    expect(timings.timings[0]?.deliveredAt).toBeGreaterThan(0);
    expect((await post('sendText', { token: 'nope' })).status).toBe(400);
  });
});
