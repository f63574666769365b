/**
 * Opens botfleet's one memory engine from `storage.url` and proves it works with a round trip
 * (write, read back, delete a probe key) before any bot starts, so an unreachable backend is a
 * clear start-up error instead of a failure on the first message.
 */
import { randomUUID } from 'node:crypto';
import type { StorageConfig } from '../config/types.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_OPERATION_TIMEOUT_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
} from '../defaults.js';
import type { Logger } from '../logger.js';
import { maskUrl } from '../mask.js';
import { type ConversationStore, createKeyvConversationStore } from './conversation-store.js';
import { probeKey } from './keys.js';
import { type Backend, backendOf, openBackend } from './open-backend.js';
import { describeCause, type StoreBackend, StoreError, withDeadline } from './store-error.js';
import { createKeyvUpdateJournal, type UpdateJournal } from './update-journal.js';

/** What openConversationStore needs. */
export interface OpenStoreOptions {
  readonly storage: StorageConfig;
  readonly logger: Logger;
  /** Deadline of one load/append/reset backend call, in ms; past it the call rejects with a
   * retryable StoreError. Default DEFAULT_OPERATION_TIMEOUT_MS. */
  readonly operationTimeoutMs?: number;
  /** Deadline for connecting and the start-up round trip, in ms. Default DEFAULT_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number;
  /** Longest pause between Redis reconnect attempts after a lost connection, in ms. Default
   * DEFAULT_RECONNECT_MAX_DELAY_MS. */
  readonly reconnectMaxDelayMs?: number;
  /** The Map behind memory:// (lets tests see raw values). Default: a new, private Map. */
  readonly memoryMap?: Map<string, unknown>;
}

/** The opened store. */
export interface ConversationStoreHandle extends ConversationStore {
  readonly backend: StoreBackend;
  /** The storage URL with any password masked, for logs and summaries. */
  readonly description: string;
  /** The bots' update offsets and journals in this store (update-journal.ts). */
  readonly updateJournal: UpdateJournal;
  /** The start-up round trip again (write, read back, delete a probe key) within `timeoutMs`;
   * throws StoreError (operation 'ping', retryable) naming the masked URL when it fails. */
  ping(timeoutMs: number): Promise<void>;
  /** Refuses new calls, waits for the calls in flight (each bounded by its deadline), then
   * disconnects. Idempotent; never rejects (a failed disconnect is logged). */
  close(): Promise<void>;
}

/** Opens and probes the store named by `options.storage.url` (creating a SQLite file's folder).
 * Throws StoreError (operation 'open') naming the backend and the masked URL when the scheme is
 * not supported or the backend cannot be reached, written or read. */
export async function openConversationStore(options: OpenStoreOptions): Promise<ConversationStoreHandle> {
  return (await openStoreWithKeyv(options)).store;
}

/** openConversationStore, plus the Keyv behind it for the history tools (history.ts), which
 * enumerate and rewrite raw keys; nothing else should write through `keyv`. Throws likewise. */
export async function openStoreWithKeyv(
  options: OpenStoreOptions,
): Promise<{ readonly store: ConversationStoreHandle; readonly keyv: Backend['keyv'] }> {
  const { storage, logger } = options;
  const url = maskUrl(storage.url);
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  const kind = backendOf(storage.url);
  if (kind === undefined) {
    throw new StoreError(
      { backend: 'unknown', operation: 'open', retryable: false, url },
      `storage.url ${url} is not supported; use sqlite://PATH, redis://…, rediss://… or memory://`,
    );
  }
  const backend = await openProbed(options, kind, url);
  const store = createKeyvConversationStore({
    keyv: backend.keyv,
    namespace: storage.namespace,
    backend: kind,
    url,
    logger,
    operationTimeoutMs,
  });
  const updateJournal = createKeyvUpdateJournal({
    keyv: backend.keyv,
    namespace: storage.namespace,
    backend: kind,
    url,
    operationTimeoutMs,
    // One process per SQLite file (store-lock.ts) or memory:// store; Redis is shared.
    owned: kind !== 'redis',
  });
  let closing: Promise<void> | undefined;
  logger.debug({ storage: url }, 'storage opened');
  const handle: ConversationStoreHandle = {
    backend: kind,
    description: url,
    updateJournal: {
      readOffset: updateJournal.readOffset,
      writeOffset: updateJournal.writeOffset,
      journal: updateJournal.journal,
      readJournal: updateJournal.readJournal,
    },
    load: store.load,
    read: store.read,
    append: store.append,
    markAnswered: store.markAnswered,
    reset: store.reset,
    storeSummary: store.storeSummary,
    claimRefusal: store.claimRefusal,
    async ping(timeoutMs) {
      try {
        await withDeadline(roundTrip(backend, probeKey(storage.namespace, randomUUID())), timeoutMs);
      } catch (error) {
        throw new StoreError(
          { backend: kind, operation: 'ping', retryable: true, url },
          `storage unreachable: ${url} (${describeCause(error, passwordOf(storage.url))})`,
          { cause: error },
        );
      }
    },
    close() {
      closing ??= (async () => {
        await Promise.all([store.drain(), updateJournal.drain()]);
        await disconnectQuietly(backend, operationTimeoutMs, logger, url);
      })();
      return closing;
    },
  };
  return { store: handle, keyv: backend.keyv };
}

