/** The store contract on memory:// (Keyv's Map). Nothing survives close: each open starts empty. */
import { openConversationStore } from '../../src/memory/open-store.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  backend: 'memory',
  persistent: false,
  async place() {
    const namespace = 'botfleet';
    let map = new Map<string, unknown>();
    const raw = (key: string): string | undefined => {
      const value = map.get(key);
      return typeof value === 'string' ? value : undefined;
    };
    return {
      namespace,
      open: (logger) => {
        map = new Map<string, unknown>();
        return openConversationStore({ storage: { url: 'memory://', namespace }, logger, memoryMap: map });
      },
      readRaw: async (key) => raw(key),
      writeRaw: async (key, value) => {
        map.set(key, value);
      },
      keys: async () => [...map.keys()].filter((key) => key.startsWith(`${namespace}:`)).sort(),
      cleanup: async () => undefined,
    };
  },
});
