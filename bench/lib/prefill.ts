/**
 * Stored conversations written before the system under test starts (issue 15's "flat with
 * size"): `count` conversations of bot `botId` in private chats `firstChatId…`, each a few turns,
 * in the exact stored format. Key and value come from the built botfleet (dist/memory/keys.js
 * conversationKey, dist/memory/value-format.js encodeValue), and the row is what botfleet's
 * Keyv writes: it adds no key prefix and no envelope (src/memory/open-backend.ts), so SQLite's
 * `keyv` table holds (key, our JSON) and Redis the same pair. Bulk writes: one transaction for
 * SQLite, pipelined MSETs for Redis (under the run's own namespace, deleted with the run).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sqlite3 from 'sqlite3';
import { SHARED_REDIS_PORT, setValues } from '../../harness/redis.js';
import { REPO_ROOT } from './paths.js';

/** What to write. */
export interface PrefillSpec {
  readonly count: number;
  readonly botId: string;
  readonly firstChatId: number;
  /** Turns per conversation. */
  readonly turns: number;
}

/** Where the system under test will find its store. */
export interface PrefillTarget {
  readonly storage: 'sqlite' | 'redis';
  readonly namespace: string;
  /** SQLite: the database file botfleet opens. */
  readonly sqlitePath: string;
}

type Format = typeof import('../../src/memory/value-format.js');
type Keys = typeof import('../../src/memory/keys.js');

async function builtModules(): Promise<{ format: Format; keys: Keys }> {
  const url = (file: string): string => pathToFileURL(join(REPO_ROOT, 'dist', 'memory', file)).href;
  const format = (await import(url('value-format.js'))) as Format;
  const keys = (await import(url('keys.js'))) as Keys;
  return { format, keys };
}

/** First update id of the stored turns. */
const STORED_UPDATE_IDS = 1_000_000_000_000;

/** Rows per INSERT statement (2 parameters each, well under SQLite's 32,766). */
const ROWS_PER_INSERT = 500;

/** The (key, value) pairs of `spec` under `namespace`, `batch` at a time. */
async function* entries(spec: PrefillSpec, namespace: string, batch: number): AsyncGenerator<[string, string][]> {
  const { format, keys } = await builtModules();
  const at = Date.UTC(2026, 0, 1);
  let chunk: [string, string][] = [];
  for (let i = 0; i < spec.count; i++) {
    const chatId = spec.firstChatId + i;
    const turns = Array.from({ length: spec.turns }, (_, t) => ({
      user: `q0.${chatId}.${t} Could you tell me one interesting fact about the number ${t}, please?`,
      assistant: `echo: q0.${chatId}.${t} Could you tell me one interesting fact about the number ${t}, please?`,
      userAt: at + i * 1000 + t * 10,
      assistantAt: at + i * 1000 + t * 10 + 5,
      // Far above the fake Bot API's update ids (from 1): none of the loop's messages is taken
      // for one already answered.
      updateId: STORED_UPDATE_IDS + i * spec.turns + t,
    }));
    chunk.push([keys.conversationKey(namespace, { botId: spec.botId, chatId }), format.encodeValue(turns)]);
    if (chunk.length === batch) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Keyv's table, created as @keyv/sqlite creates it (its default table and key size). */
const CREATE_TABLE = 'CREATE TABLE IF NOT EXISTS keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )';

function run(db: sqlite3.Database, sql: string, params: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
}

async function prefillSqlite(spec: PrefillSpec, target: PrefillTarget): Promise<void> {
  await mkdir(dirname(target.sqlitePath), { recursive: true });
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened = new sqlite3.Database(target.sqlitePath, (error) => (error ? reject(error) : resolve(opened)));
  });
  try {
    await run(db, 'PRAGMA journal_mode=WAL'); // as botfleet sets it
    await run(db, CREATE_TABLE);
    await run(db, 'BEGIN');
    for await (const chunk of entries(spec, target.namespace, ROWS_PER_INSERT)) {
      const values = chunk.map(() => '(?, ?)').join(', ');
      await run(db, `INSERT INTO keyv(key, value) VALUES ${values}`, chunk.flat());
    }
    await run(db, 'COMMIT');
  } finally {
    await new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
  }
}

/** Writes `spec`'s conversations where `target` says. */
export async function prefillConversations(spec: PrefillSpec, target: PrefillTarget): Promise<void> {
  if (target.storage === 'sqlite') return prefillSqlite(spec, target);
  for await (const chunk of entries(spec, target.namespace, 1000)) await setValues(SHARED_REDIS_PORT, chunk);
}
