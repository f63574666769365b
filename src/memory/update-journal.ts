/**
 * Each bot's update offset and journal (see replica-handover.ts) over the store's Keyv, for a
 * SQLite (or memory://) store: what the Redis replicas keep in memory/leases.ts, with the same
 * keys, so a `botfleet run` killed with fetched but unanswered updates replays them after its
 * restart:
 *
 *   {namespace}:fleet:offset:{botId}:{telegramId}    the offset Telegram confirmed, as a number
 *   {namespace}:fleet:journal:{botId}:{telegramId}   {"v":1,"expires":ms epoch,"updates":[…]}:
 *                                                    the newest fetched updates (JSON texts)
 *
 * The store's Keyv keeps no TTLs (open-backend.ts drops its envelope), so a journal carries its
 * own expiry (`ttlMs` after the last append) and reads as empty past it; the key itself stays
 * (one per bot and token) until the next append overwrites it.
 *
 * The `fleet` field is never a chat id, so the history tools never take these for
 * conversations (history.ts parses them as keys botfleet did not write for a conversation).
 * The append and the offset raise are read-modify-writes: each runs under its key's lock
 * (keyed-mutex.ts, through the guard), so two overlapping ones never lose an entry in this
 * process (one process per SQLite file: store-lock.ts). Every call has the store's deadline.
 */
import { journalKey, offsetKey } from './leases.js';
import { createCall, createGuard } from './store-calls.js';
import type { StoreBackend } from './store-error.js';

/** Where the hand-over keeps a bot's offset and journal (LeaseStore is one, over Redis). */
export interface UpdateJournal {
  /** The stored offset of `botId` as Telegram bot `telegramId` (0 when none). */
  readOffset(botId: string, telegramId: string): Promise<number>;
  /** Stores `next` as that offset unless a greater one is stored. */
  writeOffset(botId: string, telegramId: string, next: number): Promise<void>;
  /** Appends fetched updates (JSON texts) to the bot's journal, keeping the newest `max`, for
   * `ttlMs` after the last append; first removes the entries of the `settled` update ids
   * (handled by now: they need no replay), so that `max` bounds updates still to be handled,
   * not answered ones crowding them out. */
  journal(
    botId: string,
    telegramId: string,
    updates: readonly string[],
    ttlMs: number,
    max: number,
    settled?: readonly number[],
  ): Promise<void>;
  /** The journal, oldest first. */
  readJournal(botId: string, telegramId: string): Promise<string[]>;
}

/** What createKeyvUpdateJournal needs. `url` is the masked storage URL. */
export interface KeyvUpdateJournalDeps {
  readonly keyv: {
    get(key: string): Promise<string | undefined>;
    set(key: string, value: string): Promise<boolean>;
  };
  readonly namespace: string;
  readonly backend: StoreBackend;
  readonly url: string;
  /** Deadline of one backend call, in ms. */
  readonly operationTimeoutMs: number;
  /** The clock, ms since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** This process is the only writer of these keys (a SQLite file, which store-lock.ts keeps to
   * one process, or memory://): what it last wrote is then what is stored, so an append or an
   * offset raise starts from that, without reading it back first (one store call per write,
   * not two, on the path of every poll). Never for Redis, which other processes share. */
  readonly owned?: boolean;
}

/** The journal plus a way to stop taking work and wait for what is in flight. */
export interface DrainableUpdateJournal extends UpdateJournal {
  drain(): Promise<void>;
}

/** An UpdateJournal over `deps.keyv`; every method rejects with StoreError when storage fails. */
export function createKeyvUpdateJournal(deps: KeyvUpdateJournalDeps): DrainableUpdateJournal {
  const { keyv, namespace } = deps;
  const guard = createGuard(deps);
  const call = createCall(deps);
  const now = deps.now ?? Date.now;
  // With `owned`: what was last written (or read) per key. A write that failed or timed out may
  // still land, so it forgets its key: the next write reads the store again.
  const written = deps.owned === true ? new Map<string, number | { expires: number; updates: string[] }>() : undefined;
  const readOffset = async (key: string): Promise<number> => {
    const known = written?.get(key);
    if (typeof known === 'number') return known;
    const next = Number((await call('journal', key, () => keyv.get(key))) ?? 0);
    return Number.isSafeInteger(next) && next > 0 ? next : 0;
  };
  const readList = async (key: string): Promise<string[]> => {
    const known = written?.get(key);
    if (typeof known === 'object') return known.expires > now() ? [...known.updates] : [];
    const raw = await call('journal', key, () => keyv.get(key));
    return parseJournal(raw, now());
  };
  /** keyv.set(key, value), remembering `remembered` as the key's value when it succeeds. */
  const write = async (key: string, value: string, remembered: number | { expires: number; updates: string[] }) => {
    written?.delete(key);
    await call('journal', key, () => keyv.set(key, value));
    written?.set(key, remembered);
  };
  return {
    readOffset: (botId, telegramId) => readOffset(offsetKey(namespace, botId, telegramId)),
    async writeOffset(botId, telegramId, next) {
      const key = offsetKey(namespace, botId, telegramId);
      await guard('journal', key, async () => {
        if (next <= (await readOffset(key))) return;
        await write(key, String(next), next);
      });
    },
    async journal(botId, telegramId, updates, ttlMs, max, settled = []) {
      if (updates.length === 0 && settled.length === 0) return;
      const key = journalKey(namespace, botId, telegramId);
      const done = new Set(settled);
      await guard('journal', key, async () => {
        const left = (await readList(key)).filter((text) => !done.has(journaledUpdateId(text) ?? -1));
        const kept = [...left, ...updates].slice(-max);
        const expires = now() + ttlMs;
        await write(key, JSON.stringify({ v: 1, expires, updates: kept }), { expires, updates: kept });
      });
    },
    readJournal: (botId, telegramId) => readList(journalKey(namespace, botId, telegramId)),
    drain: guard.drain,
  };
}

/** The stored journal's texts; [] for none, an expired one, or a value that is not a journal
 * (only a safety net: the next append writes a good one). */
function parseJournal(raw: string | undefined, nowMs: number): string[] {
  if (raw === undefined) return [];
  try {
    const value = JSON.parse(raw) as { expires?: unknown; updates?: unknown } | null;
    if (typeof value?.expires !== 'number' || value.expires <= nowMs || !Array.isArray(value.updates)) return [];
    return value.updates.filter((item): item is string => typeof item === 'string');
  } catch {
    // Handled: an unreadable journal replays nothing; the answered marks and Telegram's own
    // offset still hold, and the next append replaces it.
    return [];
  }
}

/** The update_id of a journaled update's JSON text (JSON.stringify of a Telegram update, whose
 * first field it is), undefined when it has none. */
export function journaledUpdateId(text: string): number | undefined {
  const id = /^\{"update_id":(\d+)[,}]/.exec(text)?.[1];
  return id === undefined ? undefined : Number(id);
}
