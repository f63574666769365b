/**
 * The conversation store: what the rest of the app depends on, and its implementation over one
 * Keyv instance shared by every bot.
 *
 * Ordering and concurrency: each operation takes the conversation's lock (keyed-mutex.ts), so
 * a load, append or reset of one conversation runs after the previous one has finished, in
 * call order, and an append's read-modify-write can never lose a concurrent append. Different
 * conversations never wait on each other. The lock is in this process only: two botfleet
 * processes sharing one Redis (or one SQLite file) are not supported, and the second would
 * also fight the first for the Telegram updates.
 *
 * Failures: every backend call has a deadline (`operationTimeoutMs`); a failed or late call
 * rejects with a StoreError (retryable when the backend was unreachable, slow or busy), never
 * with an empty history. A Redis command that timed out on a frozen server may still run when
 * the server wakes, in order with the later ones (one connection), so at worst an append the
 * caller saw fail was stored after all; SQLite gives up lock waits before the deadline. The only empty history returned on a problem is for a stored value
 * that cannot be read: it is moved aside to `{key}:corrupt:{ms}` and logged at error level.
 */
import type { Logger } from '../logger.js';
import { createKeyedMutex } from './keyed-mutex.js';
import { type ConversationKey, conversationKey, corruptKey } from './keys.js';
import {
  describeCause,
  isTransient,
  type StoreBackend,
  StoreError,
  type StoreOperation,
  withDeadline,
} from './store-error.js';
import { assertTurn, decodeValue, encodeValue, type Turn } from './value-format.js';

/** How an append bounds the stored conversation. */
export interface AppendOptions {
  /** Keep only the newest `keepTurns` turns (the bot's window.maxTurns), an integer >= 1. */
  readonly keepTurns: number;
}

/** Conversation memory. Every method rejects with StoreError when storage fails. */
export interface ConversationStore {
  /** The stored turns of a conversation, oldest first; [] when there are none. */
  load(key: ConversationKey): Promise<readonly Turn[]>;
  /** Appends one complete turn and trims to `keepTurns`. A turn whose `updateId` is already
   * stored for this conversation is not stored again. Throws RangeError/TypeError on bad input. */
  append(key: ConversationKey, turn: Turn, options: AppendOptions): Promise<void>;
  /** Forgets a conversation (no-op when it has no history). Other conversations are untouched. */
  reset(key: ConversationKey): Promise<void>;
  /** Whether a turn of Telegram update `updateId` is stored for this conversation (the update
   * was already answered). Exact match over the kept turns: update ids are not always
   * increasing (Telegram restarts them at random after a week without updates). */
  hasUpdate(key: ConversationKey, updateId: number): Promise<boolean>;
}

/** What createKeyvConversationStore needs. `url` is the masked storage URL. */
export interface KeyvConversationStoreDeps {
  readonly keyv: {
    get(key: string): Promise<string | undefined>;
    set(key: string, value: string): Promise<boolean>;
    delete(key: string): Promise<boolean>;
  };
  readonly namespace: string;
  readonly backend: StoreBackend;
  readonly url: string;
  readonly logger: Logger;
  /** Deadline of one backend call, in ms. */
  readonly operationTimeoutMs: number;
}

/** The store plus a way to stop taking work and wait for what is in flight. */
export interface DrainableConversationStore extends ConversationStore {
  /** Makes every later call reject (StoreError, not retryable) and resolves when the calls
   * already started have settled. */
  drain(): Promise<void>;
}

/** A ConversationStore over `deps.keyv`. No I/O until a method is called. */
export function createKeyvConversationStore(deps: KeyvConversationStoreDeps): DrainableConversationStore {
  const { keyv, namespace, backend, url, logger, operationTimeoutMs } = deps;
  const mutex = createKeyedMutex();
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  /** Runs `task` under the conversation's lock, tracked for drain(). */
  const locked = <T>(operation: StoreOperation, storageKey: string, task: () => Promise<T>): Promise<T> => {
    if (closed)
      return Promise.reject(
        new StoreError(
          { backend, operation, retryable: false, url },
          `storage ${operation} of ${storageKey} refused: the store is closed`,
        ),
      );
    const run = mutex.run(storageKey, task);
    inFlight.add(run);
    const forget = (): void => void inFlight.delete(run);
    run.then(forget, forget);
    return run;
  };

  /** One backend call with a deadline; failures become StoreError. */
  const call = async <T>(operation: StoreOperation, storageKey: string, action: () => Promise<T>): Promise<T> => {
    try {
      return await withDeadline(action(), operationTimeoutMs);
    } catch (error) {
      const retryable = isTransient(error);
      const advice = retryable ? '; the backend may be down, try again later' : '';
      throw new StoreError(
        { backend, operation, retryable, url },
        `storage ${operation} of ${storageKey} failed on ${url}: ${describeCause(error)}${advice}`,
        { cause: error },
      );
    }
  };

  /** The stored turns, or [] after moving an unreadable value aside. */
  const readTurns = async (operation: StoreOperation, storageKey: string): Promise<readonly Turn[]> => {
    const raw: unknown = await call(operation, storageKey, () => keyv.get(storageKey));
    if (raw === undefined || raw === null) return [];
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    const decoded =
      typeof raw === 'string' ? decodeValue(text) : { ok: false as const, reason: `not text but ${typeof raw}` };
    if (decoded.ok) return decoded.turns;
    const aside = corruptKey(storageKey, Date.now());
    await call(operation, aside, () => keyv.set(aside, text));
    await call(operation, storageKey, () => keyv.delete(storageKey));
    logger.error(
      { storage: url, key: storageKey, corruptKey: aside, reason: decoded.reason },
      `stored conversation ${storageKey} could not be read (${decoded.reason}); its history is lost for the bot, the value was kept under ${aside}`,
    );
    return [];
  };

  const load = async (key: ConversationKey): Promise<readonly Turn[]> => {
    const storageKey = conversationKey(namespace, key);
    return locked('load', storageKey, () => readTurns('load', storageKey));
  };

  return {
    load,

    async append(key, turn, options) {
      const storageKey = conversationKey(namespace, key);
      if (!Number.isSafeInteger(options.keepTurns) || options.keepTurns < 1) {
        throw new RangeError(`keepTurns must be an integer >= 1, got ${options.keepTurns}`);
      }
      assertTurn(turn);
      await locked('append', storageKey, async () => {
        const turns = await readTurns('append', storageKey);
        if (turn.updateId !== undefined && turns.some((stored) => stored.updateId === turn.updateId)) {
          logger.debug(
            { storage: url, key: storageKey, update: turn.updateId },
            'turn of this update is already stored; not stored again',
          );
          return;
        }
        const kept = [...turns, turn].slice(-options.keepTurns);
        await call('append', storageKey, () => keyv.set(storageKey, encodeValue(kept)));
      });
    },

    async reset(key) {
      const storageKey = conversationKey(namespace, key);
      await locked('reset', storageKey, async () => {
        await call('reset', storageKey, () => keyv.delete(storageKey));
      });
    },

    async hasUpdate(key, updateId) {
      const turns = await load(key);
      return turns.some((turn) => turn.updateId === updateId);
    },

    async drain() {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}
