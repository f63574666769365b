/**
 * Redis going away and coming back, on a private redis-server this test kills, freezes and
 * restarts (the shared server on 6379 is never touched): calls fail fast with a retryable
 * StoreError instead of hanging or answering with an empty history, and the same store works
 * again once the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConversationStoreHandle, openConversationStore } from '../../src/memory/open-store.js';
import { StoreError } from '../../src/memory/store-error.js';
import { captureLog, LEVEL } from '../support/capture-log.js';
import { type PrivateRedis, privateRedis } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { turn } from './store-contract.js';

const KEY = { botId: 'helper', chatId: 31337 };

async function failure(promise: Promise<unknown>): Promise<StoreError> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(caught instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(caught)}`);
  return caught;
}

/** Appends `n` as soon as the store accepts it again; rethrows anything but a retryable failure. */
async function appendWhenBack(store: ConversationStoreHandle, n: number): Promise<void> {
  await waitFor(
    async () => {
      const outcome = await store.append(KEY, turn(n), { maxTurns: 5 }).then(
        () => 'stored',
        (error: unknown) => error,
      );
      if (outcome === 'stored') return true;
      if (outcome instanceof StoreError && outcome.retryable) return false;
      throw outcome;
    },
    { timeoutMs: 10_000, intervalMs: 50, what: 'the store to accept an append again' },
  );
}

describe('Redis outage', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await privateRedis();
    await redis.start();
  });
  afterAll(async () => {
    await redis.kill();
  });

  it('fails fast while Redis is down, logs it, and recovers without a restart when it is back', async () => {
    const log = captureLog();
    const store = await openConversationStore({
      storage: { url: redis.url, namespace: 'outage' },
      logger: log.logger,
      operationTimeoutMs: 1000,
      reconnectMaxDelayMs: 200,
    });
    try {
      await store.append(KEY, turn(1), { maxTurns: 5 });
      expect(await store.load(KEY)).toEqual([turn(1)]);
      await redis.kill();

      const started = Date.now();
      const loadError = await failure(store.load(KEY));
      expect(loadError).toMatchObject({ kind: 'storage', backend: 'redis', operation: 'load', retryable: true });
      expect(loadError.message).toContain(`storage load of outage:helper:31337 failed on ${redis.url}`);
      expect(await failure(store.append(KEY, turn(2), { maxTurns: 5 }))).toMatchObject({
        operation: 'append',
        retryable: true,
      });
      expect(await failure(store.reset(KEY))).toMatchObject({ operation: 'reset', retryable: true });
      expect(Date.now() - started).toBeLessThan(3000);
      await waitFor(
        () => log.lines().some((line) => line.level === LEVEL.error && line.msg.startsWith('storage error')),
        { what: 'an error log line' },
      );

      await redis.start();
      await appendWhenBack(store, 3);
      // The private server keeps nothing across a restart, so only the new turn is there.
      expect(await store.load(KEY)).toEqual([turn(3)]);
      await waitFor(
        () => log.lines().some((line) => line.level === LEVEL.info && line.msg === 'storage connection restored'),
        { what: 'the recovery log line' },
      );
    } finally {
      await store.close();
    }
  });

  it('gives up on a server that stops answering after operationTimeoutMs, and works once it answers again', async () => {
    const log = captureLog();
    const store = await openConversationStore({
      storage: { url: redis.url, namespace: 'frozen' },
      logger: log.logger,
      operationTimeoutMs: 300,
    });
    try {
      await store.append(KEY, turn(1), { maxTurns: 5 });
      redis.pause();
      const started = Date.now();
      const error = await failure(store.load(KEY)).finally(() => redis.resume());
      expect(Date.now() - started).toBeLessThan(1500);
      expect(error).toMatchObject({ operation: 'load', retryable: true });
      expect(error.message).toContain('no answer within 300 ms');
      await waitFor(async () => (await store.load(KEY)).length === 1, { what: 'a load to work again' });
      expect(await store.load(KEY)).toEqual([turn(1)]);
    } finally {
      await store.close();
    }
  });
});
