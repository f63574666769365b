/** The store contract on memory:// (Keyv's Map). Nothing survives close: each open of the
 * config starts empty. Each place hands its stores one Map, so raw reads see their data. */
import { openConversationStore, openStoreWithKeyv } from '../../src/memory/open-store.js';
import { runRoundTripContract } from './round-trip-contract.js';
import { runStoreContract, type StoreFixture } from './store-contract.js';
import { runSummaryContract } from './summary-contract.js';

const fixture: StoreFixture = {
  backend: 'memory',
  persistent: false,
  async place() {
    const namespace = 'botfleet';
    const map = new Map<string, unknown>();
    const storage = { url: 'memory://', namespace };
    const raw = (key: string): string | undefined => {
      const value = map.get(key);
      return typeof value === 'string' ? value : undefined;
    };
    return {
      namespace,
      storage,
      open: (logger) => openConversationStore({ storage, logger, memoryMap: map }),
      openWithKeyv: (logger) => openStoreWithKeyv({ storage, logger, memoryMap: map }),
      readRaw: async (key) => raw(key),
      writeRaw: async (key, value) => {
        map.set(key, value);
      },
      keys: async () => [...map.keys()].filter((key) => key.startsWith(`${namespace}:`)).sort(),
      cleanup: async () => undefined,
    };
  },
};

runStoreContract(fixture);
runSummaryContract(fixture);
runRoundTripContract(fixture);
