/**
 * Builds the Keyv instance for a storage URL: @keyv/sqlite for sqlite://PATH, @keyv/redis for
 * redis:// and rediss://, a Map for memory://. Every Keyv here throws on errors (instead of
 * emitting and returning undefined), adds no key prefix of its own, and stores our JSON text
 * as is (no Keyv envelope), so values read the same in redis-cli and sqlite3.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Deserialize, Keyv, type KeyvOptions, type Serialize } from 'keyv';
import { RECONNECT_BASE_DELAY_MS } from '../defaults.js';
import { type StoreBackend, withDeadline } from './store-error.js';

/** Knobs of openBackend, in ms. */
export interface BackendOptions {
  /** Deadline for connecting (Redis). */
  readonly connectTimeoutMs: number;
  /** Deadline of one storage call; SQLite waits for a lock at most half of it, so a call that
   * timed out has really given up instead of writing later. */
  readonly operationTimeoutMs: number;
  /** Longest pause between two Redis reconnect attempts. */
  readonly reconnectMaxDelayMs: number;
  /** The Map behind memory://. */
  readonly memoryMap?: Map<string, unknown>;
}

/** An opened backend. `keyv` emits `error` events; `onReconnected` fires when a lost Redis
 * connection is back (never for SQLite or memory). */
export interface Backend {
  readonly kind: StoreBackend;
  readonly keyv: Keyv<string>;
  onReconnected(listener: () => void): void;
  /** Starts background reconnection after a connection loss (Redis); before this is called a
   * failed connection attempt is final, so start-up fails fast. */
  markOpened(): void;
  /** Releases the connection or file; bounded by `timeoutMs`, then forced. */
  disconnect(timeoutMs: number): Promise<void>;
}

/** Which backend a URL names, or undefined for an unsupported scheme. */
export function backendOf(url: string): StoreBackend | undefined {
  if (url.startsWith('sqlite://')) return 'sqlite';
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return 'redis';
  if (url.startsWith('memory://')) return 'memory';
  return undefined;
}

// Keyv's envelope ({value, expires}) is dropped: we never use TTLs and want the stored text to
// be our JSON exactly. Keyv's serializer types are generic over the value, hence the casts.
const serialize: Serialize = (data) => (typeof data.value === 'string' ? data.value : JSON.stringify(data.value));
const deserialize: Deserialize = <Value>(text: string) => ({ value: text as unknown as Value });
const KEYV_OPTIONS: KeyvOptions = {
  namespace: '',
  useKeyPrefix: false,
  throwOnErrors: true,
  emitErrors: true,
  serialize,
  deserialize,
};

/** Opens the backend for `url` without checking it works (the caller probes). Connects to
 * Redis, creates the SQLite folder. Throws the driver's error when that fails. */
export async function openBackend(url: string, kind: StoreBackend, options: BackendOptions): Promise<Backend> {
  switch (kind) {
    case 'sqlite':
      return openSqlite(url, options);
    case 'redis':
      return openRedis(url, options);
    case 'memory': {
      const keyv = new Keyv<string>({ ...KEYV_OPTIONS, store: options.memoryMap ?? new Map<string, unknown>() });
      return {
        kind,
        keyv,
        onReconnected: () => undefined,
        markOpened: () => undefined,
        disconnect: async () => undefined,
      };
    }
  }
}

async function openSqlite(url: string, options: BackendOptions): Promise<Backend> {
  const path = url.slice('sqlite://'.length);
  await mkdir(dirname(path), { recursive: true });
  // Each driver is loaded only when the config asks for it: a SQLite fleet never pays for
  // the Redis client's memory and start-up time, nor the reverse.
  const { KeyvSqlite } = await import('@keyv/sqlite');
  const store = new KeyvSqlite({
    uri: `sqlite://${path}`,
    busyTimeout: Math.max(1, Math.floor(options.operationTimeoutMs / 2)),
  });
  const keyv = new Keyv<string>({ ...KEYV_OPTIONS, store });
  // Write-ahead logging: an operator's `sqlite3` reading the file never blocks the bots, and a
  // write costs one sync instead of several (NORMAL is still safe against corruption in WAL).
  await store.query('PRAGMA journal_mode=WAL');
  await store.query('PRAGMA synchronous=NORMAL');
  return {
    kind: 'sqlite',
    keyv,
    onReconnected: () => undefined,
    markOpened: () => undefined,
    disconnect: (timeoutMs) => withDeadline(store.disconnect(), timeoutMs),
  };
}

async function openRedis(url: string, options: BackendOptions): Promise<Backend> {
  let opened = false;
  const { default: KeyvRedis, createClient } = await import('@keyv/redis');
  const client = createClient({
    url,
    // Fail fast while disconnected instead of queueing commands until the server is back:
    // the caller gets a retryable error at once and the user is asked to try again.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      // Before start-up succeeded, the first failure is final (a clear start-up error). After,
      // reconnect forever with exponential backoff from RECONNECT_BASE_DELAY_MS, capped.
      reconnectStrategy: (retries: number, cause: Error) =>
        opened ? Math.min(RECONNECT_BASE_DELAY_MS * 2 ** retries, options.reconnectMaxDelayMs) : cause,
    },
  });
  const store = new KeyvRedis(client, { throwOnErrors: true, throwOnConnectError: true });
  const keyv = new Keyv<string>({ ...KEYV_OPTIONS, store });
  const listeners: Array<() => void> = [];
  let lost = false;
  client.on('error', () => (lost = opened));
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    for (const listener of listeners) listener();
  });
  try {
    await withDeadline(client.connect(), options.connectTimeoutMs);
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw error;
  }
  return {
    kind: 'redis',
    keyv,
    onReconnected: (listener) => listeners.push(listener),
    markOpened: () => (opened = true),
    disconnect: async (timeoutMs) => {
      if (!client.isOpen) return;
      try {
        await withDeadline(client.close(), timeoutMs);
      } catch (error) {
        // A server that does not answer cannot be closed politely; drop the socket instead so
        // shutdown finishes. Pending commands are rejected, which their callers report.
        client.destroy();
        throw error;
      }
    },
  };
}
