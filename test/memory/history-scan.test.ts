/**
 * The history tools list a Redis store while the fleet keeps writing: a conversation deleted
 * between the listing's SCAN and its MGET (a /reset meanwhile) is left out, never an error.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HistoryStore, openHistoryStore } from '../../src/memory/history.js';
import { captureLog } from '../support/capture-log.js';
import { deleteRedisNamespace, SHARED_REDIS_URL } from '../support/redis.js';

const turn = (i: number) => ({ user: `u${i}`, assistant: `a${i}`, userAt: i, assistantAt: i + 1 });

describe('history listing on Redis', () => {
  const namespace = `history-scan-${randomUUID().slice(0, 8)}`;
  let history: HistoryStore;
  let raw: ReturnType<typeof createClient>;
  beforeEach(async () => {
    history = await openHistoryStore({ storage: { url: SHARED_REDIS_URL, namespace }, logger: captureLog().logger });
    raw = createClient({ url: SHARED_REDIS_URL });
    await raw.connect();
  });
  afterEach(async () => {
    await raw.close();
    await history.close();
    await deleteRedisNamespace(SHARED_REDIS_URL, namespace);
  });

  it('leaves out conversations deleted while it lists, and lists the rest', async () => {
    for (let round = 0; round < 5; round++) {
      const chats = Array.from({ length: 2000 }, (_, i) => i + 1);
      await Promise.all(chats.map((chat) => history.write({ botId: 'b', chatId: chat }, [turn(chat)], [])));
      const keys = (await history.entries()).map(([key]) => key);
      expect(keys).toHaveLength(chats.length);
      // Delete them all, one by one as fast as another connection can, while listing.
      const deleting = (async () => {
        for (const key of keys) void raw.unlink(key);
        await raw.ping();
      })();
      const listed = await history.conversations();
      await deleting;
      expect(listed.unreadable).toEqual([]);
      expect(listed.conversations.length).toBeLessThanOrEqual(chats.length);
      for (const c of listed.conversations) expect(c.turns).toEqual([turn(c.conversation.chatId)]);
    }
  }, 60_000);
});
