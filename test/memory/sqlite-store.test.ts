/** The store contract on a real SQLite file in a temp folder (a fresh file per test). */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyvSqlite } from '@keyv/sqlite';
import { afterAll, beforeAll } from 'vitest';
import { openConversationStore, openStoreWithKeyv } from '../../src/memory/open-store.js';
import { runRoundTripContract } from './round-trip-contract.js';
import { runStoreContract, type StoreFixture } from './store-contract.js';
import { runSummaryContract } from './summary-contract.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'botfleet-sqlite-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture: StoreFixture = {
  backend: 'sqlite',
  persistent: true,
  async place() {
    // A folder that does not exist yet: opening must create it.
    const file = join(dir, randomUUID(), 'data', 'botfleet.sqlite');
    const namespace = 'botfleet';
    let raw: KeyvSqlite | undefined;
    const direct = (): KeyvSqlite => (raw ??= new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 5000 }));
    const storage = { url: `sqlite://${file}`, namespace };
    return {
      namespace,
      storage,
      open: (logger) => openConversationStore({ storage, logger }),
      openWithKeyv: (logger) => openStoreWithKeyv({ storage, logger }),
      readRaw: (key) => direct().get<string>(key),
      writeRaw: async (key, value) => {
        await direct().set(key, value);
      },
      keys: async () => {
        const rows = (await direct().query(
          'SELECT key FROM keyv WHERE key LIKE ? ORDER BY key',
          `${namespace}:%`,
        )) as Array<{ key: string }>;
        return rows.map((row) => row.key);
      },
      cleanup: async () => {
        await raw?.disconnect();
      },
    };
  },
};

runStoreContract(fixture);
runSummaryContract(fixture);
runRoundTripContract(fixture);
