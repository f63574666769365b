/**
 * `botfleet history` in-process on real stores (SQLite file, the shared Redis under its own
 * namespace, memory://): export → import into an empty store → export is the same text; an
 * invalid line changes nothing; forget leaves no trace of the user and spares the others.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { type HistoryStore, openHistoryStore, parseStorageKey } from '../../src/memory/history.js';
import type { ConversationKey } from '../../src/memory/keys.js';
import { type HistoryCommand, runHistoryOn } from '../../src/terminal/history.js';
import { deleteRedisNamespace, SHARED_REDIS_URL } from '../support/redis.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
const redisNamespaces: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'botfleet-history-'));
});
afterAll(async () => {
  for (const namespace of redisNamespaces) await deleteRedisNamespace(SHARED_REDIS_URL, namespace);
  await rm(dir, { recursive: true, force: true });
});

type Backend = 'sqlite' | 'redis' | 'memory';

/** A fresh, empty store of `backend` (its own file, namespace or Map). */
async function freshStore(backend: Backend, map = new Map<string, unknown>()): Promise<HistoryStore> {
  const namespace = `hist-${randomUUID().slice(0, 8)}`;
  if (backend === 'redis') redisNamespaces.push(namespace);
  const url = { sqlite: `sqlite://${join(dir, `${namespace}.sqlite`)}`, redis: SHARED_REDIS_URL, memory: 'memory://' }[
    backend
  ];
  return openHistoryStore({ storage: { url, namespace }, logger, memoryMap: map });
}

async function run(history: HistoryStore, command: HistoryCommand, input = '') {
  let out = '';
  let err = '';
  const io = {
    write: (text: string) => {
      out += text;
    },
    writeError: (text: string) => {
      err += text;
    },
    readInput: async () => input,
    logger,
  };
  const code = await runHistoryOn(history, command, io);
  return { code, out, err };
}

const turn = (user: string, at: number, updateId?: number) => ({
  user,
  assistant: `**re:** ${user}\nline two "quoted" ✓`,
  userAt: at,
  assistantAt: at + 0.5,
  ...(updateId === undefined ? {} : { updateId }),
});

/** A store holding private, topic, per-user, terminal and multi-bot conversations. */
async function seed(history: HistoryStore, userText = (id: number) => `I am user ${id}`): Promise<void> {
  const { store } = history;
  const add = (key: ConversationKey, text: string, at: number, updateId?: number) =>
    store.append(key, turn(text, at, updateId), { maxTurns: 10 });
  await add({ botId: 'helper', chatId: 42 }, userText(42), 1_700_000_000_000, 10);
  await add({ botId: 'helper', chatId: 42 }, 'and again', 1_700_000_001_000, 11);
  await add({ botId: 'helper', chatId: 43 }, userText(43), 1_700_000_002_000, 12);
  await add({ botId: 'helper', chatId: 0 }, 'from the terminal', 1_700_000_003_000);
  await add({ botId: 'chef', chatId: 42 }, userText(42), 1_700_000_004_000, 13);
  await add({ botId: 'chef', chatId: -1001, userId: 42 }, userText(42), 1_700_000_005_000, 14);
  await add({ botId: 'chef', chatId: -1001, topicId: 5, userId: 42 }, userText(42), 1_700_000_006_000, 15);
  await add({ botId: 'chef', chatId: -1001, userId: 43 }, userText(43), 1_700_000_007_000, 16);
  await add({ botId: 'chef', chatId: -1002, topicId: 7 }, 'shared group chat', 1_700_000_008_000, 17);
  await store.markAnswered({ botId: 'helper', chatId: 42 }, 9);
  await store.claimRefusal('helper', 42, 20);
  await store.claimRefusal('helper', 43, 21);
}

