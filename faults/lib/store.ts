/**
 * Reads what botfleet stored, straight from the store (the `sqlite3` command on the file, or
 * Redis), and judges it: values that do not parse, turns that are not whole.
 */
import { execFileSync } from 'node:child_process';
import { redisValues } from '../../harness/redis.js';

/** A stored turn (the fields the suite judges). */
export interface StoredTurn {
  readonly user: string;
  readonly assistant: string;
  readonly updateId?: number;
}

/** One conversation key and what could be read of it. */
export interface StoredConversation {
  readonly key: string;
  readonly turns: readonly StoredTurn[] | undefined;
  /** Why the value is unreadable (undefined: it is readable). */
  readonly corrupt: string | undefined;
}

/** Everything under `namespace`: conversations, keys kept aside as corrupt, SQLite's own
 * integrity check ('ok' for Redis). */
export interface StoreContents {
  readonly conversations: StoredConversation[];
  readonly corruptKeys: string[];
  readonly integrity: string;
}

function judge(key: string, value: string): StoredConversation {
  try {
    const parsed = JSON.parse(value) as { v?: unknown; turns?: unknown };
    if (parsed.v !== 1 || !Array.isArray(parsed.turns)) return { key, turns: undefined, corrupt: 'not v1 turns' };
    for (const turn of parsed.turns as StoredTurn[]) {
      if (typeof turn?.user !== 'string' || typeof turn.assistant !== 'string')
        return { key, turns: undefined, corrupt: 'a turn without user or assistant text' };
    }
    return { key, turns: parsed.turns as StoredTurn[], corrupt: undefined };
  } catch (error) {
    // Converted: a value that does not parse is what this function reports.
    return { key, turns: undefined, corrupt: `not JSON: ${String(error)}` };
  }
}

function sort(entries: Iterable<[string, string]>, namespace: string): StoreContents & { integrity: string } {
  const conversations: StoredConversation[] = [];
  const corruptKeys: string[] = [];
  const conversation = new RegExp(`^${namespace}:[^:]+:-?\\d+(:t\\d+)?(:u\\d+)?$`);
  for (const [key, value] of entries) {
    if (key.includes(':corrupt:')) corruptKeys.push(key);
    else if (conversation.test(key)) conversations.push(judge(key, value));
  }
  return { conversations, corruptKeys, integrity: 'ok' };
}

/** The contents of a SQLite store file (botfleet must not be running). */
export function readSqlite(file: string, namespace: string): StoreContents {
  const integrity = execFileSync('sqlite3', [file, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
  const json = execFileSync('sqlite3', ['-json', file, 'SELECT key, value FROM keyv;'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  }).trim();
  const rows = json === '' ? [] : (JSON.parse(json) as { key: string; value: string }[]);
  return {
    ...sort(
      rows.map((r) => [r.key, r.value]),
      namespace,
    ),
    integrity,
  };
}

/** The contents under `namespace` on the Redis at `port`. */
export async function readRedis(port: number, namespace: string): Promise<StoreContents> {
  return sort(await redisValues(port, `${namespace}:*`), namespace);
}
