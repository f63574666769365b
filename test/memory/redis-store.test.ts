/** The store contract on the real Redis at 127.0.0.1:6379, with a fresh key prefix per test. */
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll } from 'vitest';
import { openConversationStore, openStoreWithKeyv } from '../../src/memory/open-store.js';
import { SHARED_REDIS_URL } from '../support/redis.js';
import { runRoundTripContract } from './round-trip-contract.js';
import { runStoreContract, type StoreFixture } from './store-contract.js';
import { runSummaryContract } from './summary-contract.js';

const client = createClient({ url: SHARED_REDIS_URL });
beforeAll(async () => {
  await client.connect();
});
afterAll(async () => {
  await client.close();
});

const fixture: StoreFixture = {
  backend: 'redis',
  persistent: true,
  async place() {
    const namespace = `bftest-${randomUUID().slice(0, 8)}`;
    const keys = async (): Promise<string[]> => (await client.keys(`${namespace}:*`)).sort();
    const storage = { url: SHARED_REDIS_URL, namespace };
    return {
      namespace,
      storage,
      open: (logger) => openConversationStore({ storage, logger }),
      openWithKeyv: (logger) => openStoreWithKeyv({ storage, logger }),
      readRaw: async (key) => (await client.get(key)) ?? undefined,
      writeRaw: async (key, value) => {
        await client.set(key, value);
      },
      keys,
      cleanup: async () => {
        const left = await keys();
        if (left.length > 0) await client.del(left);
      },
    };
  },
};

runStoreContract(fixture);
runSummaryContract(fixture);
runRoundTripContract(fixture);
