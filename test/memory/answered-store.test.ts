/**
 * What the store remembers besides turns, on a real SQLite file and the real Redis: which
 * updates were answered (across /reset, trimming and reopening), refusals per bot and user,
 * and an unreadable value reported as lost with `bot` and `chat` in the log line.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import type { ConversationKey } from '../../src/memory/keys.js';
import { type ConversationStoreHandle, openConversationStore } from '../../src/memory/open-store.js';
import type { Turn } from '../../src/memory/value-format.js';
import { captureLog, LEVEL } from '../support/capture-log.js';
import { deleteRedisNamespace, SHARED_REDIS_URL } from '../support/redis.js';

const CHAT: ConversationKey = { botId: 'helper', chatId: 4242 };
const turn = (updateId: number): Turn => ({
  user: `u${updateId}`,
  assistant: `a${updateId}`,
  userAt: 1,
  assistantAt: 2,
  updateId,
});

describe.each([
  ['SQLite', (dir: string) => `sqlite://${join(dir, 'botfleet.sqlite')}`],
  ['Redis', () => SHARED_REDIS_URL],
])('answered updates and refusals on %s', (_name, urlFor) => {
  let dir: string;
  let url: string;
  let namespace: string;
  let store: ConversationStoreHandle;
  let log: ReturnType<typeof captureLog>;
  const open = (logger: Logger) => openConversationStore({ storage: { url, namespace }, logger });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-answered-'));
    url = urlFor(dir);
    namespace = `bfans-${randomUUID().slice(0, 8)}`;
    log = captureLog();
    store = await open(log.logger);
  });
  afterEach(async () => {
    await store.close();
    if (url.startsWith('redis')) await deleteRedisNamespace(url, namespace);
    await rm(dir, { recursive: true, force: true });
  });

  it('remembers answered updates across trimming, /reset and reopening', async () => {
    await store.markAnswered(CHAT, 1);
    for (const id of [2, 3, 4]) await store.append(CHAT, turn(id), { maxTurns: 2 });
    await store.reset(CHAT, 5);
    await store.append(CHAT, turn(6), { maxTurns: 2 });
    await store.close();
    store = await open(log.logger);
    const state = await store.read(CHAT);
    expect(state.turns).toEqual([turn(6)]);
    expect([...state.answered].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    // Replays change nothing: not stored again, not wiped.
    await store.append(CHAT, { ...turn(3), assistant: 'again' }, { maxTurns: 2 });
    await store.markAnswered(CHAT, 6);
    expect((await store.read(CHAT)).turns).toEqual([turn(6)]);
    expect((await store.read({ ...CHAT, topicId: 1 })).answered).toEqual([]);
  });

  it('claims a refusal once per bot and user, across reopening', async () => {
    expect(await store.claimRefusal('helper', 11, 100)).toBe(true);
    expect(await store.claimRefusal('helper', 11, 101)).toBe(false);
    expect(await store.claimRefusal('chef', 11, 102)).toBe(true);
    await store.close();
    store = await open(log.logger);
    expect(await store.claimRefusal('helper', 11, 103)).toBe(false);
    expect(await store.claimRefusal('helper', 12, 104)).toBe(true);
  });

  it('reports an unreadable value as lost, logging it with the bot and chat', async () => {
    await store.append(CHAT, turn(1), { maxTurns: 5 });
    await store.close();
    // Another writer (or a bug) leaves a cut-off value behind.
    const key = `${namespace}:helper:4242`;
    if (url.startsWith('redis')) {
      const { createClient } = await import('@keyv/redis');
      const client = createClient({ url });
      await client.connect();
      await client.set(key, '{"v":1,"turns":[{"user":"cut');
      await client.close();
    } else {
      const { KeyvSqlite } = await import('@keyv/sqlite');
      const db = new KeyvSqlite({ uri: url });
      await db.query('UPDATE keyv SET value = ? WHERE key = ?', '{"v":1,"turns":[{"user":"cut', key);
      await db.disconnect();
    }
    store = await open(log.logger);
    const state = await store.read(CHAT);
    expect(state.turns).toEqual([]);
    expect(state.lost?.corruptKey).toMatch(new RegExp(`^${key}:corrupt:\\d+$`));
    expect((await store.read(CHAT)).lost).toBeUndefined();
    const error = log.lines().find((line) => line.level === LEVEL.error);
    expect(error).toMatchObject({ bot: 'helper', chat: 4242, key });
  });
});
