/**
 * Raw access to the store for the history tools (`botfleet history`): every key of the
 * namespace, parsed back into what it holds (keys.ts), every conversation decoded, and
 * whole-value writes and deletes. Keys are enumerated in one SELECT on SQLite, with Keyv's
 * `iterator()` elsewhere (a Redis `SCAN`, the memory Map), and collected in full before
 * anything is changed.
 *
 * Concurrency with a running `botfleet run` on the same store: each value is written whole in
 * one call (one SQLite statement in WAL mode, one Redis SET), so a reader never sees a torn
 * value. The conversation lock is per process: a write here and an answer being stored there
 * for the same conversation are last-writer-wins (see README, "History").
 */
import type { Keyv } from 'keyv';
import type { ConversationKey } from './keys.js';
import { conversationKey } from './keys.js';
import { type ConversationStoreHandle, type OpenStoreOptions, openStoreWithKeyv } from './open-store.js';
import { decodeValue, encodeValue, type StoredSummary, type Turn } from './value-format.js';

/** What one raw key is, read back from its text (see keys.ts). */
export type StoredKey =
  | { readonly kind: 'conversation'; readonly conversation: ConversationKey }
  | { readonly kind: 'refusal'; readonly botId: string; readonly subjectId: number }
  | { readonly kind: 'corrupt'; readonly conversation: ConversationKey; readonly atMs: number }
  | { readonly kind: 'probe' };

/** One stored conversation, decoded. */
export interface StoredConversation {
  readonly key: string;
  readonly conversation: ConversationKey;
  readonly turns: readonly Turn[];
  /** The answered update ids no kept turn carries (value-format.ts). */
  readonly answered: readonly number[];
  /** The running summary of older turns (window.summary), if any. */
  readonly summary?: StoredSummary;
}

/** The conversations of a scan, and the conversation values that could not be read. */
export interface ConversationScan {
  readonly conversations: readonly StoredConversation[];
  readonly unreadable: readonly { readonly key: string; readonly reason: string }[];
}

