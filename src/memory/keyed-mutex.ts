/**
 * One lock per key, in process. Calls for the same key run one at a time in call order (FIFO);
 * calls for different keys never wait on each other. A key's entry is deleted as soon as its
 * last call finishes, so the map holds only keys with work in flight.
 */

/** A set of per-key locks. */
export interface KeyedMutex {
  /** Runs `task` once every earlier task for `key` has settled; resolves or rejects as it does.
   * A task that throws releases the lock like one that returns. */
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

/** Makes an empty KeyedMutex. */
export function createKeyedMutex(): KeyedMutex {
  // The tail of each key's chain: settles when the last task queued for the key has settled.
  // Tails only ever resolve, so a failed task never poisons the tasks queued behind it.
  const tails = new Map<string, Promise<void>>();
  return {
    async run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      let release: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => done);
      tails.set(key, tail);
      await previous;
      try {
        return await task();
      } finally {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
