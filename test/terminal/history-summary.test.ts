/**
 * `botfleet history` with a running summary (window.summary), on a real SQLite file and the
 * shared Redis: show prints it before the turns, export writes it as one line before the turns,
 * import takes it back (export → import → export is the same text), reset forgets it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { type HistoryStore, openHistoryStore } from '../../src/memory/history.js';
import type { ConversationKey } from '../../src/memory/keys.js';
import { type HistoryCommand, runHistoryOn } from '../../src/terminal/history.js';
import { deleteRedisNamespace, SHARED_REDIS_URL } from '../support/redis.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
const redisNamespaces: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'botfleet-history-summary-'));
});
afterAll(async () => {
  for (const namespace of redisNamespaces) await deleteRedisNamespace(SHARED_REDIS_URL, namespace);
  await rm(dir, { recursive: true, force: true });
});

async function freshStore(backend: 'sqlite' | 'redis'): Promise<HistoryStore> {
  const namespace = `hsum-${randomUUID().slice(0, 8)}`;
  if (backend === 'redis') redisNamespaces.push(namespace);
  const url = backend === 'redis' ? SHARED_REDIS_URL : `sqlite://${join(dir, `${namespace}.sqlite`)}`;
  return openHistoryStore({ storage: { url, namespace }, logger });
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
  return { code: await runHistoryOn(history, command, io), out, err };
}

const CHAT: ConversationKey = { botId: 'helper', chatId: 42 };
const turn = (n: number) => ({
  user: `q${n}`,
  assistant: `a${n}`,
  userAt: 1_735_689_600_000 + n,
  assistantAt: 1_735_689_600_000 + n,
  updateId: n,
});

describe.each(['sqlite', 'redis'] as const)('history with a summary on %s', (backend) => {
  it('shows, exports, imports back and resets the summary', async () => {
    const history = await freshStore(backend);
    try {
      for (const n of [1, 2, 3, 4]) await history.store.append(CHAT, turn(n), { maxTurns: 2, unsummarisedLimit: 5 });
      await history.store.storeSummary(CHAT, {
        text: 'FACT: the user is Ada.\nShe likes tea.',
        covered: [turn(1), turn(2)],
        basedOn: undefined,
        at: 1_735_689_700_000,
      });

      const shown = await run(history, { verb: 'show', bot: 'helper', chat: 42 });
      expect(shown.out).toContain(
        'summary of 2 earlier turns, through 2025-01-01T00:00:00.002Z:\n  FACT: the user is Ada.\n  She likes tea.\n',
      );
      expect(shown.out.indexOf('summary of')).toBeLessThan(shown.out.indexOf('q3'));

      const exported = await run(history, { verb: 'export', bot: 'helper' });
      const lines = exported.out.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(JSON.parse(lines[0] ?? '')).toEqual({
        bot: 'helper',
        chat: 42,
        topic: null,
        userId: null,
        summary: 'FACT: the user is Ada.\nShe likes tea.',
        summaryTurns: 2,
        throughUserAt: turn(2).userAt,
        at: 1_735_689_700_000,
      });

      const other = await freshStore(backend);
      try {
        expect((await run(other, { verb: 'import', replace: false }, exported.out)).code).toBe(0);
        expect((await run(other, { verb: 'export', bot: 'helper' })).out).toBe(exported.out);
        expect((await other.store.read(CHAT)).summary?.text).toBe('FACT: the user is Ada.\nShe likes tea.');
        const bad = exported.out.replace('"summaryTurns":2', '"summaryTurns":"two"');
        const refused = await run(other, { verb: 'import', replace: true }, bad);
        expect(refused.code).toBe(1);
        expect(refused.err).toContain('line 1: "summaryTurns" must be an integer >= 0');
      } finally {
        await other.close();
      }

      await run(history, { verb: 'reset', bot: 'helper', chat: 42 });
      expect((await history.store.read(CHAT)).summary).toBeUndefined();
      expect((await run(history, { verb: 'export', bot: 'helper' })).out).toBe('');
    } finally {
      await history.close();
    }
  });
});
