/** The fake Bot API's emulation of Telegram's flood limits: off by default; when on, per chat,
 * per group and per bot, answered 429 with retry_after as Telegram does. */
import { Bot, GrammyError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { control } from './child-fakes.js';
import { type FakeTelegram, startFakeTelegram } from './telegram-api.js';
import { createFloodGate } from './telegram-flood.js';

const TOKEN = '4242:flood-token';

describe('flood gate (clock given)', () => {
  it('lets a chat burst 3, then about 1 per second, with retry_after until the next fits', () => {
    const gate = createFloodGate();
    expect([0, 1, 2].map((i) => gate.take(5, i))).toEqual([undefined, undefined, undefined]);
    expect(gate.take(5, 3)).toBe(1);
    expect(gate.take(6, 3)).toBeUndefined(); // another chat has its own budget
    expect(gate.take(5, 1003)).toBeUndefined();
    expect(gate.take(5, 1100)).toBe(1);
    expect(gate.take(5, 2003)).toBeUndefined();
  });

  it('holds a group to 20 per minute even at 1 per second, with the wait in retry_after', () => {
    const gate = createFloodGate();
    for (let i = 0; i < 20; i++) expect(gate.take(-100, i * 1000)).toBeUndefined();
    expect(gate.take(-100, 20_000)).toBe(40); // the first one leaves the window at 60 s
    expect(gate.take(-100, 60_000)).toBeUndefined();
    expect(gate.take(100, 20_000)).toBeUndefined(); // a private chat has no per-minute limit
  });

  it('holds a bot to 30 per second over all its chats', () => {
    const gate = createFloodGate();
    for (let chat = 1; chat <= 30; chat++) expect(gate.take(chat, 500)).toBeUndefined();
    expect(gate.take(31, 600)).toBe(1);
    expect(gate.take(31, 1500)).toBeUndefined();
  });

  it('takes other limits', () => {
    const gate = createFloodGate({ perChatPerSecond: 10, perChatBurst: 1 });
    expect(gate.take(1, 0)).toBeUndefined();
    expect(gate.take(1, 50)).toBe(1);
    expect(gate.take(1, 100)).toBeUndefined();
  });
});

describe('fake Bot API flood emulation', () => {
  let tg: FakeTelegram;
  let bot: Bot;
  beforeEach(async () => {
    tg = await startFakeTelegram();
    tg.addBot(TOKEN);
    bot = new Bot(TOKEN, { client: { apiRoot: tg.apiRoot } });
  });
  afterEach(async () => tg.close());

  const outcomes = (): (number | undefined)[] => tg.calls(TOKEN).map((call) => call.outcome?.status);

  it('refuses nothing when off (the default)', async () => {
    for (let i = 0; i < 10; i++) await bot.api.sendMessage(1, `m${i}`);
    expect(outcomes()).toEqual(Array(10).fill(200));
  });

  it('answers 429 with retry_after past the per-chat burst, counting edits; typing is free', async () => {
    tg.setFlood(true);
    const sent = await bot.api.sendMessage(1, 'one');
    await bot.api.editMessageText(1, sent.message_id, 'one two');
    await bot.api.sendChatAction(1, 'typing');
    await bot.api.sendMessage(1, 'three');
    const error = await bot.api.sendMessage(1, 'four').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect(error).toMatchObject({ error_code: 429, parameters: { retry_after: 1 } });
    expect((error as GrammyError).description).toBe('Too Many Requests: retry after 1');
    expect(tg.sentMessages(TOKEN, 1).map((m) => m.text)).toEqual(['one', 'three']);
    tg.setFlood(false);
    await bot.api.sendMessage(1, 'four');
  });

  it('is turned on and off over the control API, with limits', async () => {
    await control(tg.apiRoot, '/__fake/flood', { on: true, perChatBurst: 1 });
    await bot.api.sendMessage(2, 'a');
    await expect(bot.api.sendMessage(2, 'b')).rejects.toMatchObject({ error_code: 429 });
    await control(tg.apiRoot, '/__fake/flood', { on: false });
    await bot.api.sendMessage(2, 'b');
    await expect(control(tg.apiRoot, '/__fake/flood', { on: 'yes' })).rejects.toThrow(/"on" must be a boolean/);
  });
});