describe.each<Backend>(['sqlite', 'redis', 'memory'])('history on %s', (backend) => {
  it('exports, imports into an empty store and exports the same text', async () => {
    const source = await freshStore(backend);
    const target = await freshStore(backend);
    try {
      await seed(source);
      const first = await run(source, { verb: 'export' });
      expect(first.code).toBe(0);
      expect(first.out.trim().split('\n')).toHaveLength(9);
      expect(JSON.parse(first.out.split('\n')[0] ?? '')).toEqual({
        bot: 'chef',
        chat: -1002,
        topic: 7,
        userId: null,
        user: 'shared group chat',
        assistant: '**re:** shared group chat\nline two "quoted" ✓',
        userAt: 1_700_000_008_000,
        assistantAt: 1_700_000_008_000.5,
        updateId: 17,
      });
      expect(await run(target, { verb: 'import', replace: false }, first.out)).toMatchObject({
        code: 0,
        out: 'imported 9 turns in 8 conversations\n',
      });
      expect((await run(target, { verb: 'export' })).out).toBe(first.out);

      const again = await run(target, { verb: 'import', replace: false }, first.out);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/already holds \d turns; nothing was imported \(use --replace/);
      expect(await run(target, { verb: 'import', replace: true }, first.out)).toMatchObject({ code: 0 });
      expect((await run(target, { verb: 'export' })).out).toBe(first.out);
      expect((await run(target, { verb: 'export', bot: 'helper', chat: 0 })).out).toContain('"from the terminal"');
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('changes nothing when one import line is invalid, and names the line', async () => {
    const history = await freshStore(backend);
    try {
      await seed(history);
      const exported = (await run(history, { verb: 'export', bot: 'helper' })).out;
      const before = await history.entries();
      const lines = exported.replaceAll('"helper"', '"other"').split('\n');
      lines.splice(2, 0, '{"bot":"other","chat":1,"topic":null,"userId":null,"user":"x","assistant":"y","userAt":1}');
      const result = await run(history, { verb: 'import', replace: true }, lines.join('\n'));
      expect(result).toMatchObject({ code: 1, out: '' });
      expect(result.err).toBe('botfleet: line 3: field "assistantAt" is missing; nothing was imported\n');
      expect(await history.entries()).toEqual(before);
      const notJson = await run(history, { verb: 'import', replace: true }, `${exported}{oops\n`);
      expect(notJson.err).toMatch(/^botfleet: line 5: not JSON/);
      expect(await history.entries()).toEqual(before);
    } finally {
      await history.close();
    }
  });

  it('forgets one user across every bot and leaves the others untouched', async () => {
    const map = new Map<string, unknown>();
    const history = await freshStore(backend, map);
    try {
      await seed(history, (id) => `secret of user ${id}`);
      if (backend === 'memory') map.set(`${history.namespace}:helper:42:corrupt:1700000000000`, 'secret of user 42 {');
      const before = await history.entries();
      const result = await run(history, { verb: 'forget', user: 42 });
      expect(result.code).toBe(0);
      const after = await history.entries();
      const aboutUser42 = (key: string): boolean => {
        const parsed = parseStorageKey(history.namespace, key);
        if (parsed?.kind === 'refusal') return parsed.subjectId === 42;
        if (parsed?.kind !== 'conversation' && parsed?.kind !== 'corrupt') return false;
        return parsed.conversation.userId === 42 || (parsed.conversation.chatId === 42 && !parsed.conversation.userId);
      };
      expect(after.filter(([key, value]) => aboutUser42(key) || value.includes('user 42'))).toEqual([]);
      expect(after).toEqual(before.filter(([key]) => !aboutUser42(key)));
      const deleted = before.filter(([key]) => aboutUser42(key)).map(([key]) => key);
      expect(deleted).toHaveLength(backend === 'memory' ? 6 : 5);
      for (const key of deleted) expect(result.out).toContain(`deleted ${key} (`);
      expect(result.out).toContain(`deleted ${deleted.length} keys about user 42\n`);
      expect(after.some(([, value]) => value.includes('secret of user 43'))).toBe(true);
      expect((await run(history, { verb: 'forget', user: 42 })).out).toBe('nothing was stored about user 42\n');
    } finally {
      await history.close();
    }
  });
});

describe('history list, show and reset', () => {
  it('lists, shows and resets conversations as /reset does', async () => {
    const history = await freshStore('sqlite');
    try {
      await seed(history);
      const listed = await run(history, { verb: 'list', bot: 'chef' });
      expect(listed.out.split('\n')[0]).toMatch(/^CHAT\s+TOPIC\s+USER\s+TURNS\s+LAST ACTIVITY$/);
      expect(listed.out).toMatch(/^-1001\s+5\s+42\s+1\s+2023-11-14T22:13:26\.000Z$/m);
      const shown = await run(history, { verb: 'show', bot: 'helper', chat: 42 });
      expect(shown.out).toContain('# helper, chat 42: 2 turns');
      expect(shown.out).toContain('] user:\n  and again\n');
      expect(await run(history, { verb: 'reset', bot: 'helper', chat: 42 })).toMatchObject({
        code: 0,
        out: `reset ${history.namespace}:helper:42 (2 turns forgotten)\n`,
      });
      expect((await history.store.read({ botId: 'helper', chatId: 42 })).answered).toEqual([9, 10, 11]);
      expect((await run(history, { verb: 'show', bot: 'helper', chat: 42 })).out).toContain('0 turns');
      expect((await run(history, { verb: 'reset', bot: 'helper', chat: 5 })).code).toBe(1);
    } finally {
      await history.close();
    }
  });
});