/** Connects to the `kind` backend and proves it with a round trip within the connect deadline;
 * its error events are logged from then on. Throws StoreError (operation 'open'). */
async function openProbed(options: OpenStoreOptions, kind: StoreBackend, url: string): Promise<Backend> {
  const { storage, logger } = options;
  const secret = passwordOf(storage.url);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const unreachable = (error: unknown): StoreError =>
    new StoreError(
      { backend: kind, operation: 'open', retryable: false, url },
      `storage unreachable: ${url} (${describeCause(error, secret)}); ${HINTS[kind]}`,
      { cause: error },
    );
  let backend: Backend;
  try {
    backend = await openBackend(storage.url, kind, {
      connectTimeoutMs,
      operationTimeoutMs: options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS,
      ...(options.memoryMap ? { memoryMap: options.memoryMap } : {}),
    });
  } catch (error) {
    throw unreachable(error);
  }
  let opened = false;
  logErrorEvents(backend, logger, url, secret, () => opened);
  try {
    await withDeadline(roundTrip(backend, probeKey(storage.namespace, randomUUID())), connectTimeoutMs);
  } catch (error) {
    await disconnectQuietly(backend, connectTimeoutMs, logger, url);
    throw unreachable(error);
  }
  opened = true;
  backend.markOpened();
  return backend;
}

const HINTS: Record<StoreBackend, string> = {
  sqlite: 'check storage.url and that its folder is writable',
  redis: 'check storage.url and that Redis is running',
  memory: 'this should not happen with memory://',
};

/** Writes, reads back and deletes `key`. Throws when any step fails or the value differs. */
async function roundTrip(backend: Backend, key: string): Promise<void> {
  const token = `probe ${key}`;
  await backend.keyv.set(key, token);
  const back = await backend.keyv.get(key);
  await backend.keyv.delete(key);
  if (back !== token) throw new Error('a value written was not read back');
}

/** Logs the backend's `error` events: the first of a run of identical ones at error level, the
 * repeats (a Redis reconnect loop emits one per attempt) at debug, and the recovery at info.
 * Before the store is opened they are only debug: start-up failures are reported by the throw. */
function logErrorEvents(
  backend: Backend,
  logger: Logger,
  url: string,
  secret: string | undefined,
  isOpened: () => boolean,
): void {
  let last: string | undefined;
  backend.keyv.on('error', (error: unknown) => {
    const reason = describeCause(error, secret);
    if (!isOpened() || reason === last) {
      logger.debug({ storage: url, err: reason }, 'storage error event');
    } else {
      logger.error({ storage: url, err: reason }, `storage error: ${reason}; storage calls fail until it is resolved`);
    }
    if (isOpened()) last = reason;
  });
  backend.onReconnected(() => {
    last = undefined;
    logger.info({ storage: url }, 'storage connection restored');
  });
}

async function disconnectQuietly(backend: Backend, timeoutMs: number, logger: Logger, url: string): Promise<void> {
  try {
    await backend.disconnect(timeoutMs);
  } catch (error) {
    // Handled: closing is the last thing done with the store; a failure cannot be acted on
    // beyond telling the operator, and must not stop the rest of the shutdown.
    logger.warn({ storage: url, err: describeCause(error) }, 'storage did not close cleanly');
  }
}

function passwordOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { password, username } = new URL(url);
  const secret = decodeURIComponent(password || username);
  return secret === '' ? undefined : secret;
}
