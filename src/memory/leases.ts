/**
 * Redis primitives for replicas sharing one fleet (src/replicas.ts decides what to do with
 * them). Every key is a plain string under the store's namespace, after a `fleet` field that
 * is never a chat id, so no key here can be taken for a conversation (keys.ts):
 *
 *   {namespace}:fleet:lease:{botId}    the replica polling the bot (`SET NX PX`), with a TTL
 *   {namespace}:fleet:offset:{botId}:{telegramId}   the offset Telegram confirmed, for the next
 *                                      holder (per Telegram bot: a new token starts afresh)
 *   {namespace}:fleet:journal:{botId}:{telegramId}   a list: the updates the holder fetched
 *                                      lately (JSON), replayed by the next holder after a crash
 *   {namespace}:fleet:replicas         JSON {replicaId: expiry (Redis ms)}: the live replicas
 *
 * A lease is renewed by a compare-and-set script and released by a compare-and-delete one, so
 * a replica never extends or deletes a lease another replica took after its own expired. The
 * replica list is read-modify-written by one script with Redis's own clock (no clock skew
 * between machines). Keys are named by bot id, never by token. Its own Redis connection: a
 * slow conversation write never delays a renewal.
 */
import { withDeadline } from './store-error.js';
import type { UpdateJournal } from './update-journal.js';

/** The lease side of one replica, and the bots' offsets and journals (UpdateJournal). Every call
 * rejects after `operationTimeoutMs`. */
export interface LeaseStore extends UpdateJournal {
  /** This replica's id (the value of the leases it holds). */
  readonly owner: string;
  /** Renews this replica's entry in the replica list for `ttlMs`, drops expired entries, and
   * returns the live replicas' ids, sorted. */
  announce(ttlMs: number): Promise<string[]>;
  /** The holder of each bot's lease (undefined: free), one round trip. */
  holders(botIds: readonly string[]): Promise<Map<string, string | undefined>>;
  /** Takes the lease of `botId` for `ttlMs` if nobody holds it; whether it was taken. */
  acquire(botId: string, ttlMs: number): Promise<boolean>;
  /** Extends, for `ttlMs`, the leases of `botIds` that this replica still holds, in one
   * round trip; returns those (a lease missing from it is lost). */
  renew(botIds: readonly string[], ttlMs: number): Promise<Set<string>>;
  /** Deletes the leases of `botIds` that this replica holds (others are left alone). */
  release(botIds: readonly string[]): Promise<void>;
  /** Removes this replica from the replica list (clean stop). */
  withdraw(): Promise<void>;
  /** Closes the connection; bounded, never rejects. */
  close(): Promise<void>;
}

/** What openLeases needs. */
export interface LeaseStoreOptions {
  readonly url: string;
  readonly namespace: string;
  readonly owner: string;
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
  /** Longest pause between reconnect attempts after a lost connection. */
  readonly reconnectMaxDelayMs: number;
}

/** Renews KEYS whose value is ARGV[1] for ARGV[2] ms; returns 1/0 per key. */
const RENEW = `local held = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]); held[i] = 1 else held[i] = 0 end
end
return held`;

/** Deletes KEYS whose value is ARGV[1]. */
const RELEASE = `for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0`;