/** The store opened for the history tools. Every method rejects with the store's errors. */
export interface HistoryStore {
  /** The conversation store on the same backend (its `reset` is /reset's). */
  readonly store: ConversationStoreHandle;
  readonly namespace: string;
  /** Every key of the namespace with its raw value, sorted by key. */
  entries(): Promise<readonly (readonly [string, string])[]>;
  /** Every conversation `keep` accepts, in a stable order (bot, chat, topic, user). */
  conversations(keep?: (conversation: ConversationKey) => boolean): Promise<ConversationScan>;
  /** Writes a conversation's whole value (deletes the key when both lists are empty and there
   * is no summary). */
  write(
    conversation: ConversationKey,
    turns: readonly Turn[],
    answered: readonly number[],
    summary?: StoredSummary,
  ): Promise<void>;
  /** Deletes raw keys. */
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Opens the configured store for the history tools (probed like the bots' store). Throws
 * StoreError when it cannot be opened, or Error when the backend cannot list its keys. */
export async function openHistoryStore(options: OpenStoreOptions): Promise<HistoryStore> {
  const { store, keyv } = await openStoreWithKeyv(options);
  const namespace = options.storage.namespace;
  const entries = async (): Promise<[string, string][]> => {
    const all = await scan(keyv, `${namespace}:`);
    return all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  };
  return {
    store,
    namespace,
    entries,
    async conversations(keep = () => true) {
      return decodeAll(namespace, await entries(), keep);
    },
    async write(conversation, turns, answered, summary) {
      const key = conversationKey(namespace, conversation);
      if (turns.length === 0 && answered.length === 0 && summary === undefined) await keyv.delete(key);
      else await keyv.set(key, encodeValue(turns, answered, summary));
    },
    async delete(keys) {
      for (const key of keys) await keyv.delete(key);
    },
    close: () => store.close(),
  };
}

/** The SQLite adapter's query function and table, when `keyv` is over SQLite. */
interface SqliteStore {
  readonly opts: { readonly dialect?: string; readonly table?: string };
  query(sql: string, ...args: unknown[]): Promise<{ key: string; value: string }[]>;
}

/** Every key starting with `prefix` and its value. On SQLite one SELECT (a consistent snapshot
 * in WAL mode; the adapter's iterator pages with OFFSET, which a concurrent delete would
 * shift); elsewhere Keyv's iterator (a Redis SCAN may return a key twice: kept once). */
async function scan(keyv: Keyv<string>, prefix: string): Promise<[string, string][]> {
  const store = keyv.store as Partial<SqliteStore> | undefined;
  if (store?.opts?.dialect === 'sqlite' && typeof store.query === 'function') {
    const table = store.opts.table ?? 'keyv';
    const rows = await store.query(
      `SELECT key, value FROM ${table} WHERE substr(key, 1, ?) = ?`,
      prefix.length,
      prefix,
    );
    return rows.map((row) => [row.key, row.value]);
  }
  // The adapter's own iterator, not Keyv's: Keyv's unwraps each value and throws on a key that
  // was deleted between the adapter's SCAN and its MGET (a /reset meanwhile), which comes back
  // as null. Our values are stored as they are (open-backend.ts drops Keyv's envelope).
  // memory:// is a Map of the same raw values.
  const adapter = keyv.store as (Partial<IterableAdapter> & object) | undefined;
  const pairs =
    adapter instanceof Map
      ? (adapter.entries() as Iterable<[unknown, unknown]>)
      : typeof adapter?.iterator === 'function'
        ? adapter.iterator(undefined)
        : undefined;
  if (pairs === undefined) throw new Error('this storage backend cannot list its keys');
  const found = new Map<string, string>();
  for await (const [key, value] of pairs) {
    if (typeof key !== 'string' || !key.startsWith(prefix) || value === undefined || value === null) continue;
    found.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return [...found];
}

/** A Keyv adapter that lists its keys (Redis): pairs of a key and its raw stored value, null
 * for a key gone since it was listed. */
interface IterableAdapter {
  iterator(namespace: string | undefined): AsyncIterable<[unknown, unknown]>;
}

function decodeAll(
  namespace: string,
  entries: readonly (readonly [string, string])[],
  keep: (conversation: ConversationKey) => boolean,
): ConversationScan {
  const conversations: StoredConversation[] = [];
  const unreadable: { key: string; reason: string }[] = [];
  for (const [key, value] of entries) {
    const parsed = parseStorageKey(namespace, key);
    if (parsed?.kind !== 'conversation' || !keep(parsed.conversation)) continue;
    const decoded = decodeValue(value);
    if (decoded.ok) conversations.push({ key, conversation: parsed.conversation, ...decoded });
    else unreadable.push({ key, reason: decoded.reason });
  }
  conversations.sort((a, b) => compareConversations(a.conversation, b.conversation));
  return { conversations, unreadable };
}

/** Orders conversations by bot id, then chat, topic and user id (absent first). */
export function compareConversations(a: ConversationKey, b: ConversationKey): number {
  if (a.botId !== b.botId) return a.botId < b.botId ? -1 : 1;
  return (
    a.chatId - b.chatId || (a.topicId ?? -Infinity) - (b.topicId ?? -Infinity) || (a.userId ?? 0) - (b.userId ?? 0)
  );
}

const INTEGER = '(-?\\d+)';
const CONVERSATION = new RegExp(`^([A-Za-z0-9_-]+):${INTEGER}(?::t${INTEGER})?(?::u${INTEGER})?(?::corrupt:(\\d+))?$`);
const REFUSAL = new RegExp(`^([A-Za-z0-9_-]+):refused:${INTEGER}$`);

/** What the raw `key` of `namespace` holds (keys.ts), or undefined for a key botfleet did not
 * write. */
export function parseStorageKey(namespace: string, key: string): StoredKey | undefined {
  if (!key.startsWith(`${namespace}:`)) return undefined;
  const rest = key.slice(namespace.length + 1);
  if (rest.startsWith('probe:')) return { kind: 'probe' };
  const refusal = REFUSAL.exec(rest);
  if (refusal) return { kind: 'refusal', botId: String(refusal[1]), subjectId: Number(refusal[2]) };
  const match = CONVERSATION.exec(rest);
  if (!match) return undefined;
  const [, botId, chat, topic, user, corruptAt] = match;
  const conversation: ConversationKey = {
    botId: String(botId),
    chatId: Number(chat),
    ...(topic === undefined ? {} : { topicId: Number(topic) }),
    ...(user === undefined ? {} : { userId: Number(user) }),
  };
  return corruptAt === undefined
    ? { kind: 'conversation', conversation }
    : { kind: 'corrupt', conversation, atMs: Number(corruptAt) };
}
