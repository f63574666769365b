/**
 * The seed's design, written plainly, as the benchmark's baseline. Not part of botfleet.
 *
 * - one grammY `Bot` per token, started with `bot.start()`: long polling with sequential
 *   handling (one update at a time per bot, across all of its chats);
 * - per chat, the whole history is one JSON blob in the store (Keyv on the same SQLite or
 *   Redis backend, default settings), trimmed to MAX_TURNS turns, never by tokens;
 * - every request sends the system prompt, the whole stored history and the new message.
 *
 *   node seed-bot.js CONFIG.json     (see BaselineConfig in ../lib/sut.ts)
 *
 * SIGTERM stops every bot and closes the store.
 */
import { readFileSync } from 'node:fs';
import KeyvRedis from '@keyv/redis';
import { KeyvSqlite } from '@keyv/sqlite';
import { Bot } from 'grammy';
import { Keyv } from 'keyv';
import { OpenAI } from 'openai';
import type { BaselineConfig } from '../lib/sut.js';

interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

const config = JSON.parse(readFileSync(process.argv[2] ?? 'baseline.json', 'utf8')) as BaselineConfig;
const MAX_TURNS = config.maxTurns;

const store = config.storageUrl.startsWith('sqlite://')
  ? new Keyv<HistoryMessage[]>({ store: new KeyvSqlite(config.storageUrl), namespace: config.namespace })
  : new Keyv<HistoryMessage[]>({ store: new KeyvRedis(config.storageUrl), namespace: config.namespace });
store.on('error', (error: unknown) => console.error('storage error', error));
const openai = new OpenAI({ apiKey: config.apiKey, baseURL: config.baseUrl });

const bots = config.tokens.map((token) => {
  const bot = new Bot(token, { client: { apiRoot: config.apiRoot } });
  bot.on('message:text', async (ctx) => {
    const key = `history:${ctx.chat.id}:${ctx.me.id}`;
    void ctx.replyWithChatAction('typing').catch(() => undefined);
    const history = (await store.get(key)) ?? [];
    history.push({ role: 'user', content: ctx.message.text });
    const completion = await openai.chat.completions.create({
      model: config.model,
      messages: [{ role: 'system', content: config.systemPrompt }, ...history],
    });
    const reply = completion.choices[0]?.message.content ?? '';
    history.push({ role: 'assistant', content: reply });
    await ctx.reply(reply);
    await store.set(key, history.slice(-MAX_TURNS * 2));
  });
  bot.catch((error) => console.error(`bot ${token.split(':')[0]}: ${String(error.error)}`));
  void bot.start({ allowed_updates: ['message'] });
  return bot;
});

process.once('SIGTERM', () => {
  void Promise.all(bots.map((bot) => bot.stop()))
    .then(() => store.disconnect())
    .finally(() => process.exit(0));
});