/** KEYS[1]: the replica list. ARGV: id, ttl ms (0: remove the id). Returns the live ids. */
const ANNOUNCE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('GET', KEYS[1])
local list = {}
if raw then list = cjson.decode(raw) end
local ttl = tonumber(ARGV[2])
if ttl > 0 then list[ARGV[1]] = now + ttl else list[ARGV[1]] = nil end
local kept, live = {}, {}
for id, expiry in pairs(list) do
  if expiry > now then kept[id] = expiry; live[#live + 1] = id end
end
if #live == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], cjson.encode(kept)) end
return live`;

/** Removes from the list KEYS[1] the entries whose leading update_id is one of ARGV[3] (ids
 * separated by commas, may be empty), appends ARGV[4..], keeps its last ARGV[2], expires it in
 * ARGV[1] ms. */
const JOURNAL = `local settled = {}
local any = false
for id in string.gmatch(ARGV[3], '%d+') do settled[id] = true; any = true end
if any then
  local keep = {}
  for _, text in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    local id = string.match(text, '^{"update_id":(%d+)[,}]')
    if not (id and settled[id]) then keep[#keep + 1] = text end
  end
  redis.call('DEL', KEYS[1])
  if #keep > 0 then redis.call('RPUSH', KEYS[1], unpack(keep)) end
end
if #ARGV >= 4 then redis.call('RPUSH', KEYS[1], unpack(ARGV, 4)) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0`;

/** Sets KEYS[1] to ARGV[1] unless it holds a greater number. */
const RAISE = `local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > old then redis.call('SET', KEYS[1], ARGV[1]) end
return 0`;

/** The key of `botId`'s lease. */
export function leaseKey(namespace: string, botId: string): string {
  return `${namespace}:fleet:lease:${botId}`;
}

/** The key of `botId`'s stored update offset while it is Telegram bot `telegramId` (the
 * public number before a token's colon, never the token). */
export function offsetKey(namespace: string, botId: string, telegramId: string): string {
  return `${namespace}:fleet:offset:${botId}:${telegramId}`;
}

/** The key of the journal of `botId` as Telegram bot `telegramId`. */
export function journalKey(namespace: string, botId: string, telegramId: string): string {
  return `${namespace}:fleet:journal:${botId}:${telegramId}`;
}

/** The key of the replica list. */
export function replicasKey(namespace: string): string {
  return `${namespace}:fleet:replicas`;
}

/** Connects to the Redis at `options.url`. Throws the driver's error when it cannot. */
export async function openLeases(options: LeaseStoreOptions): Promise<LeaseStore> {
  const { namespace, owner, operationTimeoutMs: timeout } = options;
  const { createClient } = await import('@keyv/redis');
  let opened = false;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) =>
        opened ? Math.min(100 * 2 ** retries, options.reconnectMaxDelayMs) : cause,
    },
  });
  // Failures reach the callers of each command; the event itself needs no handling here.
  client.on('error', () => undefined);
  try {
    await withDeadline(client.connect(), options.connectTimeoutMs);
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw error;
  }
  opened = true;
  const run = <T>(promise: Promise<T>): Promise<T> => withDeadline(promise, timeout);
  const eval_ = (script: string, keys: string[], args: string[]): Promise<unknown> =>
    run(client.eval(script, { keys, arguments: args }));
  return {
    owner,
    async announce(ttlMs) {
      const live = (await eval_(ANNOUNCE, [replicasKey(namespace)], [owner, String(ttlMs)])) as string[];
      return [...live].sort();
    },
    async holders(botIds) {
      const values = botIds.length === 0 ? [] : await run(client.mGet(botIds.map((id) => leaseKey(namespace, id))));
      return new Map(botIds.map((id, i) => [id, values[i] ?? undefined]));
    },
    async acquire(botId, ttlMs) {
      const set = await run(
        client.set(leaseKey(namespace, botId), owner, {
          condition: 'NX',
          expiration: { type: 'PX', value: ttlMs },
        }),
      );
      return set === 'OK';
    },
    async renew(botIds, ttlMs) {
      if (botIds.length === 0) return new Set();
      const keys = botIds.map((id) => leaseKey(namespace, id));
      const held = (await eval_(RENEW, keys, [owner, String(ttlMs)])) as number[];
      return new Set(botIds.filter((_, i) => held[i] === 1));
    },
    async release(botIds) {
      if (botIds.length === 0) return;
      await eval_(
        RELEASE,
        botIds.map((id) => leaseKey(namespace, id)),
        [owner],
      );
    },
    async withdraw() {
      await eval_(ANNOUNCE, [replicasKey(namespace)], [owner, '0']);
    },
    async readOffset(botId, telegramId) {
      const value = await run(client.get(offsetKey(namespace, botId, telegramId)));
      const next = Number(value ?? 0);
      return Number.isSafeInteger(next) ? next : 0;
    },
    async writeOffset(botId, telegramId, next) {
      await eval_(RAISE, [offsetKey(namespace, botId, telegramId)], [String(next)]);
    },
    async journal(botId, telegramId, updates, ttlMs, max, settled = []) {
      if (updates.length === 0 && settled.length === 0) return;
      const args = [String(ttlMs), String(max), settled.join(','), ...updates];
      await eval_(JOURNAL, [journalKey(namespace, botId, telegramId)], args);
    },
    readJournal: (botId, telegramId) => run(client.lRange(journalKey(namespace, botId, telegramId), 0, -1)),
    async close() {
      if (!client.isOpen) return;
      try {
        await withDeadline(client.close(), timeout);
      } catch {
        // A server that does not answer cannot be closed politely: drop the socket instead.
        client.destroy();
      }
    },
  };
}
